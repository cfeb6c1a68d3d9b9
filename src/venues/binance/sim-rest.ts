import type { SentTrades } from "../../replay/sent-trades.ts";
import { noRoute, queryRange, restJson as json, type ReferenceBodies } from "../../replay/sim-rest.ts";
import * as synth from "./sim-synthetic.ts";

/** What the REST side reads from a generated or replayed Binance venue. */
export interface BinanceBooks {
  readonly symbols: readonly string[];
  /** Reference price per symbol, for the documented-shape data (sim-synthetic.ts). */
  readonly prices: ReadonlyMap<string, number>;
  /** The REST depth body for `symbol` now, or undefined for an unknown symbol. */
  depthBody(symbol: string, limit: number, now_ms: number): string | undefined;
  /** The trades a replay sent (generated markets serve their trade history themselves). */
  readonly trades?: SentTrades;
}

const HOUR_MS = 3_600_000;
/** The `period` names the `/futures/data` statistics take (5m to 1d), in ms. */
const PERIOD_MS: Readonly<Record<string, number>> = {
  "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": HOUR_MS, "2h": 2 * HOUR_MS, "4h": 4 * HOUR_MS, "6h": 6 * HOUR_MS, "12h": 12 * HOUR_MS, "1d": 24 * HOUR_MS,
};

/**
 * The simulator's Binance REST routes (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api):
 * exchangeInfo from the reference bodies, depth snapshots from the replayed or generated books
 * (so they bridge to the stream), the trade history from the trades a replay sent (spot
 * `historicalTrades`, USDⓈ-M `aggTrades`: ../../replay/sent-trades.ts), 24 h tickers, USDⓈ-M
 * open interest, premium index, long/short ratios and the open-interest history in their
 * documented shape (sim-synthetic.ts). The `/futures/data` statistics take `startTime`/`endTime`
 * as Binance does, and a bucket's row is the value the live endpoint served in it.
 */
export function binanceRest(path: string, query: URLSearchParams, replay: BinanceBooks, futures: boolean, refs: ReferenceBodies): Response {
  const symbol = query.get("symbol") ?? "";
  const price = replay.prices.get(symbol) ?? 100;
  const now = Date.now();
  const unknownSymbol = json(JSON.stringify({ code: -1121, msg: "Invalid symbol." }), 400);
  if (path === "/api/v3/exchangeInfo" || path === "/fapi/v1/exchangeInfo") {
    const body = refs.lines(futures ? "binance_derivatives_exchangeInfo.jsonl" : "binance_spot_exchangeInfo.jsonl")[0];
    return body ? json(refs.listed(body.raw, "symbols", "symbol")) : noRoute(path);
  }
  if (path === "/api/v3/ticker/24hr" || path === "/fapi/v1/ticker/24hr") {
    const all = replay.symbols.map((s) => synth.binanceTicker24h(s, replay.prices.get(s) ?? 100, now));
    return json(`[${all.join(",")}]`);
  }
  if (path === "/api/v3/depth" || path === "/fapi/v1/depth") {
    const body = replay.depthBody(symbol, Math.min(5000, Number(query.get("limit") ?? 100) || 100), now);
    return body ? json(body) : unknownSymbol;
  }
  const sent = replay.trades;
  if (sent !== undefined && path === (futures ? "/fapi/v1/aggTrades" : "/api/v3/historicalTrades")) {
    // From `fromId` (inclusive) up, or the newest without it; at most `limit` (default 500, max 1000).
    if (!replay.symbols.includes(symbol)) return unknownSymbol;
    const limit = Math.min(1000, Math.max(1, Number(query.get("limit") ?? 500) || 500));
    const from = query.get("fromId");
    const rows = from === null ? sent.before(symbol, undefined, limit).reverse() : sent.from(symbol, Number(from), limit);
    return json(`[${rows.join(",")}]`);
  }
  if (!futures) return noRoute(path);
  if (path === "/fapi/v1/openInterest") return symbol ? json(synth.binanceOpenInterest(symbol, now)) : unknownSymbol;
  if (path === "/fapi/v1/premiumIndex") {
    if (symbol) return json(synth.binancePremiumIndex(symbol, price, now));
    const all = replay.symbols.map((s) => synth.binancePremiumIndex(s, replay.prices.get(s) ?? 100, now));
    return json(`[${all.join(",")}]`);
  }
  const stats = /^\/futures\/data\/(openInterestHist|topLongShortPositionRatio|topLongShortAccountRatio|globalLongShortAccountRatio)$/.exec(path);
  if (stats?.[1]) {
    const period = PERIOD_MS[query.get("period") ?? ""];
    if (!symbol || period === undefined) return json(JSON.stringify({ code: -1102, msg: "Mandatory parameter missing or malformed." }), 400);
    const limit = Math.min(500, Math.max(1, Number(query.get("limit") ?? 30) || 30));
    const range = queryRange(query, "startTime", "endTime");
    if (stats[1] === "openInterestHist") return json(synth.binanceOpenInterestHist(symbol, price, period, limit, now, range));
    return json(synth.binanceRatioRows(symbol, stats[1], period, limit, now, range));
  }
  return noRoute(path);
}


