import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { VENUE_KEYS, type VenueKey } from "../config/venue-keys.ts";
import type { MarketRecord } from "../records/types.ts";
import { recordedFrame } from "../replay/recorded-frame.ts";
import { isRecordedLine } from "../replay/recording.ts";
import { loadInstrumentFile, loadReferenceInstruments } from "../venues/instruments.ts";
import { parseJson } from "../venues/normalizer-stats.ts";
import { getVenue } from "../venues/registry.ts";
import type { InstrumentMap, RawFrame } from "../venues/types.ts";
import { helpText, usageLine, wantsHelp, type CommandHelp } from "./help.ts";

/**
 * `bun run normalize --venue <key> --input FILE [--instruments FILE] [--depth N] [--interval-ms MS] [--deltas]`
 *
 * Reads capture lines `{source,url,recv_ts,raw}` (WS frames and REST bodies, as in
 * fixtures/exchanges and `--record` output), runs them through the venue's engine normalizer
 * and prints one normalized record per line (JSON) on stdout, then one summary line on stderr.
 * Every symbol found in the input is kept, and every data type the venue offers. Books are
 * printed on every update by default (`--interval-ms 0`), 100 levels deep like the engine.
 * Exit 0 unless the input or the instrument metadata cannot be read (exit 2).
 */

const DEFAULT_FIXTURES = join(import.meta.dir, "../../../shared/fixtures/exchanges");
/** Records per stdout write: one syscall per batch, not per line. */
const WRITE_BATCH = 512;

export const NORMALIZE_HELP: CommandHelp = {
  usage: "bun run normalize --venue KEY --input FILE [--instruments FILE] [--depth N] [--interval-ms MS] [--deltas]",
  about: "Runs capture lines ({source,url,recv_ts,raw}: WS frames and REST bodies, as --record writes them) through the venue's normalizer and prints one normalized record per line (JSON) on stdout, then a summary line on stderr. Keeps every symbol in the input and every data type the venue offers.",
  flags: [
    ["--venue KEY", `one of ${VENUE_KEYS.join(", ")}`],
    ["--input FILE", "the capture lines to normalize"],
    ["--instruments FILE", "the venue's instrument metadata (default: the reference files of ../shared/fixtures/exchanges)"],
    ["--depth N", "levels per side in book records (default 100)"],
    ["--interval-ms MS", "ms between book records per symbol by exchange time (default 0: every update)"],
    ["--deltas", "also print orderbook_delta rows (every book change, a row per level), where the venue has them"],
    ["--help, -h", "this text"],
  ],
  exits: [
    [0, "every line was read (bad frames are counted in the summary, not fatal)"],
    [2, "bad arguments, or the input or the instrument metadata cannot be read"],
  ],
};

function fail(message: string): never {
  process.stderr.write(`normalize: ${message}\n${usageLine(NORMALIZE_HELP)}\n`);
  process.exit(2);
}

function isVenueKey(v: string): v is VenueKey {
  return (VENUE_KEYS as readonly string[]).includes(v);
}

function nonNegativeInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return n;
}

function main(argv: string[]): void {
  if (wantsHelp(argv)) {
    process.stdout.write(helpText(NORMALIZE_HELP));
    return;
  }
  let values: Record<string, string | undefined>;
  let deltas: boolean;
  try {
    const parsed = parseArgs({
      args: argv,
      options: {
        venue: { type: "string" },
        input: { type: "string" },
        instruments: { type: "string" },
        depth: { type: "string" },
        "interval-ms": { type: "string" },
        deltas: { type: "boolean" },
      },
    }).values;
    const { deltas: wanted, ...strings } = parsed;
    deltas = wanted === true;
    values = strings;
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  const venue = values.venue;
  if (venue === undefined || !isVenueKey(venue)) fail(`--venue must be one of ${VENUE_KEYS.join(", ")}`);
  if (values.input === undefined) fail("--input FILE is required");
  let text: string;
  try {
    text = readFileSync(values.input, "utf8");
  } catch (e) {
    fail(`cannot read input ${values.input}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let instruments: InstrumentMap | undefined;
  try {
    instruments =
      values.instruments !== undefined
        ? loadInstrumentFile(venue, values.instruments)
        : existsSync(DEFAULT_FIXTURES)
          ? loadReferenceInstruments(venue, DEFAULT_FIXTURES)
          : undefined;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    fail(`cannot read instrument metadata: ${why}`);
  }
  if (instruments === undefined)
    fail(`no instrument metadata: pass --instruments FILE (no reference files under ${DEFAULT_FIXTURES})`);

  const definition = getVenue(venue);
  let out: string[] = [];
  const emit = (r: MarketRecord): void => {
    out.push(JSON.stringify(r));
    if (out.length >= WRITE_BATCH) {
      process.stdout.write(`${out.join("\n")}\n`);
      out = [];
    }
  };
  const normalizer = definition.createNormalizer({
    symbols: [],
    // Book deltas are a row per changed level: asked for with --deltas, not by default.
    data_types: deltas ? definition.data_types : definition.data_types.filter((t) => t !== "orderbook_delta"),
    depth: nonNegativeInt(values.depth, "depth", 100),
    snapshot_interval_ms: nonNegativeInt(values["interval-ms"], "interval-ms", 0),
    instruments,
    emit,
  });
  let badLines = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const frame = captureFrame(line);
    if (frame === undefined) badLines++;
    else normalizer.push(frame);
  }
  if (out.length > 0) process.stdout.write(`${out.join("\n")}\n`);
  const s = normalizer.stats;
  process.stderr.write(
    `${JSON.stringify({
      venue,
      frames: s.frames,
      records: s.records,
      ignored: s.ignored,
      absorbed: s.absorbed,
      unrecognized: s.unrecognized,
      errors: s.errors + badLines,
      bad_lines: badLines,
      bad_by_channel: s.bad_by_channel,
      books: normalizer.bookHealth(),
    })}\n`,
  );
}

/** One capture line; `recv_ts` is seconds (float), as the fixtures and `--record` write it. */
function captureFrame(line: string): RawFrame | undefined {
  const j = parseJson(line);
  return isRecordedLine(j) ? recordedFrame(j) : undefined;
}

if (import.meta.main) main(process.argv.slice(2));
