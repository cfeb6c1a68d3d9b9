import type { BookHealth } from "../venues/types.ts";
import type { SymbolFailure } from "../venues/connection/symbol-failure.ts";
import type { VenueSymbolStats } from "../supervisor/instrument-refresh.ts";

export type { VenueSymbolStats };

/** The JSON body of `GET /stats` (the handler adds `http.refused_requests`, by status code). */
export interface StatsSnapshot {
  readonly uptime_s: number;
  readonly role: string;
  readonly process: ProcessStats;
  readonly venues: Record<string, VenueStats>;
  readonly data_types: Record<string, TypeStats>;
  readonly workers: readonly WorkerStats[];
  readonly books: Record<string, readonly BookHealth[]>;
  readonly nats: NatsStats;
  readonly clickhouse: ComponentStats;
  readonly tiering: Record<string, TieringTableStats>;
}

export interface VenueStats {
  readonly enabled: boolean;
  readonly state: "connected" | "disconnected" | "disabled";
  readonly messages_in: number;
  readonly messages_per_s: number;
  readonly reconnects: number;
  /** Milliseconds since the last frame, null before the first. */
  readonly last_message_age_ms: number | null;
  readonly unrecognized: number;
  readonly errors: number;
  readonly resyncs: number;
  /** Error events the venue sent (OKX `"event":"error"`) and venue limits the engine ran into. */
  readonly error_events: number;
  /** Unrecognized + malformed frames per channel (e.g. `depth`, `books`, `unknown`). */
  readonly bad_by_channel: Readonly<Record<string, number>>;
  /** WebSocket connections open now (two for one Binance connection while its rollover overlaps). */
  readonly open_connections: number;
  /** Requests sent to the venue over WebSocket connections (Binance SUBSCRIBE), and per second. */
  readonly ws_requests: number;
  readonly ws_requests_per_s: number;
  /**
   * The most messages the engine sent on one connection within one second, against the venue's
   * incoming-message limit (Binance spot 5, USDⓈ-M 10; the pongs Bun sends are not seen here).
   */
  readonly ws_requests_peak_per_s: number;
  /** 1008 closes, shutdown notices and silences on the venue's connections (each logged once). */
  readonly ws_incidents: number;
  /** REST answers 429 and 418 together. */
  readonly rate_limited: number;
  /** Trade backfills after a gap that stopped short (refused, stuck, past the page bound), each logged. */
  readonly trade_backfill_failures: number;
  /** Failed starts of the venue's shards, each tried again with backoff; /health names the last error. */
  readonly start_failures: number;
  /** Frames the venue's normalizer threw on (a bug): each dropped, the shard and its neighbours kept running, the books resynced; logged. */
  readonly normalizer_exceptions: number;
  readonly rest: VenueRestStats;
  /** The venue's resolved symbols and its instrument refreshes (src/supervisor/instrument-refresh.ts). */
  readonly symbols: VenueSymbolStats;
  readonly book_sync: VenueBookSync;
  /**
   * Symbols failing on their own, the others unaffected, one entry per symbol and kind: a refused
   * book snapshot, a book whose snapshot no update bridges, a book in a resync loop
   * (src/venues/connection/sync-queue.ts, resync-loops.ts), streams silent past their cadence
   * (channel-watchdog.ts), subscriptions the venue refused (refused-subscriptions.ts).
   */
  readonly failing_symbols: readonly SymbolFailure[];
  /**
   * Per data type (those the venue collects, and any other with observations): exchange time ->
   * receipt and receipt -> ClickHouse commit (src/stats/latency.ts).
   */
  readonly latency: Readonly<Record<string, TypeLatencyStats>>;
  readonly clock_skew: ClockSkewStats;
  /** Records recoveries after gaps brought back, per affected data type (the gaps' `recovered_records`). */
  readonly recovered: Readonly<Record<string, number>>;
}

/** A venue's books over all its ingest workers (src/venues/connection/sync-queue.ts). */
export interface VenueBookSync {
  readonly total: number;
  readonly live: number;
  /** Neither live nor waiting: a snapshot on the wire, one waiting for an update to bridge it, a resync, a failing symbol. */
  readonly syncing: number;
  /** Books whose REST depth snapshot waits for the venue's weight budget. */
  readonly waiting: number;
  /** Seconds until the last waiting book's snapshot can be sent (a REST block, then the budget's refill); 0 with none waiting. */
  readonly eta_s: number;
}

/**
 * One latency histogram's count and percentiles, ms. The percentiles are estimated from the
 * histogram's buckets (linear within the bucket, as Prometheus' histogram_quantile), not exact;
 * null without observations, and the last bound (300000) when they fall beyond it.
 */
export interface LatencySummary {
  readonly count: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
}

export interface TypeLatencyStats {
  /** Negative values (clock skew) are in `count` as 0 ms and counted in `negative`. */
  readonly exchange_to_receive: LatencySummary & { readonly negative: number };
  readonly receive_to_commit: LatencySummary;
}

/** The venue's clock against this machine's (src/supervisor/clock-skew.ts). */
export interface ClockSkewStats {
  readonly max_clock_skew_ms: number;
  /** Largest `ts_ms - recv_ts_ms` over the last second with records (positive: events stamped after receipt); null before any. */
  readonly last_ms: number | null;
  /** The skew is past max_clock_skew_ms now (warned once when it passed). */
  readonly in_incident: boolean;
  /** Times the skew passed max_clock_skew_ms. */
  readonly incidents: number;
}

/** A venue's REST against its weight budget (src/venues/connection/rest-budget.ts). */
export interface VenueRestStats {
  /** Weight drawn since start, in the venue's units (Binance request weight, OKX requests, Deribit credits). */
  readonly weight_used: number;
  /** Weight drawn over the last rate interval, per minute. */
  readonly weight_per_min: number;
  /** Requests waiting in the ingest workers' queues. */
  readonly queue: number;
  readonly responses_429: number;
  readonly responses_418: number;
  /** Ms until REST to the venue may go on after a 429's Retry-After or a 418 ban; 0 = not blocked. */
  readonly blocked_ms: number;
  /** HTTP status of the block in force: 429 (rate limited), 418 (IP ban); 0 = not blocked. */
  readonly block_status: number;
  /**
   * Limits the venue's bucket polls (open interest, ratios) ask more of per `poll_period` than
   * the budget sustains, for the symbols collected now: those polls fall behind and miss buckets.
   * Empty when they fit.
   */
  readonly poll_overloads: readonly PollOverloadStats[];
}

/** One limit the polls overload: weight asked and sustained per poll period, and the symbols that fit. */
export interface PollOverloadStats {
  readonly limit: string;
  readonly asked: number;
  readonly sustained: number;
  readonly symbols_fit: number;
}

export interface TypeStats {
  readonly ingested: number;
  readonly published: number;
  readonly stored: number;
  readonly dropped: number;
  readonly dead_lettered: number;
  /** Second deliveries of messages already held or stored, acknowledged with the first (consumer.ts). */
  readonly duplicate_deliveries: number;
  /** Records the stream dropped on their first publish as copies of records it already held (same frame id; publisher.ts). */
  readonly duplicate_publishes: number;
  readonly publish_errors: number;
  readonly insert_errors: number;
  readonly ingested_per_s: number;
  readonly published_per_s: number;
  readonly stored_per_s: number;
  readonly consumer_pending: number;
  /** Records ingest workers hold outside full rings (not yet counted as ingested); bounded by ring.overflow_records per ring. */
  readonly overflow: number;
  readonly last_insert_ms: number;
  readonly last_insert_rows: number;
}

export interface RingStats {
  readonly peer: string;
  /** The record type it carries (a shared batch thread reads rings of several). */
  readonly type: string;
  readonly depth_bytes: number;
  readonly capacity_bytes: number;
  readonly high_water_bytes: number;
}

/** A venue shard of an ingest thread: its own connections, REST queue and books. */
export interface WorkerShardStats {
  /** `ingest:<venue>:<index>`, the id /health and the logs name it by. */
  readonly id: string;
  readonly venue: string;
  /** Symbols it collects now (instrument refreshes change them). */
  readonly symbols: number;
  /** Starts that failed since its last good one (it is tried again with backoff); 0 once it runs. */
  readonly failed_starts: number;
  /** Why the last of those failed; null when none has since its last good start. */
  readonly last_start_error: string | null;
}

export interface WorkerStats {
  readonly id: string;
  readonly kind: "ingest" | "batch";
  readonly state: "starting" | "running" | "restarting" | "stopping" | "stopped" | "failed";
  readonly restarts: number;
  readonly last_error: string | null;
  /** Records this ingest worker holds outside its full rings (0 for batch workers). */
  readonly overflow_records: number;
  /** Rings this worker writes (ingest) or reads (batch). */
  readonly rings: readonly RingStats[];
  /** The venue shards this ingest thread runs: one in a venue's own thread, several in the shared one; empty for batch workers. */
  readonly shards: readonly WorkerShardStats[];
  /** The thread's JavaScript heap after its last collection, bytes (reported every 5 s); null before the first report. */
  readonly heap_bytes: number | null;
  /** Full collections the heap guard (src/setup/heap-guard.ts) has run on the current thread. */
  readonly full_collections: number;
}

/**
 * The engine process: its RSS, and the supervisor thread's heap (each worker's is in `workers`),
 * which counts the rings' SharedArrayBuffers: the supervisor allocates them.
 */
export interface ProcessStats {
  readonly rss_bytes: number;
  readonly heap_bytes: number;
  readonly full_collections: number;
}

export interface ComponentStats {
  readonly state: "up" | "down" | "disabled";
  readonly mode: string;
  readonly url: string;
  /** Last measured round trip (NATS) or ping (ClickHouse), ms; null if never measured. */
  readonly latency_ms: number | null;
  readonly last_error: string | null;
}

export interface NatsStats extends ComponentStats {
  /** Times the supervisor started the embedded nats-server again after it exited on its own (0 with an external server). */
  readonly restarts: number;
}

export interface TieringTableStats {
  readonly watermark_ms: number | null;
  readonly lag_ms: number | null;
  readonly windows_verified: number;
  readonly windows_failed: number;
  readonly last_error: string | null;
}

export interface HealthReport {
  readonly ok: boolean;
  readonly components: Record<string, HealthComponent>;
}

export interface HealthComponent {
  readonly state: string;
  readonly detail?: string;
  /** A venue whose REST is blocked (`rate_limited`, `banned`): seconds until it may send again. */
  readonly retry_after_s?: number;
}
