import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Reads one recording file in the fixture line format (`{source,url,recv_ts,raw}`, one JSON object per
 * line; see fixtures/exchanges/README.md section 2). The same format is what `--record` writes.
 */

export interface RecordedLine {
  readonly source: "ws" | "http";
  readonly url: string;
  /** Seconds since the epoch, as recorded. */
  readonly recv_ts: number;
  readonly raw: string;
}

/** `../shared/fixtures/exchanges` beside the checkout (the repo root is two levels above this file). */
export function defaultRecordingsDir(): string {
  return resolve(import.meta.dir, "../../../shared/fixtures/exchanges");
}

export class RecordingsMissingError extends Error {
  constructor(readonly path: string) {
    super(`replay recordings not found at ${path} (expected a folder of *.jsonl captures, such as fixtures/exchanges or what --record wrote)`);
    this.name = "RecordingsMissingError";
  }
}

export function isRecordedLine(value: unknown): value is RecordedLine {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.source === "ws" || v.source === "http") && typeof v.url === "string" && typeof v.recv_ts === "number" && typeof v.raw === "string";
}

/** Every line of `dir/file`; a missing directory is an error naming it, a missing file gives []. */
export function readRecording(dir: string, file: string): RecordedLine[] {
  if (!existsSync(dir)) throw new RecordingsMissingError(dir);
  const path = join(dir, file);
  if (!existsSync(path)) return [];
  const lines: RecordedLine[] = [];
  let n = 0;
  for (const text of readFileSync(path, "utf8").split("\n")) {
    n++;
    if (text.trim() === "") continue;
    const parsed: unknown = JSON.parse(text);
    if (!isRecordedLine(parsed)) throw new Error(`${path}:${n}: not a recording line ({source,url,recv_ts,raw})`);
    lines.push(parsed);
  }
  return lines;
}
