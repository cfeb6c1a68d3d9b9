import type { DataType } from "../../records/types.ts";

/**
 * What the connection layer subscribes to and polls on Deribit (SPEC section 1 table): only
 * the DVOL volatility indices, one per currency (config symbols are currencies: BTC, ETH).
 * https://docs.deribit.com/subscriptions/market-data/deribit_volatility_indexindex_name
 */

/** Channel names for `public/subscribe` `params.channels`. */
export function deribitChannels(symbols: readonly string[], data_types: readonly DataType[]): string[] {
  if (!data_types.includes("volatility_index")) return [];
  return symbols.map((currency) => `deribit_volatility_index.${currency.toLowerCase()}_usd`);
}

/** Staleness limit of a channel, ms (StaleLimit), sized to its push cadence; 0 = none. */
export function deribitStaleLimitMs(channel: string): number {
  return channel.toLowerCase().startsWith("deribit_volatility_index") ? 60_000 : 0;
}

/**
 * Backfill request for `public/get_volatility_index_data` (candles [ts, open, high, low, close];
 * the normalizer keeps the close). `resolution` is in seconds ("1", "60", "3600", "43200") or "1D".
 * The response has no currency, so the normalizer reads it from this URL's `currency` parameter.
 */
export function deribitVolatilityIndexPath(currency: string, start_ms: number, end_ms: number, resolution = "60"): string {
  return `/api/v2/public/get_volatility_index_data?currency=${currency}&start_timestamp=${start_ms}&end_timestamp=${end_ms}&resolution=${resolution}`;
}
