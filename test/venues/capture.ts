import { basename, dirname, join } from "node:path";
import type { VenueKey } from "../../src/config/schema.ts";
import type { DataType, MarketRecord } from "../../src/records/types.ts";
import { recordedFrame } from "../../src/replay/recorded-frame.ts";
import { readRecording } from "../../src/replay/recording.ts";
import { loadInstrumentFile, loadReferenceInstruments } from "../../src/venues/instruments.ts";
import { getVenue } from "../../src/venues/registry.ts";
import type { InstrumentMap, Normalizer, RawFrame } from "../../src/venues/types.ts";
import { HAVE_RECORDINGS, RECORDINGS_DIR } from "../support/recordings.ts";

/**
 * Test support: the shared recordings and the documented-shape fixtures under `fixtures/`,
 * read as frames, and normalizers over them. Tests that read the recordings go through
 * test/support/recordings.ts, which skips them when the folder is absent.
 */

export const FIXTURES_DIR = RECORDINGS_DIR;
export const DOC_FIXTURES_DIR = join(import.meta.dir, "fixtures");

function requireFixtures(): void {
  if (!HAVE_RECORDINGS) throw new Error(`exchange recordings not found at ${FIXTURES_DIR} (expected ../shared/fixtures/exchanges beside the checkout)`);
}

/** Frames of a capture file (`{source,url,recv_ts,raw}` per line). */
export function readFrames(file: string): RawFrame[] {
  return readRecording(dirname(file), basename(file)).map(recordedFrame);
}

export function recording(name: "binance_spot" | "binance_derivatives" | "okx" | "deribit"): RawFrame[] {
  requireFixtures();
  return readFrames(join(FIXTURES_DIR, `${name}.jsonl`));
}

export function docFixture(name: string): RawFrame[] {
  return readFrames(join(DOC_FIXTURES_DIR, name));
}

/**
 * Metadata for the instruments the documented-shape fixtures and the bad-input cases name
 * (BTCUSDT, BTC-USDT, BTC-USDT-SWAP, IOST-USDT-SWAP, Deribit BTC and ETH), from small REST
 * bodies under `fixtures/instruments/`, so those tests need no recordings.
 */
export function docInstruments(venue: VenueKey): InstrumentMap {
  return loadInstrumentFile(venue, join(DOC_FIXTURES_DIR, "instruments", DOC_INSTRUMENT_FILES[venue]));
}

const DOC_INSTRUMENT_FILES: Record<VenueKey, string> = {
  binance_spot: "binance_spot.jsonl",
  binance_derivatives: "binance_derivatives.jsonl",
  okx_spot: "okx.jsonl",
  okx_derivatives: "okx.jsonl",
  deribit_derivatives: "deribit.jsonl",
};

const instrumentCache = new Map<VenueKey, InstrumentMap>();

/** The recorded reference metadata (recording tests only). */
export function instruments(venue: VenueKey): InstrumentMap {
  requireFixtures();
  let m = instrumentCache.get(venue);
  if (m === undefined) {
    m = loadReferenceInstruments(venue, FIXTURES_DIR);
    if (m === undefined) throw new Error(`reference instruments for ${venue} missing under ${FIXTURES_DIR}/reference`);
    instrumentCache.set(venue, m);
  }
  return m;
}

export interface Harness {
  readonly normalizer: Normalizer;
  readonly records: MarketRecord[];
}

export function harness(
  venue: VenueKey,
  opts: { symbols?: string[]; data_types?: DataType[]; depth?: number; snapshot_interval_ms?: number; instruments?: InstrumentMap } = {},
): Harness {
  const records: MarketRecord[] = [];
  const def = getVenue(venue);
  const normalizer = def.createNormalizer({
    symbols: opts.symbols ?? [],
    // Book deltas only when a test asks for them: a row per changed level would swamp the others' counts.
    data_types: opts.data_types ?? def.data_types.filter((t) => t !== "orderbook_delta"),
    depth: opts.depth ?? 100,
    snapshot_interval_ms: opts.snapshot_interval_ms ?? 0,
    instruments: opts.instruments ?? instruments(venue),
    emit: (r) => records.push(r),
  });
  return { normalizer, records };
}

export function run(venue: VenueKey, frames: readonly RawFrame[], opts: Parameters<typeof harness>[1] = {}): Harness {
  const h = harness(venue, opts);
  for (const f of frames) h.normalizer.push(f);
  return h;
}

export function ofType<T extends MarketRecord["data_type"]>(records: readonly MarketRecord[], t: T): Extract<MarketRecord, { data_type: T }>[] {
  return records.filter((r): r is Extract<MarketRecord, { data_type: T }> => r.data_type === t);
}

/** The `stream` suffix (`depth@100ms`, `aggTrade`) or OKX `arg.channel` of a WS frame. */
export function channelOf(frame: RawFrame): string {
  const j = JSON.parse(frame.raw) as { stream?: string; arg?: { channel?: string }; event?: string; params?: { channel?: string } };
  if (j.stream !== undefined) return j.stream.slice(j.stream.indexOf("@") + 1);
  if (j.event !== undefined) return `event:${j.event}`;
  if (j.arg?.channel !== undefined) return j.arg.channel;
  if (j.params?.channel !== undefined) return j.params.channel.split(".")[0] ?? "";
  return "other";
}
