import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { isRecordedLine, type RecordedLine } from "./recording.ts";

/**
 * `--replay DIR` on a capture: every `*.jsonl` in DIR and its subfolders, whatever the file
 * names (`--record` writes `<venue>-<worker>.jsonl`; the fixtures `binance_spot.jsonl`,
 * `reference/okx_instruments.jsonl`). Each line goes to the venue whose `claims(url)` accepts it:
 * instrument metadata bodies to the venue's reference file, everything else (WS frames, depth
 * snapshots) to its recording file, in receive order. The simulated servers read those names.
 */

/** What the capture reader needs of a venue (VenueDefinition's fields of the same names). */
export interface CaptureVenue {
  claims(url: string): boolean;
  readonly recording_file: string;
  readonly instruments: { readonly paths: readonly string[]; readonly reference_file: string };
}

/** A line no venue claims: its file (relative to DIR) and 1-based line number. */
export interface UnclaimedLine {
  readonly file: string;
  readonly line: number;
  readonly url: string;
}

export interface Capture {
  /** Lines per simulator file name (`okx.jsonl`, `reference/okx_instruments.jsonl`), sorted by `recv_ts`. */
  readonly files: ReadonlyMap<string, RecordedLine[]>;
  readonly unclaimed: readonly UnclaimedLine[];
  /** How many `*.jsonl` files were read. */
  readonly read_files: number;
}

/** The `*.jsonl` files under `dir`, depth first, in name order. */
function jsonlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...jsonlFiles(path));
    else if (entry.isFile() && entry.name.endsWith(".jsonl")) out.push(path);
  }
  return out;
}

/** The last path segment of a REST path (`exchangeInfo`, `instruments`, `get_instruments`): metadata on any API version or host. */
const lastSegment = (path: string): string => path.split("?")[0]!.replace(/\/+$/, "").split("/").pop()!;

function isMetadata(venue: CaptureVenue, line: RecordedLine): boolean {
  if (line.source !== "http") return false;
  const segment = lastSegment(new URL(line.url).pathname);
  return venue.instruments.paths.some((p) => lastSegment(p) === segment);
}

/** Reads and assigns every line under `dir`; a line that is not `{source,url,recv_ts,raw}` is an error naming file and line. */
export function readCapture(dir: string, venues: readonly CaptureVenue[]): Capture {
  const files = new Map<string, RecordedLine[]>();
  const unclaimed: UnclaimedLine[] = [];
  const paths = jsonlFiles(dir);
  for (const path of paths) {
    const file = relative(dir, path);
    let n = 0;
    for (const text of readFileSync(path, "utf8").split("\n")) {
      n++;
      if (text.trim() === "") continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new Error(`${path}:${n}: not JSON (${(err as Error).message})`);
      }
      if (!isRecordedLine(parsed)) throw new Error(`${path}:${n}: not a recording line ({source,url,recv_ts,raw})`);
      const venue = venues.find((v) => v.claims(parsed.url));
      if (venue === undefined) {
        unclaimed.push({ file, line: n, url: parsed.url });
        continue;
      }
      const target = isMetadata(venue, parsed) ? `reference/${venue.instruments.reference_file}` : venue.recording_file;
      let lines = files.get(target);
      if (lines === undefined) files.set(target, (lines = []));
      lines.push(parsed);
    }
  }
  // Several workers' files of one venue interleave by receive time; the sort is stable, so one file's order stays.
  for (const lines of files.values()) lines.sort((a, b) => a.recv_ts - b.recv_ts);
  return { files, unclaimed, read_files: paths.length };
}

/** One message for the log: how many lines no venue claims, with the first few places. */
export function unclaimedMessage(unclaimed: readonly UnclaimedLine[], shown = 5): string {
  const places = unclaimed.slice(0, shown).map((u) => `${u.file}:${u.line} (${u.url})`);
  const more = unclaimed.length > shown ? `, and ${unclaimed.length - shown} more` : "";
  return `${unclaimed.length} capture line(s) claimed by no venue, not replayed: ${places.join(", ")}${more}`;
}
