import { expect } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import type { MarketRecord, OrderbookRecord } from "../../src/records/types.ts";
import { BinanceReplay } from "../../src/venues/binance/sim-replay.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator } from "../../src/replay/simulator.ts";
import { recordingsSource, type RecordingSource } from "../../src/replay/source.ts";
import { IngestRunner } from "../../src/venues/ingest.ts";
import { RECORDINGS_DIR, recordingTest } from "../support/recordings.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Regression: replay loops used to continue the update-id chain from the recording's last diff
 * into its first, so the engine kept the end-of-recording book and applied the start's diffs on
 * top: stale levels stayed and Binance books crossed from the second loop on. Each loop now
 * ends with a bridge diff back to the recorded snapshot (src/venues/binance/sim-replay.ts). Here the
 * real IngestRunner runs against the simulator for several loops and every stored book is
 * checked against the book rebuilt from the recording itself, with no resync anywhere.
 */

const DEPTH = 10;
const LOOPS = 3;

type Venue = "binance_spot" | "binance_derivatives";
type Level = readonly [string, string];

interface Expected {
  readonly bids: Level[];
  readonly asks: Level[];
  /** Recorded event time of the diff; undefined for the book a loop's bridge diff leaves. */
  readonly E: number | undefined;
}

function top(side: Map<string, string>, descending: boolean): Level[] {
  return [...side].sort((x, y) => (descending ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0]))).slice(0, DEPTH);
}

function applyLevels(side: Map<string, string>, levels: readonly Level[]): void {
  for (const [p, q] of levels) if (Number(q) === 0) side.delete(p); else side.set(p, q);
}

/**
 * The recording's own books, independent of the simulator: per native symbol, the top levels
 * after every diff from the bridging one on, keyed by the diff's recorded `u` (Binance's rules:
 * spot drops u <= lastUpdateId and bridges U <= lastUpdateId+1 <= u; USDⓈ-M drops
 * u < lastUpdateId and bridges U <= lastUpdateId <= u), plus the snapshot's own top levels under
 * the id a loop's closing bridge diff ends on (spot: the first applied diff's U - 1, USDⓈ-M: its pu).
 */
function recordedBooks(source: RecordingSource, file: string, futures: boolean): Map<string, Map<number, Expected>> {
  const snapshots = new Map<string, { id: number; bids: Level[]; asks: Level[] }>();
  const diffs = new Map<string, { U: number; u: number; pu: number; E: number; b: Level[]; a: Level[] }[]>();
  for (const line of source.read(file)) {
    const msg = JSON.parse(line.raw);
    if (line.source === "http") {
      const symbol = new URL(line.url).searchParams.get("symbol") ?? "";
      snapshots.set(symbol, { id: msg.lastUpdateId, bids: msg.bids, asks: msg.asks });
    } else if (msg.data?.e === "depthUpdate") {
      const d = msg.data;
      const list = diffs.get(d.s) ?? [];
      list.push({ U: d.U, u: d.u, pu: d.pu, E: d.E, b: d.b, a: d.a });
      diffs.set(d.s, list);
    }
  }
  const out = new Map<string, Map<number, Expected>>();
  for (const [symbol, snap] of snapshots) {
    const bids = new Map(snap.bids.map(([p, q]) => [p, q] as [string, string]));
    const asks = new Map(snap.asks.map(([p, q]) => [p, q] as [string, string]));
    const books = new Map<number, Expected>();
    let bridged = false;
    for (const d of diffs.get(symbol) ?? []) {
      if (!bridged) {
        if (futures ? d.u < snap.id : d.u <= snap.id) continue;
        const bridges = futures ? d.U <= snap.id && snap.id <= d.u : d.U <= snap.id + 1 && snap.id + 1 <= d.u;
        if (!bridges) throw new Error(`${file} ${symbol}: recording does not bridge at u=${d.u}`);
        bridged = true;
        books.set(futures ? d.pu : d.U - 1, { bids: top(bids, true), asks: top(asks, false), E: undefined });
      }
      applyLevels(bids, d.b);
      applyLevels(asks, d.a);
      books.set(d.u, { bids: top(bids, true), asks: top(asks, false), E: d.E });
    }
    out.set(symbol, books);
  }
  return out;
}

/** The replay loop whose shifted ids contain `id`, and the recorded `u` it stands for. */
function loopOf(replay: BinanceReplay, native: string, books: Map<number, Expected>, id: number, max: number): [number, number] | undefined {
  for (let loop = 0; loop <= max; loop++) {
    const u = id - replay.shifts(native, loop).update;
    if (books.has(u)) return [loop, u];
  }
  return undefined;
}

/** Runs the real IngestRunner against the simulator until every symbol's books span LOOPS loop boundaries. */
async function runLoops(source: RecordingSource, venue: Venue, rate: number, start_ms: number): Promise<{ records: MarketRecord[]; natives: Map<string, string> }> {
  const futures = venue === "binance_derivatives";
  const replay = new BinanceReplay(source.read(`${venue}.jsonl`), futures, start_ms);
  const expected = recordedBooks(source, `${venue}.jsonl`, futures);
  const sim = await startSimulator({ source, rate, synthetic_interval_ms: 60_000, ping_interval_ms: 0, start_ms });
  const config = configWith(replayVenueOverrides(sim));
  const records: MarketRecord[] = [];
  const runner = new IngestRunner({
    venue,
    config: { ...config.venues[venue], data_types: ["orderbook"] },
    symbols: config.venues[venue].symbols,
    orderbook: { depth: DEPTH, snapshot_interval_ms: 0, snapshot_limit: 1000 },
    emit: (r) => records.push(r),
    tuning: { backoff: { initial_ms: 10, max_ms: 50 } },
  });
  const natives = new Map<string, string>();
  try {
    await runner.start();
    for (const h of runner.normalizer?.bookHealth() ?? []) natives.set(h.symbol, h.native);
    const loopOfRecord = (r: MarketRecord): number => {
      if (r.data_type !== "orderbook") return -1;
      const native = natives.get(r.symbol) ?? "";
      return loopOf(replay, native, expected.get(native) ?? new Map(), r.last_update_id, 1000)?.[0] ?? -1;
    };
    const reached = (): boolean => {
      const first = new Map<string, number>();
      const latest = new Map<string, MarketRecord>();
      for (const r of records) {
        if (!first.has(r.symbol)) first.set(r.symbol, loopOfRecord(r));
        latest.set(r.symbol, r);
      }
      if (latest.size < natives.size) return false;
      return [...latest].every(([symbol, r]) => loopOfRecord(r) >= (first.get(symbol) ?? 0) + LOOPS);
    };
    await waitFor(`books of every symbol across ${LOOPS} loops`, reached, 12_000);
    expect(sim.violations.rules()).toEqual({});
  } finally {
    await runner.stop();
    await sim.stop();
  }
  return { records, natives };
}

/** Checks every record against the recording and returns, per symbol, the loop of each book in emission order. */
function checkBooks(source: RecordingSource, venue: Venue, records: MarketRecord[], natives: Map<string, string>, start_ms: number): Map<string, number[]> {
  const futures = venue === "binance_derivatives";
  const file = `${venue}.jsonl`;
  const replay = new BinanceReplay(source.read(file), futures, start_ms);
  const expected = recordedBooks(source, file, futures);
  const timeline = new Map<string, number[]>();
  const timeOffset = new Map<string, number>();
  // No resync anywhere: a loop boundary continues the chain.
  expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
  for (const r of records) {
    expect(r.data_type).toBe("orderbook");
    const book = r as OrderbookRecord;
    const line = timeline.get(book.symbol) ?? [];
    timeline.set(book.symbol, line);
    expect(Number(book.best_bid_price)).toBeLessThan(Number(book.best_ask_price));
    const native = natives.get(book.symbol) ?? "";
    const books = expected.get(native) ?? new Map<number, Expected>();
    const found = loopOf(replay, native, books, book.last_update_id, 1000);
    if (!found) throw new Error(`${venue} ${book.symbol}: last_update_id ${book.last_update_id} is no recorded diff of any loop`);
    const [loop, u] = found;
    const want = books.get(u);
    expect({ symbol: book.symbol, u, bids: book.bids, asks: book.asks }).toEqual({ symbol: book.symbol, u, bids: want?.bids ?? [], asks: want?.asks ?? [] });
    expect([book.best_bid_price, book.best_bid_quantity, book.best_ask_price, book.best_ask_quantity]).toEqual([
      want?.bids[0]?.[0] ?? "", want?.bids[0]?.[1] ?? "", want?.asks[0]?.[0] ?? "", want?.asks[0]?.[1] ?? "",
    ]);
    if (want?.E !== undefined) {
      // Event times move by whole loops: one constant offset from the recording per venue.
      const offset = book.ts_ms - want.E - (replay.shifts(native, loop).time - replay.shifts(native, 0).time);
      if (!timeOffset.has(venue)) timeOffset.set(venue, offset);
      expect(offset).toBe(timeOffset.get(venue) ?? offset);
    }
    line.push(loop);
  }
  return timeline;
}

for (const [kind, venue, rate] of [
  ["recorded", "binance_spot", 1000],
  ["recorded", "binance_derivatives", 5000],
  ["recorded", "binance_spot", 0],
  ["recorded", "binance_derivatives", 0],
] as const) {
  // The generator has no loops (it renders step after step): test/replay/live-generator.test.ts checks its books.
  recordingTest(`${venue} at ${rate === 0 ? "the maximum rate" : `${rate} frames/s`}: every book over ${LOOPS} loops of the ${kind} data equals the data's own, with no resync`, async () => {
    const source = recordingsSource(RECORDINGS_DIR);
    const start_ms = Date.now();
    const { records, natives } = await runLoops(source, venue, rate, start_ms);
    const timeline = checkBooks(source, venue, records, natives, start_ms);
    expect(timeline.size).toBe(natives.size);
    for (const [symbol, line] of timeline) {
      // Books from every loop after the first sync (loop 0 when paced; at the maximum rate the
      // stream may be loops ahead by then), in loop order: one unbroken book across the boundaries.
      const first = line[0] ?? -1;
      if (rate > 0) expect({ symbol, first }).toEqual({ symbol, first: 0 });
      expect({ symbol, ordered: line.every((loop, i) => i === 0 || loop >= (line[i - 1] ?? 0)) }).toEqual({ symbol, ordered: true });
      const last = line[line.length - 1] ?? -1;
      expect(last - first).toBeGreaterThanOrEqual(LOOPS);
      expect({ symbol, loops: [...new Set(line)] }).toEqual({ symbol, loops: Array.from({ length: last - first + 1 }, (_, k) => first + k) });
    }
  }, 15_000);
}
