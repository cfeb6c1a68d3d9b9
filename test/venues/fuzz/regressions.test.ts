import { describe, expect, test } from "bun:test";
import type { VenueKey } from "../../../src/config/schema.ts";
import type { MarketRecord } from "../../../src/records/types.ts";
import { parseBookFrame } from "../../../src/venues/book-frame-parser.ts";
import { getVenue } from "../../../src/venues/registry.ts";
import type { Normalizer, RawFrame } from "../../../src/venues/types.ts";
import { writtenSeeds } from "./seeds.ts";

/** What the fuzz run found, each with the smallest frame that shows it (test/venues/fuzz). */

const ws = (raw: string): RawFrame => ({ source: "ws", url: "wss://example/ws", recv_ts_ms: 1_700_000_000_000, raw });
const http = (url: string, raw: string): RawFrame => ({ source: "http", url, recv_ts_ms: 1_700_000_000_000, raw });

function harness(venue: VenueKey): { normalizer: Normalizer; records: MarketRecord[] } {
  const seed = writtenSeeds().find((s) => s.venue === venue);
  if (seed === undefined) throw new Error(`no written seed for ${venue}`);
  const records: MarketRecord[] = [];
  const def = getVenue(venue);
  const normalizer = def.createNormalizer({
    symbols: seed.symbols,
    data_types: def.data_types.filter((t) => t !== "orderbook_delta"),
    depth: 5,
    snapshot_interval_ms: 0,
    instruments: seed.instruments,
    emit: (r) => records.push(r),
  });
  return { normalizer, records };
}

/** Pushes one frame and returns what it moved: records, ignored, absorbed, unrecognized, errors. */
function pushOne(n: Normalizer, records: MarketRecord[], frame: RawFrame) {
  const s = n.stats;
  const before = { records: records.length, ignored: s.ignored, absorbed: s.absorbed, unrecognized: s.unrecognized, errors: s.errors };
  n.push(frame);
  return {
    records: records.length - before.records,
    ignored: s.ignored - before.ignored,
    absorbed: s.absorbed - before.absorbed,
    unrecognized: s.unrecognized - before.unrecognized,
    errors: s.errors - before.errors,
  };
}

const NOTHING = { records: 0, ignored: 0, absorbed: 0, unrecognized: 0, errors: 0 };
const ONE_ERROR = { ...NOTHING, errors: 1 };
const ONE_IGNORED = { ...NOTHING, ignored: 1 };

const SPOT_DEPTH = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000";
const SPOT_SNAPSHOT = '{"lastUpdateId":1000,"bids":[["100.00","1.0"]],"asks":[["101.00","1.0"]]}';
const spotDiff = (U: number, u: number, b: string) =>
  ws(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":${1_700_000_000_000 + u},"s":"BTCUSDT","U":${U},"u":${u},"b":${b},"a":[]}}`);

/** A live BTCUSDT spot book at u = 1002. */
function liveSpotBook() {
  const h = harness("binance_spot");
  h.normalizer.takeSnapshotRequests();
  h.normalizer.push(http(SPOT_DEPTH, SPOT_SNAPSHOT));
  h.normalizer.push(spotDiff(1001, 1002, '[["100.50","2.0"]]'));
  expect(h.records.map((r) => r.data_type)).toEqual(["orderbook"]);
  expect(h.normalizer.verifyBooks()[0]).toEqual({ native: "BTCUSDT", state: "live", problem: undefined });
  return h;
}

describe("fuzz regressions", () => {
  test("book frame parser: a key inside a value that takes the outer key's cache slot does not rename the outer key", () => {
    // "lata" and "last", "data " and "delta": same first character and length, one key-cache slot.
    expect(parseBookFrame('{"lata":[{"last":"1"}]}')).toEqual({ lata: [{ last: "1" }] });
    expect(parseBookFrame('{"data ":{"delta":1}}')).toEqual({ "data ": { delta: 1 } });
  });

  test("book frame parser: a depth frame nested 100,000 deep is counted as bad, not a stack overflow", () => {
    // The parser recursed once per level and overflowed from ~50,000 deep on the main thread.
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(parseBookFrame(deep)).toBeUndefined();
    const h = harness("binance_spot");
    expect(pushOne(h.normalizer, h.records, http(SPOT_DEPTH, deep))).toEqual(ONE_ERROR);
    const unclosed = `{"stream":"btcusdt@depth@100ms","data":${"[".repeat(100_000)}`;
    expect(pushOne(h.normalizer, h.records, ws(unclosed))).toEqual(ONE_ERROR);
  });

  test("a list-bearing frame with an empty list is counted as ignored", () => {
    const okx = harness("okx_derivatives");
    for (const raw of [
      '{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[]}',
      '{"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[]}',
      '{"arg":{"channel":"open-interest","instId":"BTC-USDT-SWAP"},"data":[]}',
      '{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[],"instId":"BTC-USDT-SWAP"}]}',
    ])
      expect(pushOne(okx.normalizer, okx.records, ws(raw))).toEqual(ONE_IGNORED);
    expect(pushOne(okx.normalizer, okx.records, http("https://www.okx.com/api/v5/public/funding-rate?instId=BTC-USDT-SWAP", '{"code":"0","msg":"","data":[]}'))).toEqual(
      ONE_IGNORED,
    );
    const binance = harness("binance_derivatives");
    expect(pushOne(binance.normalizer, binance.records, ws('{"stream":"!markPrice@arr@1s","data":[]}'))).toEqual(ONE_IGNORED);
    expect(pushOne(binance.normalizer, binance.records, http("https://fapi.binance.com/fapi/v1/premiumIndex", "[]"))).toEqual(ONE_IGNORED);
    expect(
      pushOne(binance.normalizer, binance.records, http("https://fapi.binance.com/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=5m", "[]")),
    ).toEqual(ONE_IGNORED);
    const deribit = harness("deribit_derivatives");
    expect(
      pushOne(
        deribit.normalizer,
        deribit.records,
        http("https://www.deribit.com/api/v2/public/get_volatility_index_data?currency=BTC", '{"jsonrpc":"2.0","id":5,"result":{"data":[],"continuation":null}}'),
      ),
    ).toEqual(ONE_IGNORED);
  });

  test("a decimal that does not fit Decimal(38,18) is an error, not a record storage would refuse", () => {
    const spot = harness("binance_spot");
    const trade = (p: string) => ws(`{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"${p}","q":"0.012","T":1,"m":true,"M":true}}`);
    for (const p of ["1E-7", "1e5", `1${"0".repeat(20)}`, "0.0000000000000000001", "5.", ".5"]) expect(pushOne(spot.normalizer, spot.records, trade(p))).toEqual(ONE_ERROR);
    expect(pushOne(spot.normalizer, spot.records, trade(`1${"0".repeat(19)}.${"1".repeat(18)}`)).records).toBe(1);
    const fut = harness("binance_derivatives");
    const mark = (p: string, r: string) =>
      ws(`{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"${p}","i":"30000.0","P":"30000.0","r":"${r}","T":2}}`);
    expect(pushOne(fut.normalizer, fut.records, mark("30000.1", "9".repeat(400)))).toEqual(ONE_ERROR);
    // Open interest value = oi × mark: 10 + 10 fraction digits is past Decimal(38,18).
    expect(pushOne(fut.normalizer, fut.records, mark("0.0000000001", "0.0001")).records).toBe(1);
    const oi = http("https://fapi.binance.com/fapi/v1/openInterest?symbol=BTCUSDT", '{"openInterest":"0.0000000001","symbol":"BTCUSDT","time":1}');
    expect(pushOne(fut.normalizer, fut.records, oi)).toEqual(ONE_ERROR);
    const okx = harness("okx_derivatives");
    const ratio = http(
      "https://www.okx.com/api/v5/rubik/stat/contracts/long-short-account-ratio-contract?instId=BTC-USDT-SWAP&period=5m",
      '{"code":"0","data":[["1700000000000","0.0000000000000000001"]],"msg":""}',
    );
    expect(pushOne(okx.normalizer, okx.records, ratio)).toEqual(ONE_ERROR);
    const deribit = harness("deribit_derivatives");
    const vol = (v: string, ts: string) =>
      ws(`{"jsonrpc":"2.0","method":"subscription","params":{"channel":"deribit_volatility_index.btc_usd","data":{"volatility":${v},"timestamp":${ts},"index_name":"btc_usd"}}}`);
    expect(pushOne(deribit.normalizer, deribit.records, vol("1e-20", "1"))).toEqual(ONE_ERROR);
    expect(pushOne(deribit.normalizer, deribit.records, vol("1e25", "1"))).toEqual(ONE_ERROR);
    expect(pushOne(deribit.normalizer, deribit.records, vol("55.5", "-1"))).toEqual(ONE_ERROR);
  });

  test("a ratio poll whose request named an empty period is an error, not records without a period", () => {
    const binance = harness("binance_derivatives");
    const row = '[{"symbol":"BTCUSDT","longShortRatio":"1.4342","longAccount":"0.5891","shortAccount":"0.4109","timestamp":"1699999800000"}]';
    const url = "https://fapi.binance.com/futures/data/topLongShortPositionRatio?symbol=BTCUSDT&period=&limit=1";
    expect(pushOne(binance.normalizer, binance.records, http(url, row))).toEqual(ONE_ERROR);
    const okx = harness("okx_derivatives");
    const okxUrl = "https://www.okx.com/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader?instId=BTC-USDT-SWAP&period=";
    expect(pushOne(okx.normalizer, okx.records, http(okxUrl, '{"code":"0","data":[["1700000300000","1.25"]],"msg":""}'))).toEqual(ONE_ERROR);
  });

  test("a negative, fractional or unsafe Binance time or id is an error, not a record", () => {
    const spot = harness("binance_spot");
    const agg = (a: string, T: string) => ws(`{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"ETHUSDT","a":${a},"p":"2000.01","q":"1.5","T":${T},"m":false}}`);
    for (const [a, T] of [
      ["77", "-1"],
      ["1.5", "1"],
      ["-3", "1"],
      ["1e21", "1"],
      ["77", "9007199254740993"],
    ] as const)
      expect(pushOne(spot.normalizer, spot.records, agg(a, T))).toEqual(ONE_ERROR);
    expect(pushOne(spot.normalizer, spot.records, agg("77", "1")).records).toBe(1);
    const okx = harness("okx_spot");
    const trade = (id: string, ts: string) => ws(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"${id}","px":"1","sz":"1","side":"buy","ts":"${ts}"}]}`);
    expect(pushOne(okx.normalizer, okx.records, trade("", "1"))).toEqual(ONE_ERROR);
    expect(pushOne(okx.normalizer, okx.records, trade("9", "-1"))).toEqual(ONE_ERROR);
  });

  test("a depth level priced 1e5, 0x10, Infinity or 5. makes the book resync instead of entering it", () => {
    for (const price of ["1e5", "0x10", "Infinity", "5.", " 5", "1".repeat(21)]) {
      const h = liveSpotBook();
      expect(pushOne(h.normalizer, h.records, spotDiff(1003, 1003, `[["${price}","1.0"]]`))).toEqual({ ...ONE_ERROR, records: 1 });
      expect(h.records.at(-1)).toMatchObject({ data_type: "gap", cause: "resync" });
      expect(h.normalizer.verifyBooks()[0]?.state).toBe("stale");
    }
  });

  test("an unreadable snapshot over a live book forgets the chain and records a gap", () => {
    const h = liveSpotBook();
    expect(pushOne(h.normalizer, h.records, http(SPOT_DEPTH, '{"lastUpdateId":1003,"bids":[["abc","1.0"]],"asks":[]}'))).toEqual({ ...ONE_ERROR, records: 1 });
    expect(h.records.at(-1)).toMatchObject({ data_type: "gap", cause: "resync" });
    // The next diff of the old chain goes to the buffer, not onto the emptied book.
    expect(pushOne(h.normalizer, h.records, spotDiff(1003, 1003, '[["99.00","1.0"]]'))).toEqual({ ...NOTHING, absorbed: 1 });
    expect(h.normalizer.takeSnapshotRequests()).toEqual(["BTCUSDT"]);
  });

  test("a snapshot over a live book that the stream does not bridge records a gap", () => {
    const h = liveSpotBook();
    h.normalizer.push(http(SPOT_DEPTH, SPOT_SNAPSHOT.replace("1000", "5")));
    expect(pushOne(h.normalizer, h.records, spotDiff(1003, 1004, "[]"))).toEqual({ ...NOTHING, records: 1 });
    expect(h.records.at(-1)).toMatchObject({ data_type: "gap", cause: "sequence_gap" });
    expect(h.normalizer.verifyBooks()[0]?.state).toBe("stale");
  });
});
