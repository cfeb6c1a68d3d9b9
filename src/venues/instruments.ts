import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { VenueKey } from "../config/schema.ts";
import type { CaptureWriter } from "../replay/capture.ts";
import type { RestClient } from "./connection/rest-client.ts";
import { isObject, parseJson } from "./normalizer-stats.ts";
import { getVenue } from "./registry.ts";
import type { Instrument, InstrumentMap } from "./types.ts";

/**
 * Instrument metadata loaders (SPEC section 1: symbols come from base/quote assets, never from
 * guessing quote suffixes). The engine fetches each venue's `instruments.paths` at start
 * (`fetchInstruments`); tests and the normalize CLI read the recorded bodies in
 * `fixtures/exchanges/reference/`. Each venue folder parses its own bodies.
 */

/**
 * Start does not wait out a long block (a 418 ban lasts up to 3 days): past this the worker
 * fails naming the block, and its restarts find the block in the venue's shared budget and
 * send nothing until it ends.
 */
const INSTRUMENTS_MAX_BLOCK_MS = 60_000;

export class InstrumentFetchError extends Error {}

/**
 * Fetches the venue's instrument metadata over `rest` (relative to `rest_url`), records each
 * body when capturing, and parses them. Throws `InstrumentFetchError` when a request fails.
 */
export async function fetchInstruments(venue: VenueKey, rest: RestClient, rest_url: string, record?: CaptureWriter): Promise<InstrumentMap> {
  const bodies: string[] = [];
  for (const path of getVenue(venue).instruments.paths) {
    const url = `${rest_url}${path}`;
    const result = await rest.get(url, "other", INSTRUMENTS_MAX_BLOCK_MS);
    if (!result.ok) throw new InstrumentFetchError(`${venue}: instrument metadata ${url} failed: ${result.status} ${result.error}`);
    record?.write("http", url, result.recv_ts_ms, result.body);
    bodies.push(result.body);
  }
  return parseInstrumentBodies(venue, bodies);
}

/**
 * Builds the instrument map from REST bodies (raw response texts). Instruments a venue does
 * not collect are left out, so frames about them are counted as ignored. Throws
 * `InstrumentError` when a body is not metadata at all.
 */
export function parseInstrumentBodies(venue: VenueKey, bodies: readonly string[]): InstrumentMap {
  const { instruments } = getVenue(venue);
  const out = new Map<string, Instrument>();
  for (const body of bodies) instruments.add(parseJson(body), out);
  return out;
}

/**
 * Reads instrument bodies from a file in the capture line format (`{source,url,recv_ts,raw}`
 * per line) or holding one raw REST body.
 */
export function loadInstrumentFile(venue: VenueKey, file: string): InstrumentMap {
  const text = readFileSync(file, "utf8");
  const bodies: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const json = parseJson(line);
    if (isObject(json) && typeof json.raw === "string") bodies.push(json.raw);
    else bodies.push(line);
  }
  return parseInstrumentBodies(venue, bodies);
}

/** The recorded metadata in `<fixturesDir>/reference/`, or undefined when the file is absent. */
export function loadReferenceInstruments(venue: VenueKey, fixturesDir: string): InstrumentMap | undefined {
  const file = join(fixturesDir, "reference", getVenue(venue).instruments.reference_file);
  return existsSync(file) ? loadInstrumentFile(venue, file) : undefined;
}
