import type { VenueKey } from "../../../src/config/schema.ts";
import type { Instrument, InstrumentMap, RawFrame } from "../../../src/venues/types.ts";
import { http, ladder, type Levels, OKX_WS, ws } from "./frame-builders.ts";
import { okxBookFrames } from "./okx-seed-book.ts";

/**
 * Protocol-faithful frames written for the fuzz run, one script per venue, so it does real work
 * without the shared recordings: each script syncs a book (Binance REST snapshot + bridging
 * diffs, spot `U == u + 1` and USDⓈ-M `pu` chains; OKX snapshot + updates with the CRC32 of the
 * top 25 and, on the swap, seqId/prevSeqId) and carries every other data type the venue maps,
 * the REST bodies included, plus frames the normalizers ignore. Shapes follow the venue pages
 * cited in each normalizer and test/venues/fixtures/*_doc.jsonl.
 */

export interface FuzzSeed {
  readonly venue: VenueKey;
  /** What the seed is made of, for messages. */
  readonly origin: string;
  readonly instruments: InstrumentMap;
  /** Native ids the normalizer keeps ([] = every instrument of its market type). */
  readonly symbols: readonly string[];
  /** The script, in order: a run replays it in a loop and mutates some of its frames. */
  readonly frames: readonly RawFrame[];
}

function instruments(list: readonly Instrument[]): InstrumentMap {
  return new Map(list.map((i) => [i.native, i]));
}

// ---------------------------------------------------------------------------------------------
// Binance

const BINANCE_SPOT_WS = "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms/btcusdt@trade/ethusdt@aggTrade";
const BINANCE_FUT_WS = "wss://fstream.binance.com/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade/btcusdt@markPrice@1s/btcusdt@forceOrder";

function binanceDiff(stream: string, s: string, E: number, U: number, u: number, pu: number | undefined, b: Levels, a: Levels): unknown {
  const data: Record<string, unknown> = { e: "depthUpdate", E };
  if (pu !== undefined) data.T = E - 2;
  Object.assign(data, { s, U, u });
  if (pu !== undefined) data.pu = pu;
  Object.assign(data, { b, a });
  return { stream, data };
}

function binanceSpot(): FuzzSeed {
  const t = 1_700_000_000_000;
  const frames: RawFrame[] = [
    ws(BINANCE_SPOT_WS, t, { result: null, id: 1 }),
    http("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000", t + 5, {
      lastUpdateId: 1000,
      bids: ladder(30000, -0.5, 30, 2),
      asks: ladder(30000.5, 0.5, 30, 2),
    }),
    // Bridges: U <= lastUpdateId + 1 <= u.
    ws(BINANCE_SPOT_WS, t + 10, binanceDiff("btcusdt@depth@100ms", "BTCUSDT", t + 8, 998, 1002, undefined, [["30000.00", "2.500"]], [["30000.50", "0.00000000"]])),
    ws(BINANCE_SPOT_WS, t + 110, binanceDiff("btcusdt@depth@100ms", "BTCUSDT", t + 108, 1003, 1010, undefined, ladder(29999.5, -0.5, 12, 2), ladder(30001, 0.5, 12, 2))),
    ws(BINANCE_SPOT_WS, t + 120, {
      stream: "btcusdt@trade",
      data: { e: "trade", E: t + 119, s: "BTCUSDT", t: 5000, p: "30000.50000000", q: "0.01200000", T: t + 118, m: true, M: true },
    }),
    ws(BINANCE_SPOT_WS, t + 130, {
      stream: "ethusdt@aggTrade",
      data: { e: "aggTrade", E: t + 129, s: "ETHUSDT", a: 77, p: "2000.01", q: "1.5", f: 100, l: 102, T: t + 128, m: false, M: true },
    }),
    ws(BINANCE_SPOT_WS, t + 140, { stream: "btcusdt@bookTicker", data: { u: 1011, s: "BTCUSDT", b: "30000.00", B: "1.0", a: "30000.50", A: "2.0" } }),
    ws(BINANCE_SPOT_WS, t + 150, {
      stream: "btcusdt@kline_1m",
      data: { e: "kline", E: t + 149, s: "BTCUSDT", k: { t: t, T: t + 59999, s: "BTCUSDT", i: "1m", o: "1", c: "2", h: "3", l: "0.5", v: "10", x: false } },
    }),
    ws(BINANCE_SPOT_WS, t + 210, binanceDiff("btcusdt@depth@100ms", "BTCUSDT", t + 208, 1011, 1011, undefined, [["29990.00", "0.00000000"]], [])),
    // A raw (not combined) stream frame.
    ws("wss://stream.binance.com:9443/ws/btcusdt@depth", t + 310, {
      e: "depthUpdate",
      E: t + 308,
      s: "BTCUSDT",
      U: 1012,
      u: 1013,
      b: [["29999.00", "4.000"]],
      a: [["30002.00", "0.250"]],
    }),
  ];
  return {
    venue: "binance_spot",
    origin: "test/venues/fuzz/seeds.ts binance_spot",
    instruments: instruments([
      { native: "BTCUSDT", base: "BTC", quote: "USDT", market_type: "spot", symbol: "BTC-USDT" },
      { native: "ETHUSDT", base: "ETH", quote: "USDT", market_type: "spot", symbol: "ETH-USDT" },
    ]),
    symbols: ["BTCUSDT", "ETHUSDT"],
    frames,
  };
}

function binanceDerivatives(): FuzzSeed {
  const t = 1_700_000_100_000;
  const fapi = "https://fapi.binance.com";
  const frames: RawFrame[] = [
    ws(BINANCE_FUT_WS, t, { result: null, id: 1 }),
    ws(BINANCE_FUT_WS, t + 1, {
      stream: "btcusdt@markPrice@1s",
      data: { e: "markPriceUpdate", E: t + 1, s: "BTCUSDT", p: "30010.10000000", i: "30008.25000000", P: "30009.00000000", r: "0.00010000", T: t + 3_600_000 },
    }),
    http(`${fapi}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`, t + 5, {
      lastUpdateId: 2000,
      E: t + 4,
      T: t + 3,
      bids: ladder(30000, -0.1, 25, 1),
      asks: ladder(30000.1, 0.1, 25, 1),
    }),
    // Bridges: U <= lastUpdateId <= u; then pu == previous u.
    ws(BINANCE_FUT_WS, t + 10, binanceDiff("btcusdt@depth@100ms", "BTCUSDT", t + 9, 1995, 2003, 1990, [["30000.0", "9.000"]], [["30000.1", "0"]])),
    ws(BINANCE_FUT_WS, t + 110, binanceDiff("btcusdt@depth@100ms", "BTCUSDT", t + 109, 2010, 2020, 2003, ladder(29999.9, -0.1, 10, 1), ladder(30000.2, 0.1, 10, 1))),
    ws(BINANCE_FUT_WS, t + 120, {
      stream: "btcusdt@aggTrade",
      data: { e: "aggTrade", E: t + 119, a: 900, s: "BTCUSDT", p: "30000.1", q: "0.005", f: 1000, l: 1001, T: t + 118, m: true },
    }),
    ws(BINANCE_FUT_WS, t + 130, {
      stream: "btcusdt@forceOrder",
      data: {
        e: "forceOrder",
        E: t + 129,
        o: { s: "BTCUSDT", S: "SELL", o: "LIMIT", f: "IOC", q: "0.014", p: "29900", ap: "29910.5", X: "FILLED", l: "0.014", z: "0.014", T: t + 128 },
      },
    }),
    ws(BINANCE_FUT_WS, t + 140, {
      stream: "!markPrice@arr@1s",
      data: [
        { e: "markPriceUpdate", E: t + 140, s: "BTCUSDT", p: "30011.0", i: "30009.0", P: "30010.0", r: "0.0001", T: t + 3_600_000 },
        { e: "markPriceUpdate", E: t + 140, s: "ETHUSDT", p: "2001.0", i: "2000.5", P: "2000.9", r: "-0.0002", T: t + 3_600_000 },
      ],
    }),
    ws(BINANCE_FUT_WS, t + 210, binanceDiff("btcusdt@depth@100ms", "BTCUSDT", t + 209, 2021, 2025, 2020, [], [["30000.2", "0"], ["30005.0", "1.250"]])),
    http(`${fapi}/fapi/v1/openInterest?symbol=BTCUSDT`, t + 220, { openInterest: "10659.509", symbol: "BTCUSDT", time: t + 219 }),
    http(`${fapi}/fapi/v1/premiumIndex?symbol=BTCUSDT`, t + 230, {
      symbol: "BTCUSDT",
      markPrice: "30012.00000000",
      indexPrice: "30010.50000000",
      estimatedSettlePrice: "30009.0",
      lastFundingRate: "0.00010000",
      nextFundingTime: t + 3_600_000,
      interestRate: "0.00010000",
      time: t + 229,
    }),
    http(`${fapi}/fapi/v1/premiumIndex`, t + 240, [
      { symbol: "BTCUSDT", markPrice: "30012.0", indexPrice: "30010.5", lastFundingRate: "0.0001", nextFundingTime: t + 3_600_000, time: t + 239 },
      { symbol: "ETHUSDT", markPrice: "2001.0", indexPrice: "2000.5", lastFundingRate: "0.0001", nextFundingTime: t + 3_600_000, time: t + 239 },
    ]),
    http(`${fapi}/futures/data/topLongShortPositionRatio?symbol=BTCUSDT&period=5m&limit=2`, t + 250, [
      { symbol: "BTCUSDT", longShortRatio: "1.4342", longAccount: "0.5891", shortAccount: "0.4109", timestamp: String(t - 300_000) },
      { symbol: "BTCUSDT", longShortRatio: "1.5000", longAccount: "0.6000", shortAccount: "0.4000", timestamp: String(t) },
    ]),
    http(`${fapi}/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=5m&limit=1`, t + 260, [
      { symbol: "BTCUSDT", longShortRatio: "0.1960", longAccount: "0.1639", shortAccount: "0.8361", timestamp: t },
    ]),
    http(`${fapi}/fapi/v1/exchangeInfo`, t + 270, { timezone: "UTC", symbols: [] }),
    ws(BINANCE_FUT_WS, t + 310, binanceDiff("btcusdt@depth@100ms", "BTCUSDT", t + 309, 2026, 2030, 2025, [["29999.0", "3.000"]], [])),
  ];
  return {
    venue: "binance_derivatives",
    origin: "test/venues/fuzz/seeds.ts binance_derivatives",
    instruments: instruments([
      { native: "BTCUSDT", base: "BTC", quote: "USDT", market_type: "perpetual", symbol: "BTC-USDT" },
      { native: "ETHUSDT", base: "ETH", quote: "USDT", market_type: "perpetual", symbol: "ETH-USDT" },
    ]),
    symbols: ["BTCUSDT", "ETHUSDT"],
    frames,
  };
}

// ---------------------------------------------------------------------------------------------
// OKX


function okxSpot(): FuzzSeed {
  const t = 1_700_000_200_000;
  const frames: RawFrame[] = [
    ws(OKX_WS, t, { event: "subscribe", arg: { channel: "books", instId: "BTC-USDT" }, connId: "a4d3ae55" }),
    { source: "ws", url: OKX_WS, recv_ts_ms: t, raw: "pong" },
    ...okxBookFrames("BTC-USDT", t + 10, false, 30000, 0.1),
    ws(OKX_WS, t + 500, {
      arg: { channel: "trades", instId: "BTC-USDT" },
      data: [
        { instId: "BTC-USDT", tradeId: "130639474", px: "30000.1", sz: "0.0012", side: "buy", ts: String(t + 499) },
        { instId: "BTC-USDT", tradeId: "130639475", px: "30000.0", sz: "0.5", side: "sell", ts: String(t + 499) },
      ],
    }),
    ws(OKX_WS, t + 510, { arg: { channel: "tickers", instId: "BTC-USDT" }, data: [{ instType: "SPOT", instId: "BTC-USDT", last: "30000.1", ts: String(t + 509) }] }),
    ws(OKX_WS, t + 520, { arg: { channel: "books", instId: "ETH-USDT" }, action: "snapshot", data: [{ asks: [], bids: [], ts: String(t + 519), checksum: 0 }] }),
  ];
  return {
    venue: "okx_spot",
    origin: "test/venues/fuzz/seeds.ts okx_spot",
    instruments: instruments([
      { native: "BTC-USDT", base: "BTC", quote: "USDT", market_type: "spot", symbol: "BTC-USDT" },
      { native: "BTC-USDT-SWAP", base: "BTC", quote: "USDT", market_type: "perpetual", symbol: "BTC-USDT" },
    ]),
    symbols: ["BTC-USDT"],
    frames,
  };
}

function okxDerivatives(): FuzzSeed {
  const t = 1_700_000_300_000;
  const rest = "https://www.okx.com/api/v5";
  const swap = "BTC-USDT-SWAP";
  const frames: RawFrame[] = [
    ws(OKX_WS, t, { event: "subscribe", arg: { channel: "funding-rate", instId: swap }, connId: "a4d3ae55" }),
    ws(OKX_WS, t + 1, {
      arg: { channel: "funding-rate", instId: swap },
      data: [
        {
          formulaType: "noRate",
          fundingRate: "0.0000182221218054",
          fundingTime: String(t + 3_600_000),
          instId: swap,
          instType: "SWAP",
          method: "current_period",
          nextFundingRate: "",
          nextFundingTime: String(t + 7_200_000),
          ts: String(t + 1),
        },
      ],
    }),
    ws(OKX_WS, t + 2, { arg: { channel: "mark-price", instId: swap }, data: [{ instType: "SWAP", instId: swap, markPx: "30005.1", ts: String(t + 2) }] }),
    ws(OKX_WS, t + 3, { arg: { channel: "index-tickers", instId: "BTC-USDT" }, data: [{ instId: "BTC-USDT", idxPx: "30004.5", high24h: "31000", ts: String(t + 3) }] }),
    ...okxBookFrames(swap, t + 10, true, 30000, 0.1),
    ws(OKX_WS, t + 500, {
      arg: { channel: "trades", instId: swap },
      data: [{ instId: swap, tradeId: "242720720", px: "30000.1", sz: "3", side: "sell", ts: String(t + 499) }],
    }),
    ws(OKX_WS, t + 510, {
      arg: { channel: "open-interest", instId: swap },
      data: [{ instType: "SWAP", instId: swap, oi: "5000", oiCcy: "555.55", oiUsd: "50000", ts: String(t + 509) }],
    }),
    ws(OKX_WS, t + 520, {
      arg: { channel: "liquidation-orders", instType: "SWAP" },
      data: [
        {
          details: [
            { bkLoss: "0", bkPx: "29950.1", ccy: "", posSide: "short", side: "buy", sz: "13", ts: String(t + 519) },
            { bkLoss: "0", bkPx: "29950.3", ccy: "", posSide: "long", side: "sell", sz: "2", ts: String(t + 519) },
          ],
          instFamily: "BTC-USDT",
          instId: swap,
          instType: "SWAP",
          uly: "BTC-USDT",
        },
      ],
    }),
    http(`${rest}/public/funding-rate?instId=${swap}`, t + 530, {
      code: "0",
      msg: "",
      data: [{ fundingRate: "0.0001", fundingTime: String(t + 3_600_000), instId: swap, instType: "SWAP", nextFundingTime: String(t + 7_200_000), ts: String(t + 529) }],
    }),
    http(`${rest}/public/open-interest?instType=SWAP&instId=${swap}`, t + 540, {
      code: "0",
      msg: "",
      data: [{ instType: "SWAP", instId: swap, oi: "5001", oiCcy: "555.6", oiUsd: "50010", ts: String(t + 539) }],
    }),
    http(`${rest}/rubik/stat/contracts/long-short-position-ratio-contract-top-trader?instId=${swap}&period=5m&limit=2`, t + 550, {
      code: "0",
      data: [
        [String(t), "1.25"],
        [String(t - 300_000), "0.8"],
      ],
      msg: "",
    }),
    http(`${rest}/rubik/stat/contracts/long-short-account-ratio-contract?instId=${swap}&period=5m&limit=1`, t + 560, { code: "0", data: [[String(t), "2"]], msg: "" }),
    http(`${rest}/public/instruments?instType=SWAP`, t + 570, { code: "0", msg: "", data: [] }),
  ];
  return {
    venue: "okx_derivatives",
    origin: "test/venues/fuzz/seeds.ts okx_derivatives",
    instruments: instruments([
      { native: "BTC-USDT", base: "BTC", quote: "USDT", market_type: "spot", symbol: "BTC-USDT" },
      { native: swap, base: "BTC", quote: "USDT", market_type: "perpetual", symbol: "BTC-USDT" },
    ]),
    symbols: [swap],
    frames,
  };
}

// ---------------------------------------------------------------------------------------------
// Deribit

const DERIBIT_WS = "wss://www.deribit.com/ws/api/v2";

function deribit(): FuzzSeed {
  const t = 1_700_000_400_000;
  const frames: RawFrame[] = [
    ws(DERIBIT_WS, t, { jsonrpc: "2.0", id: 1, result: ["deribit_volatility_index.btc_usd"], usIn: t * 1000, usOut: t * 1000 + 100, usDiff: 100, testnet: false }),
    ws(DERIBIT_WS, t + 1, {
      jsonrpc: "2.0",
      method: "subscription",
      params: { channel: "deribit_volatility_index.btc_usd", data: { volatility: 129.36, timestamp: t + 1, index_name: "btc_usd" } },
    }),
    ws(DERIBIT_WS, t + 2, {
      jsonrpc: "2.0",
      method: "subscription",
      params: { channel: "deribit_volatility_index.eth_usd", data: { volatility: 88.5, timestamp: t + 2, index_name: "eth_usd" } },
    }),
    ws(DERIBIT_WS, t + 3, { jsonrpc: "2.0", method: "heartbeat", params: { type: "heartbeat" } }),
    ws(DERIBIT_WS, t + 4, {
      jsonrpc: "2.0",
      method: "subscription",
      params: { channel: "ticker.BTC-29DEC23-30000-C.100ms", data: { instrument_name: "BTC-29DEC23-30000-C", mark_price: 0.05, timestamp: t + 4 } },
    }),
    http(`https://www.deribit.com/api/v2/public/get_volatility_index_data?currency=BTC&start_timestamp=${t - 120_000}&end_timestamp=${t}&resolution=60`, t + 5, {
      jsonrpc: "2.0",
      id: 5,
      result: {
        data: [
          [t - 120_000, 55.1, 56.2, 54.9, 55.8],
          [t - 60_000, 55.8, 57.0, 55.0, 56.4],
        ],
        continuation: null,
      },
    }),
    http("https://www.deribit.com/api/v2/public/get_instruments?currency=BTC&expired=false", t + 6, { jsonrpc: "2.0", id: 6, result: [] }),
  ];
  return {
    venue: "deribit_derivatives",
    origin: "test/venues/fuzz/seeds.ts deribit_derivatives",
    instruments: instruments([
      { native: "BTC", base: "BTC", quote: "USD", market_type: "options", symbol: "BTC" },
      { native: "ETH", base: "ETH", quote: "USD", market_type: "options", symbol: "ETH" },
    ]),
    symbols: [],
    frames,
  };
}

/** The written seeds, one per venue key (registry.ts). */
export function writtenSeeds(): FuzzSeed[] {
  return [binanceSpot(), binanceDerivatives(), okxSpot(), okxDerivatives(), deribit()];
}
