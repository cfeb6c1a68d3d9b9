import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { configWith } from "../../src/config/load.ts";
import type { MarketRecord, OrderbookRecord } from "../../src/records/types.ts";
import { BinanceReplay } from "../../src/replay/binance-replay.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { readRecording } from "../../src/replay/recording.ts";
import { startSimulator } from "../../src/replay/simulator.ts";
import { IngestRunner } from "../../src/venues/ingest.ts";

/**
 * Regression: replay loops used to continue the update-id chain from the recording's last diff
 * into its first, so the engine kept the end-of-recording book and applied the start's diffs on
 * top: stale levels stayed and Binance books crossed from the second loop on. Here the real
 * IngestRunner runs against the simulator for several loops and every stored book is checked
 * against the book rebuilt from the recording itself.
 */

const DIR = join(import.meta.dir, "../../../shared/fixtures/exchanges");
const DEPTH = 10;
const LOOPS = 3;

type Venue = "binance_spot" | "binance_derivatives";
type Level = readonly [string, string];

interface Expected {
  readonly bids: Level[];
  readonly asks: Level[];
  /** Recorded event time of the diff. */
  readonly E: number;
}

function requireRecordings(): void {
  if (!existsSync(DIR)) throw new Error(`exchange recordings folder missing: ${DIR}`);
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
 * u < lastUpdateId and bridges U <= lastUpdateId <= u).
 */
function recordedBooks(file: string, futures: boolean): Map<string, Map<number, Expected>> {
  const snapshots = new Map<string, { id: number; bids: Level[]; asks: Level[] }>();
  const diffs = new Map<string, { U: number; u: number; E: number; b: Level[]; a: Level[] }[]>();
  for (const line of readRecording(DIR, file)) {
    const msg = JSON.parse(line.raw);
    if (line.source === "http") {
      const symbol = new URL(line.url).searchParams.get("symbol") ?? "";
      snapshots.set(symbol, { id: msg.lastUpdateId, bids: msg.bids, asks: msg.asks });
    } else if (msg.data?.e === "depthUpdate") {
      const d = msg.data;
      const list = diffs.get(d.s) ?? [];
      list.push({ U: d.U, u: d.u, E: d.E, b: d.b, a: d.a });
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

async function runLoops(venue: Venue, rate: number): Promise<{ records: MarketRecord[]; natives: Map<string, string> }> {
  const sim = await startSimulator({ dir: DIR, rate, synthetic_interval_ms: 60_000, binance_ping_interval_ms: 0 });
  const config = configWith(replayVenueOverrides(sim));
  const records: MarketRecord[] = [];
  const runner = new IngestRunner({
    venue,
    config: { ...config.venues[venue], data_types: ["orderbook"] },
    symbols: config.venues[venue].symbols,
    orderbook: { depth: DEPTH, snapshot_interval_ms: 0 },
    emit: (r) => records.push(r),
    tuning: { backoff: { initial_ms: 10, max_ms: 50 } },
  });
  const natives = new Map<string, string>();
  try {
    await runner.start();
    const symbols = sim.symbols[venue].length;
    const until = performance.now() + 12_000;
    const gapsPerSymbol = (): number[] => {
      const counts = new Map<string, number>();
      for (const r of records) if (r.data_type === "gap") counts.set(r.symbol, (counts.get(r.symbol) ?? 0) + 1);
      return [...counts.values()];
    };
    // LOOPS boundaries crossed by every symbol, plus books after the last one.
    while (performance.now() < until) {
      const gaps = gapsPerSymbol();
      if (gaps.length === symbols && gaps.every((n) => n >= LOOPS + 1)) break;
      await Bun.sleep(5);
    }
    for (const h of runner.normalizer?.bookHealth() ?? []) natives.set(h.symbol, h.native);
  } finally {
    await runner.stop();
    await sim.stop();
  }
  return { records, natives };
}

/**
 * Checks every orderbook record against the recording and returns, per symbol, the loop of
 * each record with a `-1` for each gap record, in emission order.
 */
function checkBooks(venue: Venue, records: MarketRecord[], natives: Map<string, string>): Map<string, number[]> {
  const futures = venue === "binance_derivatives";
  const file = `${venue}.jsonl`;
  const replay = new BinanceReplay(readRecording(DIR, file), futures, 0);
  const expected = recordedBooks(file, futures);
  const timeline = new Map<string, number[]>();
  const timeOffset = new Map<string, number>();
  for (const r of records) {
    const line = timeline.get(r.symbol) ?? [];
    timeline.set(r.symbol, line);
    if (r.data_type === "gap") {
      expect({ symbol: r.symbol, affected: r.data_type_affected, cause: r.cause }).toEqual({ symbol: r.symbol, affected: "orderbook", cause: "sequence_gap" });
      line.push(-1);
      continue;
    }
    expect(r.data_type).toBe("orderbook");
    const book = r as OrderbookRecord;
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
    // Event times move by whole loops: one constant offset from the recording per venue.
    const offset = book.ts_ms - (want?.E ?? 0) - (replay.shifts(native, loop).time - replay.shifts(native, 0).time);
    if (!timeOffset.has(venue)) timeOffset.set(venue, offset);
    expect(offset).toBe(timeOffset.get(venue) ?? offset);
    line.push(loop);
  }
  return timeline;
}

/** Splits a symbol's timeline at its gaps: the distinct loops of the books between two gaps. */
function segments(line: number[]): number[][] {
  const out: number[][] = [[]];
  for (const x of line) {
    if (x < 0) out.push([]);
    else {
      const seg = out[out.length - 1] ?? [];
      if (!seg.includes(x)) seg.push(x);
    }
  }
  return out;
}

for (const venue of ["binance_spot", "binance_derivatives"] as const) {
  test(`${venue}: every book over ${LOOPS} replay loops equals the recording's, with one resync gap per symbol per loop boundary`, async () => {
    requireRecordings();
    // Paced so a REST round trip takes far less than one loop (spot loop ~0.27 s, USDⓈ-M ~0.3 s):
    // each boundary then finds the book live, and each costs exactly one resync.
    const { records, natives } = await runLoops(venue, venue === "binance_spot" ? 1000 : 5000);
    const timeline = checkBooks(venue, records, natives);
    expect(timeline.size).toBe(natives.size);
    for (const [symbol, line] of timeline) {
      const segs = segments(line);
      // Segment k holds only loop k's books: a gap at each boundary, none anywhere else.
      const loops = segs.map((s, k) => (s.length === 0 && k === segs.length - 1 ? [k] : s));
      expect({ symbol, loops }).toEqual({ symbol, loops: loops.map((_, k) => [k]) });
      expect(segs.length).toBeGreaterThanOrEqual(LOOPS + 1);
    }
  }, 15_000);
}

for (const venue of ["binance_spot", "binance_derivatives"] as const) {
  test(`${venue} at the maximum rate: books never cross and never carry a loop boundary without a resync gap`, async () => {
    requireRecordings();
    const { records, natives } = await runLoops(venue, 0);
    const timeline = checkBooks(venue, records, natives);
    expect(timeline.size).toBe(natives.size);
    for (const [symbol, line] of timeline) {
      const segs = segments(line).filter((s) => s.length > 0);
      // A resync may span several loops when the stream outruns the REST round trip, but the
      // books between two gaps always come from one loop, and loops only move forward.
      for (const s of segs) expect({ symbol, loops: s.length }).toEqual({ symbol, loops: 1 });
      const order = segs.map((s) => s[0] ?? 0);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(new Set(order).size).toBe(order.length);
      expect(Math.max(...order)).toBeGreaterThanOrEqual(LOOPS);
    }
  }, 15_000);
}
