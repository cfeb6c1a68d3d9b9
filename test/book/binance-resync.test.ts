import { expect, test } from "bun:test";
import type { OrderbookRecord } from "../../src/records/types.ts";
import { NO_REQUESTS, type RawFrame } from "../../src/venues/types.ts";
import { harness, ofType, recording } from "../venues/capture.ts";
import { recordingDescribe } from "../support/recordings.ts";

/**
 * Chain violations on Binance books: one dropped or two swapped diffs must cause exactly one
 * gap record and one snapshot request, no book records until a new snapshot, and after that
 * snapshot the book must equal the one rebuilt from the untouched stream.
 */

const FULL_DEPTH = 5000;

interface Case {
  readonly venue: "binance_spot" | "binance_derivatives";
  readonly native: string;
  readonly symbol: string;
}

const CASES: Case[] = [
  { venue: "binance_spot", native: "NKNUSDT", symbol: "NKN-USDT" },
  { venue: "binance_derivatives", native: "SUSHIUSDT", symbol: "SUSHI-USDT" },
];

function depthIndexes(frames: readonly RawFrame[], native: string): number[] {
  const stream = `${native.toLowerCase()}@depth@100ms`;
  const out: number[] = [];
  frames.forEach((f, i) => {
    if (f.source === "ws" && f.raw.startsWith(`{"stream":"${stream}"`)) out.push(i);
  });
  return out;
}

function diffIds(frame: RawFrame): { E: number; u: number } {
  return (JSON.parse(frame.raw) as { data: { E: number; u: number } }).data;
}

/** The book of the untouched stream right after frame `upTo`, as a REST snapshot body frame. */
function freshSnapshot(c: Case, frames: readonly RawFrame[], upTo: number): { frame: RawFrame; record: OrderbookRecord } {
  const ref = harness(c.venue, { depth: FULL_DEPTH });
  for (let i = 0; i <= upTo; i++) ref.normalizer.push(frames[i]!);
  const last = ofType(ref.records, "orderbook").filter((r) => r.symbol === c.symbol).at(-1)!;
  const body = JSON.stringify({ lastUpdateId: last.last_update_id, bids: last.bids, asks: last.asks });
  const path = c.venue === "binance_spot" ? "https://api.binance.com/api/v3/depth" : "https://fapi.binance.com/fapi/v1/depth";
  return {
    frame: { source: "http", url: `${path}?symbol=${c.native}&limit=1000`, recv_ts_ms: frames[upTo]!.recv_ts_ms, raw: body },
    record: last,
  };
}

function bookRecords(venue: Case["venue"], frames: readonly RawFrame[], symbol: string): OrderbookRecord[] {
  const h = harness(venue, { depth: FULL_DEPTH });
  for (const f of frames) h.normalizer.push(f);
  return ofType(h.records, "orderbook").filter((r) => r.symbol === symbol);
}

recordingDescribe("Binance resync after a broken diff chain", () => {
  for (const c of CASES) {
    for (const fault of ["drop", "swap"] as const) {
      test(`${c.venue}: ${fault === "drop" ? "one dropped diff" : "two swapped diffs"} -> one gap, one snapshot request, then the fresh book`, () => {
        const frames = recording(c.venue);
        const idx = depthIndexes(frames, c.native);
        // Well after bridging: the 40th and 41st diffs of the symbol.
        const a = idx[40]!;
        const b = idx[41]!;
        const resumeAt = idx[45]!;
        const fresh = freshSnapshot(c, frames, resumeAt);
        const broken: RawFrame[] = [];
        for (let i = 0; i < frames.length; i++) {
          if (fault === "drop" && i === a) continue;
          if (fault === "swap" && i === a) broken.push(frames[b]!);
          else if (fault === "swap" && i === b) broken.push(frames[a]!);
          else broken.push(frames[i]!);
          if (i === resumeAt) broken.push(fresh.frame);
        }
        const h = harness(c.venue, { depth: FULL_DEPTH });
        const requests: string[] = [];
        let recordsWhileStale = 0;
        let stale = false;
        for (const f of broken) {
          const before = h.records.length;
          h.normalizer.push(f);
          for (const r of h.records.slice(before)) {
            if (r.data_type === "gap") stale = true;
            else if (r.data_type === "orderbook" && r.symbol === c.symbol && stale && f.source === "ws") recordsWhileStale++;
          }
          if (f.source === "http") stale = false;
          requests.push(...h.normalizer.takeSnapshotRequests());
        }
        const gaps = ofType(h.records, "gap");
        // Dropped: diff b no longer follows; swapped: b arrives first and breaks the chain.
        const breaker = diffIds(frames[b]!);
        const lastGood = diffIds(frames[idx[39]!]!);
        expect(gaps).toEqual([
          {
            data_type: "gap",
            exchange: "binance",
            market_type: c.venue === "binance_spot" ? "spot" : "perpetual",
            symbol: c.symbol,
            ts_ms: breaker.E,
            recv_ts_ms: frames[b]!.recv_ts_ms,
            data_type_affected: "orderbook",
            start_ts_ms: lastGood.E,
            end_ts_ms: breaker.E,
            cause: "sequence_gap",
            recovered_records: 0,
            recovered_at_ms: 0,
          },
        ]);
        // Initial sync asked once per symbol; the break asked once more for this symbol only.
        expect(requests.filter((s) => s === c.native).length).toBe(2);
        expect(recordsWhileStale).toBe(0);
        const health = h.normalizer.bookHealth().find((x) => x.native === c.native)!;
        expect([health.state, health.resyncs, health.sequence_gaps]).toEqual(["live", 1, 1]);
        // Every record after the resync equals the untouched stream's record for the same update.
        const reference = new Map(bookRecords(c.venue, frames, c.symbol).map((r) => [r.last_update_id, r]));
        const resynced = ofType(h.records, "orderbook").filter((r) => r.symbol === c.symbol && r.last_update_id >= fresh.record.last_update_id);
        expect(resynced.length).toBeGreaterThan(50);
        for (const r of resynced) expect([r.bids, r.asks]).toEqual([reference.get(r.last_update_id)!.bids, reference.get(r.last_update_id)!.asks]);
      });
    }
  }

  test("connectionLost restarts every chain and asks for every snapshot again", () => {
    const h = harness("binance_derivatives");
    for (const f of recording("binance_derivatives")) h.normalizer.push(f);
    h.normalizer.takeSnapshotRequests();
    // Asked after every frame: with nothing wanted it hands back the shared empty list.
    expect(h.normalizer.takeSnapshotRequests()).toBe(NO_REQUESTS);
    h.normalizer.connectionLost(1626992772000);
    expect([...h.normalizer.takeSnapshotRequests()].sort()).toEqual(["AKROUSDT", "CTKUSDT", "KEEPUSDT", "SUSHIUSDT"]);
    expect(h.normalizer.bookHealth().map((x) => x.state)).toEqual(["stale", "stale", "stale", "stale"]);
  });
});
