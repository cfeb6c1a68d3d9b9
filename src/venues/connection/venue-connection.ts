import type { VenueConfig, VenueKey } from "../../config/schema.ts";
import type { DataType } from "../../records/types.ts";
import type { BookHealth, InstrumentMap } from "../types.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { SymbolFailure } from "./symbol-failure.ts";
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

/**
 * What a venue's connection module needs from the ingest runner, and gives back. `T` is the
 * venue's own tuning keys (each venue folder declares them; the registry's EngineTuning holds
 * every venue's).
 */
export interface ConnectionContext<T extends object = object> {
  readonly venue: VenueKey;
  readonly config: VenueConfig;
  /** Native symbols of this worker's shard. */
  readonly symbols: readonly string[];
  readonly instruments: InstrumentMap;
  readonly tuning: ConnectionTuning & T;
  /** Every received text frame with its receive time and connection URL. */
  readonly onFrame: (text: string, recv_ts_ms: number, url: string) => void;
  /**
   * A hole in the data of `symbols` (native) on one connection; `data_types` are the types that
   * connection carries (all of the venue's when absent).
   */
  readonly onGap: (gap: WsGap, symbols: readonly string[], data_types?: readonly DataType[]) => void;
  /** A connection was lost; `data_types` as for `onGap` (books restart only if it carried them). */
  readonly onDisconnect: (recv_ts_ms: number, data_types?: readonly DataType[]) => void;
  /**
   * A channel fell silent past its cadence limit (`silent`), or delivered again after that
   * (`!silent`); a connection reconnects only once all its watched channels are silent.
   */
  readonly onStale: (channel: string, silent: boolean) => void;
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
  /**
   * Symbols failing on this connection alone, given the thread's book health: subscriptions
   * the venue refused, books resubscribed in a loop (for `/stats` `failing_symbols`).
   */
  failures?(books: readonly BookHealth[]): SymbolFailure[];
}

/** Tuning every venue's connections share; venue folders add their own keys (tests shrink them). */
export interface ConnectionTuning {
  readonly backoff: BackoffOptions;
  /** Ms to wait for any message after a ping/heartbeat before reconnecting. */
  readonly heartbeat_timeout_ms: number;
  /** Multiplies every channel's staleness limit (tests shrink it). */
  readonly stale_factor: number;
  readonly rest_timeout_ms: number;
  /** REST pages one trade backfill may take before it stops short (trade-pages.ts). */
  readonly backfill_max_pages: number;
  /** Ms a trade hole waits for its symbol's next stream trade before it is filled up to the newest (trade-gaps.ts). */
  readonly backfill_wait_ms: number;
}

export const CONNECTION_TUNING: ConnectionTuning = {
  backoff: { initial_ms: 500, max_ms: 30_000 },
  heartbeat_timeout_ms: 10_000,
  stale_factor: 1,
  rest_timeout_ms: 10_000,
  // 100 pages: 100,000 trades on Binance, 10,000 on OKX (minutes of a busy symbol's trades).
  backfill_max_pages: 100,
  backfill_wait_ms: 5_000,
};

/**
 * A venue's staleness limit of one channel, sized to the channel's cadence, ms; 0 = no cadence
 * (trades, liquidations and diff books of quiet symbols may legitimately be silent). Each venue's
 * channels.ts has one; `tuning.stale_factor` multiplies it.
 */
export type StaleLimit = (channel: string) => number;
