/** Binance connection tuning (binance/connection.ts, binance/rolling-shard.ts); tests shrink these. */
export interface BinanceTuning {
  /** Streams per Binance connection (tests use a small limit to exercise sharding). */
  readonly binance_max_streams: number;
  /** Lifetime of a Binance connection before its successor is opened, ms. */
  readonly binance_max_lifetime_ms: number;
  /** How long the old and new Binance connections may overlap at most once the new one is subscribed, ms. */
  readonly binance_overlap_ms: number;
  /** A Binance connection silent this long is reconnected with a `stale` gap, ms. */
  readonly binance_silence_ms: number;
  /**
   * Binance connection attempts per venue and IP, replacing the venue's documented limit
   * (binance/routes.ts BINANCE_LIMITS); tests shrink it to show a reconnect storm is paced.
   */
  readonly binance_connect_limit?: { readonly max: number; readonly window_ms: number };
}

export const BINANCE_TUNING: BinanceTuning = {
  // The venue's limit of streams per connection (binance/routes.ts).
  binance_max_streams: 1024,
  // Binance closes a connection after 24 h; roll over well before.
  binance_max_lifetime_ms: 23 * 3_600_000 + 30 * 60_000,
  binance_overlap_ms: 10_000,
  // The server pings every 20 s (spot) and every connection carries at least one symbol's depth
  // or trade stream, so a minute without a frame is a connection that no longer delivers (the
  // spot server's own pong deadline is a minute too).
  binance_silence_ms: 60_000,
};
