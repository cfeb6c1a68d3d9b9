/**
 * Data types with no recording (fixtures README section 9): the documented shapes, with values
 * that change from tick to tick but are a pure function of (symbol, tick or bucket), so a
 * re-polled bucket returns exactly the same body.
 */

function seedOf(symbol: string): number {
  let h = 7;
  for (let i = 0; i < symbol.length; i++) h = (h * 31 + symbol.charCodeAt(i)) % 1000;
  return h;
}

/** A value in [-1, 1] that moves with `n`. */
function wave(symbol: string, n: number): number {
  return Math.sin(n * 0.37 + seedOf(symbol));
}

function px(price: number, symbol: string, n: number, amplitude = 0.002): string {
  return (price * (1 + amplitude * wave(symbol, n))).toPrecision(8);
}

const HOUR_MS = 3_600_000;
const nextFunding = (now_ms: number): number => (Math.floor(now_ms / (8 * HOUR_MS)) + 1) * 8 * HOUR_MS;

// Binance USDⓈ-M (developers.binance.com, see the README for each page).

export function binanceMarkPrice(symbol: string, price: number, now_ms: number, n: number): string {
  const mark = px(price, symbol, n);
  return JSON.stringify({
    e: "markPriceUpdate", E: now_ms, s: symbol, p: mark, i: px(price, symbol, n + 1),
    P: mark, r: (0.0001 * (1 + wave(symbol, n))).toFixed(8), T: nextFunding(now_ms),
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

export function binanceOpenInterest(symbol: string, now_ms: number): string {
  const n = Math.floor(now_ms / 1000);
  return JSON.stringify({ openInterest: (100000 + 5000 * wave(symbol, n)).toFixed(3), symbol, time: now_ms });
}

export function binancePremiumIndex(symbol: string, price: number, now_ms: number): string {
  const n = Math.floor(now_ms / 1000);
  const mark = px(price, symbol, n);
  return JSON.stringify({
    symbol, markPrice: mark, indexPrice: px(price, symbol, n + 1), estimatedSettlePrice: mark,
    lastFundingRate: (0.0001 * (1 + wave(symbol, n))).toFixed(8), nextFundingTime: nextFunding(now_ms),
    interestRate: "0.00010000", time: now_ms,
  });
}

/** The last `limit` closed buckets, oldest first, as `/futures/data/*LongShort*Ratio` returns them. */
export function binanceRatioRows(symbol: string, kind: string, period_ms: number, limit: number, now_ms: number): string {
  const rows: object[] = [];
  const lastClosed = Math.floor(now_ms / period_ms) * period_ms - period_ms;
  for (let i = limit - 1; i >= 0; i--) {
    const ts = lastClosed - i * period_ms;
    const long = 0.5 + 0.15 * wave(symbol + kind, ts / period_ms);
    rows.push({
      symbol, longShortRatio: (long / (1 - long)).toFixed(4), longAccount: long.toFixed(4),
      shortAccount: (1 - long).toFixed(4), timestamp: String(ts),
    });
  }
  return JSON.stringify(rows);
}

// OKX v5 (www.okx.com/docs-v5/en/).

export function okxFundingRate(instId: string, now_ms: number, n: number): object {
  const next = nextFunding(now_ms);
  return {
    formulaType: "noRate", fundingRate: (0.0001 * (1 + wave(instId, n))).toFixed(16), fundingTime: String(next),
    impactValue: "", instId, instType: "SWAP", interestRate: "", maxFundingRate: "0.00375", method: "current_period",
    minFundingRate: "-0.00375", nextFundingRate: "", nextFundingTime: String(next + 8 * HOUR_MS),
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

/** Rubik ratio rows `[ts, ratio]`, newest first, for the last `limit` closed buckets. */
export function okxRubikRows(key: string, period_ms: number, limit: number, now_ms: number): string[][] {
  const rows: string[][] = [];
  const lastClosed = Math.floor(now_ms / period_ms) * period_ms - period_ms;
  for (let i = 0; i < limit; i++) {
    const ts = lastClosed - i * period_ms;
    rows.push([String(ts), (1 + 0.3 * wave(key, ts / period_ms)).toFixed(4)]);
  }
  return rows;
}

// Deribit (docs.deribit.com).

export function deribitVolatility(indexName: string, now_ms: number, n: number): object {
  return { volatility: Number((60 + 8 * wave(indexName, n)).toFixed(2)), timestamp: now_ms, index_name: indexName };
}

/** DVOL of `currency` (BTC, ETH) in the second of `ts_ms`: what a candle at that time and the generator's push of that second carry. */
export function deribitVolatilityAt(currency: string, ts_ms: number): number {
  return Number((60 + 8 * wave(currency, Math.floor(ts_ms / 1000))).toFixed(2));
}

/** `[ts, open, high, low, close]` candles between two times at `resolution_s`, each at the DVOL of its `ts`. */
export function deribitVolatilityCandles(currency: string, start_ms: number, end_ms: number, resolution_s: number): number[][] {
  const step = Math.max(1, resolution_s) * 1000;
  const out: number[][] = [];
  for (let ts = Math.ceil(start_ms / step) * step; ts <= end_ms && out.length < 1000; ts += step) {
    const v = deribitVolatilityAt(currency, ts);
    out.push([ts, v, v + 0.5, v - 0.5, v]);
  }
  return out;
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

/** An OKX ticker (`GET /api/v5/market/tickers`): 24 h quote volume price × 1,000,000, as binanceTicker24h. */
export function okxTicker(instId: string, price: number, swap: boolean, now_ms: number): object {
  const p = String(price);
  // volCcy24h is in the base currency for SWAP and in the quote currency for SPOT.
  return {
    instType: swap ? "SWAP" : "SPOT", instId, last: p, lastSz: "1", askPx: p, askSz: "1", bidPx: p, bidSz: "1", open24h: p, high24h: p, low24h: p,
    vol24h: "1000000", volCcy24h: swap ? "1000000" : String(price * 1_000_000), sodUtc0: p, sodUtc8: p, ts: String(now_ms),
  };
}
