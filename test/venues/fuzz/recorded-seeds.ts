import { existsSync } from "node:fs";
import type { VenueKey } from "../../../src/config/schema.ts";
import { recordedFrame } from "../../../src/replay/recorded-frame.ts";
import { defaultRecordingsDir, readRecording } from "../../../src/replay/recording.ts";
import { loadReferenceInstruments } from "../../../src/venues/instruments.ts";
import type { FuzzSeed } from "./seeds.ts";

/** Seeds from the real 2021-22 recordings in ../shared/fixtures/exchanges, with their reference instruments. */

const FILES: readonly (readonly [VenueKey, string])[] = [
  ["binance_spot", "binance_spot.jsonl"],
  ["binance_derivatives", "binance_derivatives.jsonl"],
  ["okx_spot", "okx.jsonl"],
  ["okx_derivatives", "okx.jsonl"],
  ["deribit_derivatives", "deribit.jsonl"],
];

export const RECORDINGS_DIR = defaultRecordingsDir();

/** The recorded seeds, or undefined when the folder is absent (a fresh clone has no ../shared). */
export function recordedSeeds(): FuzzSeed[] | undefined {
  if (!existsSync(RECORDINGS_DIR)) return undefined;
  const out: FuzzSeed[] = [];
  for (const [venue, file] of FILES) {
    const instruments = loadReferenceInstruments(venue, RECORDINGS_DIR);
    const frames = readRecording(RECORDINGS_DIR, file).map(recordedFrame);
    if (instruments === undefined || frames.length === 0) continue;
    out.push({ venue, origin: `${file} (${venue})`, instruments, symbols: [], frames });
  }
  return out;
}
