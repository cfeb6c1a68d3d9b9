import { expect, test } from "bun:test";
import type { MarketRecord, TradeRecord } from "../../src/records/types.ts";
import { fetchTradePages, type PageAnswer, type TradeHole, type VenueTradeBackfill } from "../../src/venues/connection/trade-pages.ts";
import type { WsGap } from "../../src/venues/connection/ws-client.ts";
import { TradeGaps } from "../../src/venues/trade-gaps.ts";
import { BINANCE_TRADE_PAGE, binanceTradeBackfill } from "../../src/venues/binance/channels.ts";
import { OKX_TRADE_BACKFILL } from "../../src/venues/okx/channels.ts";
import { docInstruments, run } from "./capture.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Trade backfill (src/venues/connection/trade-pages.ts, src/venues/trade-gaps.ts): pages walk
 * the hole in the venue's direction with the venue's cursors and stop at its ends; a venue that
 * refuses, serves the same page again, or pages on forever stops after a bounded number of
 * pages with the failure said; of a page's trades only those inside the hole are kept, and the
 * gap row gets their count. The venues' REST trade bodies normalize like their streams.
 */

/** A venue history of trades `ids` (ascending), paged like Binance (forward) or OKX (backward) at `limit` a page. */
function venueHistory(ids: readonly number[], limit: number) {
  const paths: string[] = [];
  const page = (path: string): number[] => {
    paths.push(path);
    const q = new URL(`http://v${path}`).searchParams;
    const from = q.get("fromId");
    const after = q.get("after");
    if (from !== null) return ids.filter((id) => id >= Number(from)).slice(0, limit);
    const older = ids.filter((id) => after === null || id < Number(after));
    return older.slice(-limit).reverse();
  };
  return { paths, page };
}

const FORWARD: VenueTradeBackfill = { channel: "t", page_limit: 3, direction: "forward", path: (n, c) => `/trades?symbol=${n}${c === undefined ? "" : `&fromId=${c}`}` };
const BACKWARD: VenueTradeBackfill = { channel: "t", page_limit: 3, direction: "backward", path: (n, c) => `/trades?instId=${n}${c === undefined ? "" : `&after=${c}`}` };

async function walk(spec: VenueTradeBackfill, hole: TradeHole, ids: readonly number[], max_pages = 10) {
  const venue = venueHistory(ids, spec.page_limit);
  const got: number[] = [];
  const result = await fetchTradePages(
    spec,
    "S",
    hole,
    {
      fetch: async (path): Promise<PageAnswer> => ({ ok: true, body: JSON.stringify(venue.page(path)), recv_ts_ms: 1 }),
      push: (_path, body) => {
        const page = JSON.parse(body) as number[];
        got.push(...page);
        return page;
      },
      running: () => true,
    },
    max_pages,
  );
  return { result, paths: venue.paths, got };
}

const HISTORY = Array.from({ length: 20 }, (_, i) => 100 + i);

test("forward pages run from the id after the last stored up to the first the stream delivered", async () => {
  const { result, paths, got } = await walk(FORWARD, { after_id: 102, before_id: 110 }, HISTORY);
  expect(paths).toEqual(["/trades?symbol=S&fromId=103", "/trades?symbol=S&fromId=106", "/trades?symbol=S&fromId=109"]);
  expect(got).toEqual([103, 104, 105, 106, 107, 108, 109, 110, 111]);
  expect(result).toEqual({ pages: 3, failure: undefined });
});

test("forward pages without a first delivered id stop at the venue's newest (a short page)", async () => {
  const { result, paths } = await walk(FORWARD, { after_id: 112, before_id: undefined }, HISTORY);
  expect(paths).toEqual(["/trades?symbol=S&fromId=113", "/trades?symbol=S&fromId=116", "/trades?symbol=S&fromId=119"]);
  expect(result).toEqual({ pages: 3, failure: undefined });
});

test("backward pages run down from the first delivered id (or the newest) to the last stored", async () => {
  const below = await walk(BACKWARD, { after_id: 104, before_id: 111 }, HISTORY);
  expect(below.paths).toEqual(["/trades?instId=S&after=111", "/trades?instId=S&after=108"]);
  expect(below.got).toEqual([110, 109, 108, 107, 106, 105]);
  expect(below.result).toEqual({ pages: 2, failure: undefined });
  const newest = await walk(BACKWARD, { after_id: 114, before_id: undefined }, HISTORY);
  expect(newest.paths).toEqual(["/trades?instId=S", "/trades?instId=S&after=117"]);
  expect(newest.result.failure).toBeUndefined();
});

test("a venue that pages forever stops after the page bound, saying so", async () => {
  const endless = Array.from({ length: 1000 }, (_, i) => i);
  const { result, paths } = await walk(FORWARD, { after_id: 0, before_id: 900 }, endless, 4);
  expect(paths.length).toBe(4);
  expect(result).toEqual({ pages: 4, failure: "stopped after 4 pages" });
});

test("a venue that serves the same page again, or refuses, stops at once", async () => {
  const stuck = await fetchTradePages(
    BACKWARD,
    "S",
    { after_id: 1, before_id: 50 },
    { fetch: async () => ({ ok: true, body: "", recv_ts_ms: 1 }), push: () => [60, 59, 58], running: () => true },
    10,
  );
  expect(stuck).toEqual({ pages: 1, failure: "page 1 did not move below id 50" });
  const refused = await fetchTradePages(
    FORWARD,
    "S",
    { after_id: 1, before_id: 50 },
    { fetch: async () => ({ ok: false, error: "418 banned" }), push: () => [], running: () => true },
    10,
  );
  expect(refused).toEqual({ pages: 1, failure: "refused: 418 banned" });
});

test("the venues page as documented: Binance fromId 1,000 a page, OKX after 100 a page by trade id", () => {
  expect(binanceTradeBackfill("binance_spot").path("BTCUSDT", 7)).toBe("/api/v3/historicalTrades?symbol=BTCUSDT&limit=1000&fromId=7");
  expect(binanceTradeBackfill("binance_derivatives").path("BTCUSDT", 7)).toBe("/fapi/v1/aggTrades?symbol=BTCUSDT&limit=1000&fromId=7");
  expect(BINANCE_TRADE_PAGE).toBe(1000);
  expect(OKX_TRADE_BACKFILL.path("BTC-USDT", undefined)).toBe("/api/v5/market/history-trades?instId=BTC-USDT&type=1&limit=100");
  expect(OKX_TRADE_BACKFILL.path("BTC-USDT", 9)).toBe("/api/v5/market/history-trades?instId=BTC-USDT&type=1&limit=100&after=9");
  expect([OKX_TRADE_BACKFILL.page_limit, OKX_TRADE_BACKFILL.direction]).toEqual([100, "backward"]);
});

function trade(symbol: string, id: number): TradeRecord {
  return { data_type: "trade", exchange: "binance", market_type: "spot", symbol, ts_ms: id, recv_ts_ms: id, trade_id: String(id), price: "1", quantity: "1", side: "buy", is_maker: false, trade_time: id };
}

/** TradeGaps over a fake venue whose history holds `history` for symbol A-B (native AB); pages carry their trades as ids. */
function tradeGaps(history: readonly number[], options: { max_pages?: number; wait_ms?: number; refuse?: boolean } = {}) {
  const venue = venueHistory(history, FORWARD.page_limit);
  const stored: number[] = [];
  const recovered: { native: string; records: number }[] = [];
  const failed: string[] = [];
  const gaps: TradeGaps = new TradeGaps({
    spec: FORWARD,
    max_pages: options.max_pages ?? 10,
    wait_ms: options.wait_ms ?? 60_000,
    symbolOf: (native) => (native === "AB" ? "A-B" : native === "CD" ? "C-D" : undefined),
    fetch: async (path) => (options.refuse === true ? { ok: false, error: "429" } : { ok: true, body: JSON.stringify(venue.page(path)), recv_ts_ms: 1 }),
    deliver: (_path, body) => {
      for (const id of JSON.parse(body) as number[]) live(trade("A-B", id));
    },
    recovered: (_gap, native, records) => void recovered.push({ native, records }),
    failed: (native, detail) => void failed.push(`${native}: ${detail}`),
  });
  const live = (r: MarketRecord): void => {
    if (r.data_type === "trade" && gaps.accept(r)) stored.push(Number(r.trade_id));
  };
  return { gaps, live, stored, recovered, failed, paths: venue.paths };
}

const GAP: WsGap = { start_ts_ms: 1, end_ts_ms: 2, cause: "reconnect" };

test("a hole is filled from the last stored id to the first delivered after it, keeping only the missing trades", async () => {
  const t = tradeGaps(HISTORY);
  for (const id of [100, 101, 102]) t.live(trade("A-B", id));
  t.gaps.gap(GAP, ["AB", "CD"]);
  t.live(trade("A-B", 109));
  await waitFor("the hole's backfill", () => t.recovered.length === 1, 2000);
  expect(t.stored.toSorted((a, b) => a - b)).toEqual(HISTORY.slice(0, 10));
  expect(t.recovered).toEqual([{ native: "AB", records: 6 }]);
  expect(t.failed).toEqual([]);
  // C-D had no stored trade: nothing to start from, so no hole.
  expect(t.paths.every((p) => p.includes("symbol=AB"))).toBe(true);
  t.gaps.stop();
});

test("a backfill the venue refuses, or that passes its page bound, keeps what it recovered and says why", async () => {
  const refused = tradeGaps(HISTORY, { refuse: true });
  refused.live(trade("A-B", 100));
  refused.gaps.gap(GAP, ["AB"]);
  refused.live(trade("A-B", 110));
  await waitFor("the refusal", () => refused.failed.length === 1, 2000);
  expect(refused.recovered).toEqual([{ native: "AB", records: 0 }]);
  expect(refused.failed).toEqual(["AB: refused: 429; 0 trades recovered in 1 pages"]);
  const bounded = tradeGaps(HISTORY, { max_pages: 2 });
  bounded.live(trade("A-B", 100));
  bounded.gaps.gap(GAP, ["AB"]);
  bounded.live(trade("A-B", 118));
  await waitFor("the page bound", () => bounded.failed.length === 1, 2000);
  expect(bounded.recovered).toEqual([{ native: "AB", records: 6 }]);
  expect(bounded.failed).toEqual(["AB: stopped after 2 pages; 6 trades recovered in 2 pages"]);
  expect(bounded.stored).toEqual([100, 118, 101, 102, 103, 104, 105, 106]);
});

test("a symbol quiet after its hole is filled up to the venue's newest trade after the wait", async () => {
  const t = tradeGaps(HISTORY, { wait_ms: 20 });
  t.live(trade("A-B", 111));
  t.gaps.gap(GAP, ["AB"]);
  await waitFor("the quiet hole's backfill", () => t.recovered.length === 1, 2000);
  expect(t.stored).toEqual([111, 112, 113, 114, 115, 116, 117, 118, 119]);
  expect(t.recovered).toEqual([{ native: "AB", records: 8 }]);
});

test("REST trade pages normalize like the stream: Binance historicalTrades and aggTrades, OKX history-trades; bad rows are counted", () => {
  const spot = run(
    "binance_spot",
    [
      {
        source: "http",
        url: "https://api.binance.com/api/v3/historicalTrades?symbol=BTCUSDT&limit=1000&fromId=28457",
        recv_ts_ms: 1499865549600,
        raw: '[{"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,"isBuyerMaker":true,"isBestMatch":true},{"id":28458,"price":"x","qty":"1","time":1,"isBuyerMaker":true}]',
      },
    ],
    { instruments: docInstruments("binance_spot") },
  );
  expect(spot.records).toEqual([
    { data_type: "trade", exchange: "binance", market_type: "spot", symbol: "BTC-USDT", ts_ms: 1499865549590, recv_ts_ms: 1499865549600, trade_id: "28457", price: "4.00000100", quantity: "12.00000000", side: "sell", is_maker: true, trade_time: 1499865549590 },
  ]);
  expect(spot.normalizer.stats.bad_by_channel).toEqual({ historicalTrades: 1 });
  const futures = run(
    "binance_derivatives",
    [{ source: "http", url: "https://fapi.binance.com/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=26129", recv_ts_ms: 1498793709200, raw: '[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":false}]' }],
    { instruments: docInstruments("binance_derivatives") },
  );
  expect(futures.records).toEqual([
    { data_type: "trade", exchange: "binance", market_type: "perpetual", symbol: "BTC-USDT", ts_ms: 1498793709153, recv_ts_ms: 1498793709200, trade_id: "26129", price: "0.01633102", quantity: "4.70443515", side: "buy", is_maker: false, trade_time: 1498793709153 },
  ]);
  const okx = run(
    "okx_spot",
    [
      {
        source: "http",
        url: "https://www.okx.com/api/v5/market/history-trades?instId=BTC-USDT&type=1&limit=100",
        recv_ts_ms: 1654161647000,
        raw: '{"code":"0","msg":"","data":[{"instId":"BTC-USDT","side":"sell","sz":"0.00001","px":"29963.2","tradeId":"242720720","ts":"1654161646974"}]}',
      },
    ],
    { instruments: docInstruments("okx_spot") },
  );
  expect(okx.records).toEqual([
    { data_type: "trade", exchange: "okx", market_type: "spot", symbol: "BTC-USDT", ts_ms: 1654161646974, recv_ts_ms: 1654161647000, trade_id: "242720720", price: "29963.2", quantity: "0.00001", side: "sell", is_maker: true, trade_time: 1654161646974 },
  ]);
});
