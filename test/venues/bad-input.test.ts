import { describe, expect, test } from "bun:test";
import type { VenueKey } from "../../src/config/schema.ts";
import type { RawFrame } from "../../src/venues/types.ts";
import { docInstruments, harness } from "./capture.ts";

/** Bad input is counted per channel: never a throw, never a record with made-up values. */

const ws = (raw: string): RawFrame => ({ source: "ws", url: "wss://example/ws", recv_ts_ms: 1, raw });
const http = (url: string, raw: string): RawFrame => ({ source: "http", url, recv_ts_ms: 1, raw });

interface Case {
  readonly name: string;
  readonly venue: VenueKey;
  readonly frame: RawFrame;
  readonly channel: string;
  readonly kind: "errors" | "unrecognized";
}

const CASES: Case[] = [
  { name: "malformed JSON", venue: "binance_spot", frame: ws('{"stream":"btcusdt@trade","data":{'), channel: "json", kind: "errors" },
  { name: "unknown event", venue: "binance_spot", frame: ws('{"stream":"x@y","data":{"e":"novel","E":1}}'), channel: "novel", kind: "unrecognized" },
  {
    name: "aggTrade price as a number",
    venue: "binance_derivatives",
    frame: ws('{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"a":5,"s":"BTCUSDT","p":30000.1,"q":"1","f":1,"l":1,"T":1,"m":true}}'),
    channel: "aggTrade",
    kind: "errors",
  },
  {
    name: "aggTrade id as a string",
    venue: "binance_derivatives",
    frame: ws('{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"a":"5","s":"BTCUSDT","p":"1","q":"1","f":1,"l":1,"T":1,"m":true}}'),
    channel: "aggTrade",
    kind: "errors",
  },
  {
    name: "trade without m",
    venue: "binance_spot",
    frame: ws('{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1","q":"1","T":1}}'),
    channel: "trade",
    kind: "errors",
  },
  {
    name: "USDⓈ-M depth diff without pu",
    venue: "binance_derivatives",
    frame: ws('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}'),
    channel: "depth",
    kind: "errors",
  },
  {
    name: "depth snapshot with levels as numbers",
    venue: "binance_spot",
    frame: http("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000", '{"lastUpdateId":5,"bids":[[1.5,2]],"asks":[]}'),
    channel: "depth_snapshot",
    kind: "errors",
  },
  {
    name: "Binance error body for a snapshot",
    venue: "binance_spot",
    frame: http("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000", '{"code":-1121,"msg":"Invalid symbol."}'),
    channel: "depth_snapshot",
    kind: "errors",
  },
  {
    name: "markPriceUpdate without index price",
    venue: "binance_derivatives",
    frame: ws('{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1","r":"0.0001","T":2}}'),
    channel: "markPriceUpdate",
    kind: "errors",
  },
  {
    name: "openInterest as a number",
    venue: "binance_derivatives",
    frame: http("https://fapi.binance.com/fapi/v1/openInterest?symbol=BTCUSDT", '{"openInterest":10.5,"symbol":"BTCUSDT","time":1}'),
    channel: "openInterest",
    kind: "errors",
  },
  {
    name: "unknown REST path",
    venue: "binance_derivatives",
    frame: http("https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT", "[]"),
    channel: "http",
    kind: "unrecognized",
  },
  {
    name: "OKX trade with numeric px",
    venue: "okx_spot",
    frame: ws('{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":30000,"sz":"1","side":"buy","ts":"1"}]}'),
    channel: "trades",
    kind: "errors",
  },
  {
    name: "OKX book with empty data",
    venue: "okx_spot",
    frame: ws('{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[]}'),
    channel: "books",
    kind: "errors",
  },
  {
    name: "OKX book with a string checksum",
    venue: "okx_spot",
    frame: ws('{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[],"bids":[],"ts":"1","checksum":"5"}]}'),
    channel: "books",
    kind: "errors",
  },
  { name: "OKX unknown channel", venue: "okx_spot", frame: ws('{"arg":{"channel":"novel","instId":"BTC-USDT"},"data":[{}]}'), channel: "novel", kind: "unrecognized" },
  { name: "OKX error event", venue: "okx_spot", frame: ws('{"event":"error","code":"60012","msg":"Invalid request"}'), channel: "event", kind: "errors" },
  {
    name: "OKX funding-rate without fundingTime",
    venue: "okx_derivatives",
    frame: ws('{"arg":{"channel":"funding-rate","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","fundingRate":"0.0001","nextFundingTime":"2","ts":"1"}]}'),
    channel: "funding-rate",
    kind: "errors",
  },
  {
    name: "OKX rubik row with a numeric ratio",
    venue: "okx_derivatives",
    frame: http(
      "https://www.okx.com/api/v5/rubik/stat/contracts/long-short-account-ratio-contract?instId=BTC-USDT-SWAP&period=5m",
      '{"code":"0","data":[["1701417600000",1.2]],"msg":""}',
    ),
    channel: "lsr_all_account",
    kind: "errors",
  },
  {
    name: "Deribit volatility as a string",
    venue: "deribit_derivatives",
    frame: ws('{"jsonrpc":"2.0","method":"subscription","params":{"channel":"deribit_volatility_index.btc_usd","data":{"volatility":"129.36","timestamp":1,"index_name":"btc_usd"}}}'),
    channel: "deribit_volatility_index",
    kind: "errors",
  },
  { name: "Deribit unknown channel", venue: "deribit_derivatives", frame: ws('{"jsonrpc":"2.0","method":"subscription","params":{"channel":"novel.x","data":{}}}'), channel: "novel", kind: "unrecognized" },
  { name: "Deribit RPC error", venue: "deribit_derivatives", frame: ws('{"jsonrpc":"2.0","id":3,"error":{"code":10028,"message":"too_many_requests"}}'), channel: "rpc_error", kind: "errors" },
  { name: "a JSON array where an object belongs", venue: "deribit_derivatives", frame: ws("[1,2]"), channel: "unknown", kind: "unrecognized" },
];

describe("bad input is counted per channel, never thrown, never a record", () => {
  for (const c of CASES) {
    test(`${c.venue}: ${c.name}`, () => {
      const h = harness(c.venue, { symbols: [], instruments: docInstruments(c.venue) });
      expect(() => h.normalizer.push(c.frame)).not.toThrow();
      expect(h.records).toEqual([]);
      expect(h.normalizer.stats[c.kind]).toBe(1);
      expect(h.normalizer.stats.bad_by_channel).toEqual({ [c.channel]: 1 });
    });
  }

  test("a negative quantity in a live Binance diff forces a resync: one error, one gap, no book record from it", () => {
    const h = harness("binance_spot", { depth: 5, instruments: docInstruments("binance_spot") });
    h.normalizer.push(http("https://api.binance.com/api/v3/depth?symbol=BTCUSDT", '{"lastUpdateId":10,"bids":[["100.00","1.0"]],"asks":[["101.00","1.0"]]}'));
    h.normalizer.push(ws('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":11,"u":12,"b":[["99.00","2.0"]],"a":[]}}'));
    h.normalizer.takeSnapshotRequests();
    h.normalizer.push(ws('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":6,"s":"BTCUSDT","U":13,"u":13,"b":[["98.00","-3"]],"a":[]}}'));
    expect(h.records.map((r) => (r.data_type === "gap" ? `gap:${r.cause}:${r.start_ts_ms}-${r.end_ts_ms}` : `${r.data_type}`))).toEqual(["orderbook", "gap:resync:5-6"]);
    expect(h.normalizer.stats.bad_by_channel).toEqual({ depth: 1 });
    expect(h.normalizer.takeSnapshotRequests()).toEqual(["BTCUSDT"]);
  });

  test("a zero quantity in a Binance diff deletes the level instead of storing it", () => {
    const h = harness("binance_spot", { depth: 5, instruments: docInstruments("binance_spot") });
    h.normalizer.push(http("https://api.binance.com/api/v3/depth?symbol=BTCUSDT", '{"lastUpdateId":10,"bids":[["100.00","1.0"],["99.00","2.0"]],"asks":[["101.00","1.0"]]}'));
    h.normalizer.push(ws('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":11,"u":12,"b":[["100.00","0.00000000"]],"a":[]}}'));
    expect(h.records.map((r) => (r.data_type === "orderbook" ? [r.bids, r.asks, r.best_bid_price] : r.data_type))).toEqual([
      [[["99.00", "2.0"]], [["101.00", "1.0"]], "99.00"],
    ]);
  });

  test("a bad element among good ones costs only that element", () => {
    const h = harness("okx_spot", { instruments: docInstruments("okx_spot") });
    h.normalizer.push(
      ws('{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"-1","side":"buy","ts":"1"},{"instId":"BTC-USDT","tradeId":"2","px":"1","sz":"2","side":"sell","ts":"1"}]}'),
    );
    expect(h.records.map((r) => (r.data_type === "trade" ? r.trade_id : ""))).toEqual(["2"]);
    expect(h.normalizer.stats.bad_by_channel).toEqual({ trades: 1 });
  });
});
