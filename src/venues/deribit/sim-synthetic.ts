import { wave } from "../../replay/synthetic.ts";

/**
 * Deribit's DVOL with no recording (https://docs.deribit.com/#public-get_volatility_index_data,
 * https://docs.deribit.com/subscriptions/market-data/deribit_volatility_indexindex_name): the
 * pushes and the candles carry one value per second, a pure function of the currency and the
 * second (src/replay/synthetic.ts).
 */

/** The push data of `deribit_volatility_index.<indexName>` at tick `n`. */
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
