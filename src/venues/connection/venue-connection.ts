import type { VenueConfig, VenueKey } from "../../config/schema.ts";
import type { DataType } from "../../records/types.ts";
import type { InstrumentMap } from "../types.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { WindowLimiter } from "./window-limiter.ts";
import type { WsGap } from "./ws-client.ts";

/**
 * An error the venue sent (OKX `"event":"error"`, a Deribit JSON-RPC error) or a venue limit the
 * connection ran into. Every one is counted; `first` marks the first of an incident (same code,
 * same connection), which is reported as a `refused` ConnectionIncident with `next`: what the
 * engine does about it.
 */
export interface VenueErrorEvent {
  readonly url: string;
  readonly code: string;
  readonly msg: string;
  readonly next: string;
  readonly first: boolean;
}

/** What a venue's connection module needs from the ingest runner, and gives back. */
export interface ConnectionContext {
  readonly venue: VenueKey;
  readonly config: VenueConfig;
  /** Native symbols of this worker's shard. */
  readonly symbols: readonly string[];
  readonly instruments: InstrumentMap;
  readonly tuning: ConnectionTuning;
  /** Every received text frame with its receive time and connection URL. */
  readonly onFrame: (text: string, recv_ts_ms: number, url: string) => void;
  /**
   * A hole in the data of `symbols` (native) on one connection; `data_types` are the types that
   * connection carries (all of the venue's when absent).
   */
  readonly onGap: (gap: WsGap, symbols: readonly string[], data_types?: readonly DataType[]) => void;
  /** A connection was lost; `data_types` as for `onGap` (books restart only if it carried them). */
  readonly onDisconnect: (recv_ts_ms: number, data_types?: readonly DataType[]) => void;
  /** A channel fell silent past its cadence limit. */
  readonly onStale: (channel: string) => void;
  /** Something the venue did to a connection that the engine answers (counted and logged once). */
  readonly onIncident?: (incident: ConnectionIncident) => void;
  /** An error reply from the venue (counted; the first of an incident also goes to `onIncident`). */
  readonly onVenueError?: (event: VenueErrorEvent) => void;
  /** This thread's share of the venue's connection-attempt limit (connect-share.ts). */
  readonly connect_limiter?: WindowLimiter;
}

/**
 * A venue closing, retiring or starving a connection: `rate_limited` (close 1008, too many
 * incoming messages), `server_shutdown` (the venue announced the close), `silent` (nothing
 * arrived for the silence timeout), `refused` (an error answer to a request). `next` says what the
 * engine does about it, for the log line.
 */
export interface ConnectionIncident {
  readonly kind: "rate_limited" | "server_shutdown" | "silent" | "refused";
  readonly url: string;
  readonly detail: string;
  readonly next: string;
}

export interface VenueConnection {
  start(): void;
  stop(): Promise<void>;
  /** Reconnects across all sockets of this connection. */
  readonly reconnects: number;
  /** Sockets open now (for `/stats`). */
  readonly openConnections?: number;
  /** Requests sent to the venue over the sockets (subscribe requests), since start. */
  readonly requests?: number;
  /** The most requests one socket sent within one second (the venue's incoming-message limit). */
  readonly requestsPeakPerS?: number;
  /**
   * Subscribes `add` and unsubscribes `remove` (native ids) on the open connections, without
   * reconnecting the others (instrument refresh).
   */
  changeSymbols?(add: readonly string[], remove: readonly string[]): void;
  /** OKX: resubscribe these books (after a checksum/sequence failure). */
  resubscribeBooks?(natives: readonly string[]): void;
}

/** Binance: at most this many streams on one connection (venue limit, binance/routes.ts). */
export const BINANCE_MAX_STREAMS = 1024;
/** Binance closes a connection after 24 h; roll over well before. */
export const BINANCE_MAX_LIFETIME_MS = 23 * 3_600_000 + 30 * 60_000;
/**
 * Binance: reconnect a connection that delivered nothing for this long, ms. The server pings
 * every 20 s (spot) and every connection carries at least one symbol's depth or trade stream,
 * so a minute without a frame is a connection that no longer delivers (the spot server's own
 * pong deadline is a minute too).
 */
export const BINANCE_SILENCE_MS = 60_000;

export interface ConnectionTuning {
  readonly backoff: BackoffOptions;
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
  /** OKX: send "ping" after this much silence either way, ms (OKX drops sockets idle for 30 s). */
  readonly okx_ping_idle_ms: number;
  /** Ms to wait for any message after a ping/heartbeat before reconnecting. */
  readonly heartbeat_timeout_ms: number;
  /** OKX: shortest interval between two book resubscription rounds, ms (each spends 2+ of 480 requests an hour). */
  readonly okx_resubscribe_interval_ms: number;
  /** Deribit `public/set_heartbeat` interval, seconds (Deribit's minimum is 10). */
  readonly deribit_heartbeat_s: number;
  /** Multiplies every channel's staleness limit (tests shrink it). */
  readonly stale_factor: number;
  readonly rest_timeout_ms: number;
}

export const DEFAULT_TUNING: ConnectionTuning = {
  backoff: { initial_ms: 500, max_ms: 30_000 },
  binance_max_streams: BINANCE_MAX_STREAMS,
  binance_max_lifetime_ms: BINANCE_MAX_LIFETIME_MS,
  binance_overlap_ms: 10_000,
  binance_silence_ms: BINANCE_SILENCE_MS,
  okx_ping_idle_ms: 25_000,
  heartbeat_timeout_ms: 10_000,
  okx_resubscribe_interval_ms: 1000,
  deribit_heartbeat_s: 30,
  stale_factor: 1,
  rest_timeout_ms: 10_000,
};

/**
 * Staleness limits by channel, sized to each channel's cadence, ms; 0 = no cadence (trades,
 * liquidations and diff books of quiet symbols may legitimately be silent).
 */
export function staleLimitMs(channel: string, factor: number): number {
  const c = channel.toLowerCase();
  if (c.includes("@markprice@1s")) return 10_000 * factor;
  if (c.includes("@markprice")) return 30_000 * factor;
  if (c.startsWith("funding-rate")) return 180_000 * factor;
  if (c.startsWith("open-interest") || c.startsWith("mark-price") || c.startsWith("index-tickers")) return 60_000 * factor;
  if (c.startsWith("deribit_volatility_index")) return 60_000 * factor;
  return 0;
}
