import { expect, test } from "bun:test";
import type { BookSide, OrderbookDeltaRecord } from "../../src/records/types.ts";
import type { RawFrame } from "../../src/venues/types.ts";
import { docInstruments, harness, ofType } from "../venues/capture.ts";

/**
 * orderbook_delta rows: after every (re)sync the whole synced book (is_snapshot), then each
 * applied change as it arrived, and nothing for what a book does not apply (buffered, dropped,
 * chain-breaking diffs; pushes after a sequence break until the next snapshot).
 */

type Row = readonly [is_snapshot: boolean, side: BookSide, price: string, amount: string, update_id: number, ts_ms: number];

function rows(records: readonly OrderbookDeltaRecord[]): Row[] {
  return records.map((r) => [r.is_snapshot, r.side, r.price, r.amount, r.update_id, r.ts_ms] as const);
}

const RECV = 1_700_000_000_000;

function binanceDiff(U: number, u: number, E: number, b: string[][], a: string[][]): RawFrame {
  const data = { e: "depthUpdate", E, s: "BTCUSDT", U, u, b, a };
  return { source: "ws", url: "wss://stream.binance.com:9443/stream", recv_ts_ms: E + 5, raw: JSON.stringify({ stream: "btcusdt@depth@100ms", data }) };
}

function binanceSnapshot(lastUpdateId: number, bids: string[][], asks: string[][], recv: number): RawFrame {
  return { source: "http", url: "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000", recv_ts_ms: recv, raw: JSON.stringify({ lastUpdateId, bids, asks }) };
}

test("Binance: the book bridged from a snapshot, then each applied diff; a broken chain emits nothing until the next sync's book", () => {
  const h = harness("binance_spot", { data_types: ["orderbook", "orderbook_delta"], instruments: docInstruments("binance_spot"), snapshot_interval_ms: 1000 });
  const push = (f: RawFrame) => h.normalizer.push(f);
  // Buffered before the snapshot: 99..100 is covered by it and dropped, 101..102 bridges.
  push(binanceDiff(99, 100, RECV + 100, [["100.00", "9.0"]], []));
  push(binanceDiff(101, 102, RECV + 200, [["100.00", "3.0"]], [["102.00", "5.0"]]));
  expect(ofType(h.records, "orderbook_delta")).toEqual([]);
  push(binanceSnapshot(100, [["100.00", "1.0"], ["99.00", "2.0"]], [["101.00", "1.0"]], RECV + 250));
  push(binanceDiff(103, 104, RECV + 300, [["99.00", "0.00"], ["98.50", "4.0"]], [["101.00", "0"]]));
  // 105 is missing: the chain breaks, the book is stale and this diff is not applied.
  push(binanceDiff(106, 107, RECV + 400, [["97.00", "1.0"]], []));
  expect(ofType(h.records, "gap").map((g) => g.cause)).toEqual(["sequence_gap"]);
  // The resync: a fresh snapshot at 107, bridged by 108..108.
  push(binanceSnapshot(107, [["98.50", "4.0"], ["97.00", "1.0"]], [["102.00", "5.0"]], RECV + 500));
  push(binanceDiff(108, 108, RECV + 600, [], [["103.00", "2.5"]]));
  push(binanceDiff(109, 109, RECV + 700, [["98.50", "0.0"]], []));
  expect(rows(ofType(h.records, "orderbook_delta"))).toEqual([
    // Synced: the snapshot with the bridging diff 101..102 applied, at that diff's id and time.
    [true, "bid", "100.00", "3.0", 102, RECV + 200],
    [true, "bid", "99.00", "2.0", 102, RECV + 200],
    [true, "ask", "101.00", "1.0", 102, RECV + 200],
    [true, "ask", "102.00", "5.0", 102, RECV + 200],
    // A change as it arrived, deletes included.
    [false, "bid", "99.00", "0.00", 104, RECV + 300],
    [false, "bid", "98.50", "4.0", 104, RECV + 300],
    [false, "ask", "101.00", "0", 104, RECV + 300],
    // Resynced.
    [true, "bid", "98.50", "4.0", 108, RECV + 600],
    [true, "bid", "97.00", "1.0", 108, RECV + 600],
    [true, "ask", "102.00", "5.0", 108, RECV + 600],
    [true, "ask", "103.00", "2.5", 108, RECV + 600],
    [false, "bid", "98.50", "0.0", 109, RECV + 700],
  ]);
  const first = ofType(h.records, "orderbook_delta")[0];
  expect(first).toMatchObject({ exchange: "binance", market_type: "spot", symbol: "BTC-USDT", recv_ts_ms: RECV + 205 });
});

test("Binance: a venue that does not collect orderbook_delta makes no rows from the same book", () => {
  const h = harness("binance_spot", { data_types: ["orderbook"], instruments: docInstruments("binance_spot") });
  h.normalizer.push(binanceSnapshot(100, [["100.00", "1.0"]], [["101.00", "1.0"]], RECV));
  h.normalizer.push(binanceDiff(101, 102, RECV + 100, [["100.00", "3.0"]], []));
  expect(ofType(h.records, "orderbook").length).toBe(1);
  expect(ofType(h.records, "orderbook_delta")).toEqual([]);
});

function okxBook(action: "snapshot" | "update", seqId: number, prevSeqId: number, ts: number, bids: string[][], asks: string[][]): RawFrame {
  const level = (l: string[]) => [l[0], l[1], "0", "1"];
  const data = [{ asks: asks.map(level), bids: bids.map(level), ts: String(ts), checksum: 0, seqId, prevSeqId }];
  return { source: "ws", url: "wss://ws.okx.com:8443/ws/v5/public", recv_ts_ms: ts + 3, raw: JSON.stringify({ arg: { channel: "books", instId: "BTC-USDT-SWAP" }, action, data }) };
}

test("OKX: each snapshot push is the synced book, each update that chains is a change; a sequence break emits nothing until the next snapshot", () => {
  const h = harness("okx_derivatives", { data_types: ["orderbook", "orderbook_delta"], instruments: docInstruments("okx_derivatives") });
  const push = (f: RawFrame) => h.normalizer.push(f);
  push(okxBook("snapshot", 10, -1, RECV, [["100.1", "1"], ["100", "2"]], [["100.2", "3"]]));
  push(okxBook("update", 11, 10, RECV + 100, [["100.1", "0"]], [["100.3", "1"]]));
  // prevSeqId 12 does not follow 11: a break; this push and the next are not applied.
  push(okxBook("update", 13, 12, RECV + 200, [["99", "5"]], []));
  push(okxBook("update", 14, 13, RECV + 300, [["98", "5"]], []));
  expect(ofType(h.records, "gap").map((g) => g.cause)).toEqual(["sequence_gap"]);
  push(okxBook("snapshot", 20, -1, RECV + 400, [["99", "5"]], [["100.2", "3"]]));
  push(okxBook("update", 21, 20, RECV + 500, [], [["100.2", "2"]]));
  expect(rows(ofType(h.records, "orderbook_delta"))).toEqual([
    [true, "bid", "100.1", "1", 10, RECV],
    [true, "bid", "100", "2", 10, RECV],
    [true, "ask", "100.2", "3", 10, RECV],
    [false, "bid", "100.1", "0", 11, RECV + 100],
    [false, "ask", "100.3", "1", 11, RECV + 100],
    [true, "bid", "99", "5", 20, RECV + 400],
    [true, "ask", "100.2", "3", 20, RECV + 400],
    [false, "ask", "100.2", "2", 21, RECV + 500],
  ]);
  expect(ofType(h.records, "orderbook_delta")[0]).toMatchObject({ exchange: "okx", market_type: "perpetual", symbol: "BTC-USDT", recv_ts_ms: RECV + 3 });
});
