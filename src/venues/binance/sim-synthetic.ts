import { closedBucketStarts, nearPrice as px, nextBoundary, wave, type StampRange } from "../../replay/synthetic.ts";

/**
 * Binance data with no recording, in the documented shapes of the USDⓈ-M pages
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams)
 * and the spot and USDⓈ-M 24 h tickers, each a pure function of (symbol, second or bucket)
 * (src/replay/synthetic.ts).
 */

/** USDⓈ-M funds every 8 h. */
const FUNDING_MS = 8 * 3_600_000;

export function binanceMarkPrice(symbol: string, price: number, now_ms: number, n: number): string {
  const mark = px(price, symbol, n);
  return JSON.stringify({
    e: "markPriceUpdate", E: now_ms, s: symbol, p: mark, i: px(price, symbol, n + 1),
    P: mark, r: (0.0001 * (1 + wave(symbol, n))).toFixed(8), T: nextBoundary(now_ms, FUNDING_MS),
  });
}

export function binanceForceOrder(symbol: string, price: number, now_ms: number, n: number): string {
  const q = String(1 + (n % 17));
  const p = px(price, symbol, n, 0.01);
  return JSON.stringify({
    e: "forceOrder", E: now_ms,
    o: { s: symbol, S: n % 2 === 0 ? "SELL" : "BUY", o: "LIMIT", f: "IOC", q, p, ap: p, X: "FILLED", l: q, z: q, T: now_ms },
  });
}

/** Open interest at second `n`, base-asset units. */
function openInterestAt(symbol: string, n: number): number {
  return 100000 + 5000 * wave(symbol, n);
}

export function binanceOpenInterest(symbol: string, now_ms: number): string {
  return JSON.stringify({ openInterest: openInterestAt(symbol, Math.floor(now_ms / 1000)).toFixed(3), symbol, time: now_ms });
}

/**
 * `/futures/data/openInterestHist` rows, oldest first: at each closed bucket's start, the open
 * interest `/fapi/v1/openInterest` served at that second, valued at the reference price.
 */
export function binanceOpenInterestHist(symbol: string, price: number, period_ms: number, limit: number, now_ms: number, range: StampRange): string {
  return JSON.stringify(
    closedBucketStarts(now_ms, period_ms, limit, range).map((ts) => {
      const oi = openInterestAt(symbol, ts / 1000);
      return { symbol, sumOpenInterest: oi.toFixed(8), sumOpenInterestValue: (oi * price).toFixed(8), timestamp: ts };
    }),
  );
}

export function binancePremiumIndex(symbol: string, price: number, now_ms: number): string {
  const n = Math.floor(now_ms / 1000);
  const mark = px(price, symbol, n);
  return JSON.stringify({
    symbol, markPrice: mark, indexPrice: px(price, symbol, n + 1), estimatedSettlePrice: mark,
    lastFundingRate: (0.0001 * (1 + wave(symbol, n))).toFixed(8), nextFundingTime: nextBoundary(now_ms, FUNDING_MS),
    interestRate: "0.00010000", time: now_ms,
  });
}

/**
 * Closed buckets, oldest first, as `/futures/data/*LongShort*Ratio` returns them: the last
 * `limit`, or those in `range` (closedBucketStarts). A bucket's row is the same whichever way it is asked for.
 */
export function binanceRatioRows(symbol: string, kind: string, period_ms: number, limit: number, now_ms: number, range: StampRange = {}): string {
  const rows: object[] = [];
  for (const ts of closedBucketStarts(now_ms, period_ms, limit, range)) {
    const long = 0.5 + 0.15 * wave(symbol + kind, ts / period_ms);
    rows.push({
      symbol, longShortRatio: (long / (1 - long)).toFixed(4), longAccount: long.toFixed(4),
      shortAccount: (1 - long).toFixed(4), timestamp: String(ts),
    });
  }
  return JSON.stringify(rows);
}

/**
 * A 24 h ticker (`GET /api/v3/ticker/24hr`, `/fapi/v1/ticker/24hr` list items) whose quote
 * volume is the price × 1,000,000: ranking by volume ranks by price, which tests can predict.
 */
export function binanceTicker24h(symbol: string, price: number, now_ms: number): string {
  const p = String(price);
  return JSON.stringify({
    symbol, priceChange: "0", priceChangePercent: "0", weightedAvgPrice: p, lastPrice: p, lastQty: "1", openPrice: p, highPrice: p, lowPrice: p,
    volume: "1000000", quoteVolume: String(price * 1_000_000), openTime: now_ms - 86_400_000, closeTime: now_ms, firstId: 1, lastId: 2, count: 2,
  });
}
