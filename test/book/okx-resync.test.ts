import { describe, expect, test } from "bun:test";
import type { OrderbookRecord } from "../../src/records/types.ts";
import type { RawFrame } from "../../src/venues/types.ts";
import { OkxBookSync } from "../../src/venues/okx/book-sync.ts";
import { docInstruments, harness, ofType, recording } from "../venues/capture.ts";
import { recordingDescribe } from "../support/recordings.ts";

/**
 * OKX book violations: a corrupted checksum or a dropped update (detected by the next
 * checksum, the 2022 stream having no seqId) or a seqId break each cause exactly one gap and
 * one resubscribe request; the book stays silent until a new snapshot and then matches the
 * untouched stream.
 */

const FULL_DEPTH = 1000;
const WS = "wss://ws.okx.com:8443/ws/v5/public";

function bookUpdates(frames: readonly RawFrame[], instId: string): number[] {
  const out: number[] = [];
  frames.forEach((f, i) => {
    if (f.raw.startsWith(`{"arg":{"channel":"books","instId":"${instId}"},"action":"update"`)) out.push(i);
  });
  return out;
}

function records(frames: readonly RawFrame[]): { recs: OrderbookRecord[]; all: ReturnType<typeof harness> } {
  const h = harness("okx_spot", { depth: FULL_DEPTH });
  for (const f of frames) h.normalizer.push(f);
  return { recs: ofType(h.records, "orderbook"), all: h };
}

/** A snapshot message holding `book` (what a resubscribe would bring), checksum 0 = unchecked. */
function snapshotFrame(book: OrderbookRecord, recv: number): RawFrame {
  const lv = (l: readonly [string, string]) => [l[0], l[1], "0", "1"];
  const raw = JSON.stringify({
    arg: { channel: "books", instId: "BTC-USDT" },
    action: "snapshot",
    data: [{ asks: book.asks.map(lv), bids: book.bids.map(lv), ts: String(book.ts_ms), checksum: 0 }],
  });
  return { source: "ws", url: WS, recv_ts_ms: recv, raw };
}

recordingDescribe("OKX resync after a checksum or sequence break", () => {
  for (const fault of ["corrupt checksum", "drop update"] as const) {
    test(`${fault} -> one checksum_mismatch gap, one resubscribe, silence until the next snapshot, then the fresh book`, () => {
      const frames = recording("okx");
      const idx = bookUpdates(frames, "BTC-USDT");
      const hit = idx[30]!;
      const detectedAt = fault === "drop update" ? idx[31]! : hit;
      const resumeAt = idx[40]!;
      const reference = records(frames).recs;
      const byTs = new Map(reference.map((r) => [r.ts_ms, r]));
      const fresh = reference.find((r) => r.ts_ms === JSON.parse(frames[resumeAt]!.raw).data[0].ts * 1)!;
      const broken: RawFrame[] = [];
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i]!;
        if (i === hit && fault === "drop update") continue;
        if (i === hit) broken.push({ ...f, raw: f.raw.replace(/"checksum":-?\d+/, '"checksum":12345') });
        else broken.push(f);
        if (i === resumeAt) broken.push(snapshotFrame(fresh, f.recv_ts_ms));
      }
      const h = harness("okx_spot", { depth: FULL_DEPTH });
      const resubscribes: string[] = [];
      for (const f of broken) {
        h.normalizer.push(f);
        resubscribes.push(...h.normalizer.takeResubscribeRequests());
      }
      const detectedTs = Number(JSON.parse(frames[detectedAt]!.raw).data[0].ts);
      const lastGoodTs = Number(JSON.parse(frames[idx[29]!]!.raw).data[0].ts);
      expect(ofType(h.records, "gap")).toEqual([
        {
          data_type: "gap",
          exchange: "okx",
          market_type: "spot",
          symbol: "BTC-USDT",
          ts_ms: detectedTs,
          recv_ts_ms: frames[detectedAt]!.recv_ts_ms,
          data_type_affected: "orderbook",
          start_ts_ms: lastGoodTs,
          end_ts_ms: detectedTs,
          cause: "checksum_mismatch",
          recovered_records: 0,
          recovered_at_ms: 0,
        },
      ]);
      expect(resubscribes).toEqual(["BTC-USDT"]);
      const books = ofType(h.records, "orderbook");
      // No record between the break and the new snapshot.
      expect(books.filter((r) => r.ts_ms >= detectedTs && r.ts_ms < fresh.ts_ms)).toEqual([]);
      const after = books.filter((r) => r.ts_ms >= fresh.ts_ms);
      expect(after.length).toBe(reference.filter((r) => r.ts_ms >= fresh.ts_ms).length);
      for (const r of after) expect([r.bids, r.asks]).toEqual([byTs.get(r.ts_ms)!.bids, byTs.get(r.ts_ms)!.asks]);
      expect(h.normalizer.bookHealth()[0]).toMatchObject({ state: "live", resyncs: 1, checksum_failures: 1, sequence_gaps: 0 });
    });
  }
});

describe("OKX seqId chain (current OKX format, checksum 0)", () => {
  const frame = (action: string, seqId: number, prevSeqId: number, bids: string[][], asks: string[][], ts: number): RawFrame => ({
    source: "ws",
    url: WS,
    recv_ts_ms: ts + 5,
    raw: JSON.stringify({
      arg: { channel: "books", instId: "BTC-USDT" },
      action,
      data: [{ asks, bids, ts: String(ts), checksum: 0, seqId, prevSeqId }],
    }),
  });

  test("follows prevSeqId, accepts heartbeats, breaks on a missing seqId with one sequence_gap", () => {
    const h = harness("okx_spot", { depth: 5, instruments: docInstruments("okx_spot") });
    h.normalizer.push(frame("snapshot", 10, -1, [["100", "1", "0", "1"]], [["101", "2", "0", "1"]], 1000));
    h.normalizer.push(frame("update", 11, 10, [["100.5", "3", "0", "1"]], [], 1100));
    h.normalizer.push(frame("update", 11, 11, [], [], 1200));
    h.normalizer.push(frame("update", 14, 13, [["99", "1", "0", "1"]], [], 1300));
    h.normalizer.push(frame("update", 15, 14, [["98", "1", "0", "1"]], [], 1400));
    expect(h.records.map((r) => (r.data_type === "orderbook" ? `book:${r.last_update_id}` : `${r.data_type}:${"cause" in r ? r.cause : ""}`))).toEqual([
      "book:10",
      "book:11",
      "book:11",
      "gap:sequence_gap",
    ]);
    expect(h.normalizer.takeResubscribeRequests()).toEqual(["BTC-USDT"]);
    expect(h.normalizer.takeResubscribeRequests()).toEqual([]);
    h.normalizer.push(frame("snapshot", 20, -1, [["99", "1", "0", "1"]], [["101", "2", "0", "1"]], 1500));
    const last = ofType(h.records, "orderbook").at(-1)!;
    expect([last.last_update_id, last.bids, last.asks]).toEqual([20, [["99", "1"]], [["101", "2"]]]);
    expect(h.normalizer.bookHealth()[0]).toMatchObject({ state: "live", resyncs: 1, sequence_gaps: 1, checksum_failures: 0 });
  });
});

describe("OKX checksums at a record cadence (orderbook once a second)", () => {
  type Lv = [string, string, string, string];
  interface Push {
    readonly action: string;
    readonly bids: Lv[];
    readonly asks: Lv[];
    readonly ts: number;
    readonly checksum: number;
  }
  /**
   * Pushes of one instrument without seqId (as the 2022 stream), each with the checksum of the
   * book it leaves: a snapshot at 1000, then an update every 100 ms to 2000 setting the best
   * bid's size (1100: 2 ... 2000: 11), except 1500, which adds a bid at 99.5 no later push touches.
   */
  function pushes(): Push[] {
    const ref = new OkxBookSync("BTC-USDT", "BTC-USDT", "okx", "spot");
    const bids: Lv[] = [["100", "1", "0", "1"], ["99", "1", "0", "1"]];
    const asks: Lv[] = [["101", "2", "0", "1"], ["102", "2", "0", "1"]];
    ref.snapshot(bids, asks, -1, 0, 1000);
    const out: Push[] = [{ action: "snapshot", bids, asks, ts: 1000, checksum: ref.checksum() }];
    for (let i = 1; i <= 10; i++) {
      const ts = 1000 + i * 100;
      const b: Lv[] = [ts === 1500 ? ["99.5", "1", "0", "1"] : ["100", String(1 + i), "0", "1"]];
      ref.update(b, [], -1, -1, 0, ts);
      out.push({ action: "update", bids: b, asks: [], ts, checksum: ref.checksum() });
    }
    return out;
  }
  const frame = (p: Push): RawFrame => ({
    source: "ws",
    url: WS,
    recv_ts_ms: p.ts + 5,
    raw: JSON.stringify({ arg: { channel: "books", instId: "BTC-USDT" }, action: p.action, data: [{ asks: p.asks, bids: p.bids, ts: String(p.ts), checksum: p.checksum }] }),
  });
  const run = (list: readonly Push[], deltas = false) => {
    const data_types = deltas ? (["orderbook", "orderbook_delta"] as const) : (["orderbook"] as const);
    const h = harness("okx_spot", { depth: 5, instruments: docInstruments("okx_spot"), snapshot_interval_ms: 1000, data_types: [...data_types] });
    for (const p of list) h.normalizer.push(frame(p));
    return h;
  };
  const gapsOf = (h: ReturnType<typeof run>) => ofType(h.records, "gap").map((g) => [g.cause, g.start_ts_ms, g.end_ts_ms]);
  const lost = (ts: number) => pushes().filter((p) => p.ts !== ts);
  const wrongChecksum = (ts: number) => pushes().map((p) => (p.ts === ts ? { ...p, checksum: 12345 } : p));

  test("an intact stream makes a record at 1000 and at 2000", () => {
    const h = run(pushes());
    expect(ofType(h.records, "orderbook").map((r) => [r.ts_ms, r.bids.slice(0, 2)])).toEqual([
      [1000, [["100", "1"], ["99", "1"]]],
      [2000, [["100", "11"], ["99.5", "1"]]],
    ]);
    expect(gapsOf(h)).toEqual([]);
  });

  test("an update lost between records shows at the next record's checksum: a gap from the last checked push, no record from the wrong book, a resubscribe", () => {
    const h = run(lost(1500));
    expect(ofType(h.records, "orderbook").map((r) => r.ts_ms)).toEqual([1000]);
    expect(gapsOf(h)).toEqual([["checksum_mismatch", 1000, 2000]]);
    expect(h.normalizer.bookHealth()[0]).toMatchObject({ state: "stale", checksum_failures: 1 });
    expect(h.normalizer.takeResubscribeRequests()).toEqual(["BTC-USDT"]);
  });

  test("a wrong checksum on an update no record is made from is not checked: the book is right and the 2000 record is made", () => {
    const h = run(wrongChecksum(1300));
    expect(gapsOf(h)).toEqual([]);
    expect(ofType(h.records, "orderbook").map((r) => r.ts_ms)).toEqual([1000, 2000]);
  });

  test("with orderbook_delta every update's checksum is checked, so the first wrong one ends the gap", () => {
    expect(gapsOf(run(lost(1500), true))).toEqual([["checksum_mismatch", 1400, 1600]]);
    expect(gapsOf(run(wrongChecksum(1300), true))).toEqual([["checksum_mismatch", 1200, 1300]]);
  });
});
