import { closedBucketStarts, nearPrice as px, nextBoundary, wave, type StampRange } from "../../replay/synthetic.ts";

/**
 * OKX v5 data with no recording, in the documented shapes (https://www.okx.com/docs-v5/en/:
 * public data, Rubik trading statistics, market tickers), each a pure function of (instrument,
 * second or bucket) (src/replay/synthetic.ts).
 */

const HOUR_MS = 3_600_000;
/** Swaps fund every 8 h. */
const FUNDING_MS = 8 * HOUR_MS;

export function okxFundingRate(instId: string, now_ms: number, n: number): object {
  const next = nextBoundary(now_ms, FUNDING_MS);
  return {
    formulaType: "noRate", fundingRate: (0.0001 * (1 + wave(instId, n))).toFixed(16), fundingTime: String(next),
    impactValue: "", instId, instType: "SWAP", interestRate: "", maxFundingRate: "0.00375", method: "current_period",
    minFundingRate: "-0.00375", nextFundingRate: "", nextFundingTime: String(next + FUNDING_MS),
    premium: (0.0001 * wave(instId, n + 3)).toFixed(16), settFundingRate: "0.0000145824401745", settState: "settled",
    ts: String(now_ms),
  };
}

export function okxOpenInterest(instId: string, price: number, now_ms: number, n: number): object {
  const oi = 50000 + 2000 * wave(instId, n);
  return {
    instType: "SWAP", instId, oi: oi.toFixed(0), oiCcy: (oi / price).toFixed(4), oiUsd: (oi * 10).toFixed(2), ts: String(now_ms),
  };
}

export function okxMarkPrice(instId: string, price: number, now_ms: number, n: number): object {
  return { instType: "SWAP", instId, markPx: px(price, instId, n), ts: String(now_ms) };
}

export function okxIndexTicker(indexId: string, price: number, now_ms: number, n: number): object {
  const p = px(price, indexId, n);
  return { instId: indexId, idxPx: p, high24h: p, low24h: p, open24h: p, sodUtc0: p, sodUtc8: p, ts: String(now_ms) };
}

export function okxLiquidation(instId: string, price: number, now_ms: number, n: number): object {
  const family = instId.replace(/-SWAP$/, "");
  return {
    details: [{ bkLoss: "0", bkPx: px(price, instId, n, 0.01), ccy: "", posSide: n % 2 === 0 ? "short" : "long", side: n % 2 === 0 ? "buy" : "sell", sz: String(1 + (n % 13)), ts: String(now_ms) }],
    instFamily: family, instId, instType: "SWAP", uly: family,
  };
}

/** Rubik ratio rows `[ts, ratio]`, newest first: the last `limit` closed buckets, or those in `range` (closedBucketStarts). */
export function okxRubikRows(key: string, period_ms: number, limit: number, now_ms: number, range: StampRange = {}): string[][] {
  return closedBucketStarts(now_ms, period_ms, limit, range)
    .reverse()
    .map((ts) => [String(ts), (1 + 0.3 * wave(key, ts / period_ms)).toFixed(4)]);
}

/** A ticker (`GET /api/v5/market/tickers`): 24 h quote volume price × 1,000,000, so ranking by volume ranks by price. */
export function okxTicker(instId: string, price: number, swap: boolean, now_ms: number): object {
  const p = String(price);
  // volCcy24h is in the base currency for SWAP and in the quote currency for SPOT.
  return {
    instType: swap ? "SWAP" : "SPOT", instId, last: p, lastSz: "1", askPx: p, askSz: "1", bidPx: p, bidSz: "1", open24h: p, high24h: p, low24h: p,
    vol24h: "1000000", volCcy24h: swap ? "1000000" : String(price * 1_000_000), sodUtc0: p, sodUtc8: p, ts: String(now_ms),
  };
}
