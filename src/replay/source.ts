import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { SimAsset } from "./generated-book.ts";
import { DEFAULT_GENERATED_SYMBOLS, generatedAssets, generatedFiles } from "./generator.ts";
import { VENUES } from "../venues/registry.ts";
import { readCapture, type UnclaimedLine } from "./capture-source.ts";
import { defaultRecordingsDir, RecordingsMissingError, type RecordedLine } from "./recording.ts";

/**
 * Where the simulator's data comes from: a capture folder (the fixtures, or what `--record`
 * wrote; any `*.jsonl` names, lines assigned to venues by URL: capture-source.ts) or the
 * built-in generator, which stands in for the same files. `--replay` takes ../shared/fixtures/exchanges when it exists and the generator
 * otherwise; `--replay DIR` takes DIR; `--generate` forces the generator.
 */
export interface RecordingSource {
  /** `recordings <dir>` or `generator (<n> symbols per venue)`, for logs and `bun run simulate`. */
  readonly description: string;
  /** The lines of one fixture file (`okx.jsonl`, `reference/okx_instruments.jsonl`); [] when absent. */
  read(file: string): RecordedLine[];
  /**
   * The generator only: its assets, whose markets each venue's simulated server builds and
   * renders step by step as it serves them (live-feed.ts) instead of looping `read`'s recording.
   */
  readonly assets?: readonly SimAsset[];
  /** A capture's lines that no venue claims (not replayed), with file and line. */
  readonly unclaimed?: readonly UnclaimedLine[];
}

export function recordingsSource(dir: string): RecordingSource {
  const path = resolve(dir);
  if (!existsSync(path)) throw new RecordingsMissingError(path);
  const capture = readCapture(path, Object.values(VENUES));
  return {
    description: `recordings ${path} (${capture.read_files} files)`,
    read: (file) => capture.files.get(file) ?? [],
    unclaimed: capture.unclaimed,
  };
}

export function generatorSource(symbols = DEFAULT_GENERATED_SYMBOLS): RecordingSource {
  if (!Number.isInteger(symbols) || symbols < 1) throw new RangeError(`generated symbols per venue must be a positive integer, got ${symbols}`);
  const files = generatedFiles(symbols);
  const cache = new Map<string, RecordedLine[]>();
  return {
    description: `generator (${symbols} symbols per venue)`,
    assets: generatedAssets(symbols),
    read(file) {
      let lines = cache.get(file);
      if (lines === undefined) {
        lines = files.get(file)?.() ?? [];
        cache.set(file, lines);
      }
      return lines;
    },
  };
}

/** What `--replay [DIR] [--generate]` replays: DIR, else the generator when asked or when the shared recordings are absent. */
export function replaySource(dir: string | null, generate: boolean, symbols?: number): RecordingSource {
  if (generate) return generatorSource(symbols);
  if (dir !== null) return recordingsSource(dir);
  return existsSync(defaultRecordingsDir()) ? recordingsSource(defaultRecordingsDir()) : generatorSource(symbols);
}
