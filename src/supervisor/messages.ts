import type { Config, VenueKey } from "../config/schema.ts";
import type { DataType, Exchange, MarketType, RecordType } from "../records/types.ts";
import type { BookHealth, Instrument } from "../venues/types.ts";
import type { RestLimitScale } from "../venues/connection/rest-budget.ts";
import type { BookSyncReport } from "../venues/connection/sync-queue.ts";
import type { InsertReply, InsertRequest } from "../storage/insert-messages.ts";
import type { HeapReport } from "../setup/heap-guard.ts";

export type { InsertReply, InsertRequest };

/**
 * Every message that crosses threads, in one place. Worker entry files (workers/*.worker.ts)
 * receive a `WorkerInit` as `workerData`, then exchange `ToWorker` / `FromWorker` messages.
 * Batch workers also send ClickHouse inserts to the supervisor (`InsertRequest`, answered by
 * `InsertReply`; declared beside the sink that speaks them, src/storage/insert-messages.ts).
 */

/** One ring from an ingest worker to a batch worker; the supervisor owns its SharedArrayBuffer. */
export interface RingLink {
  readonly type: RecordType;
  /** Index of the batch worker of `type` that consumes this ring. */
  readonly batch_index: number;
  readonly buffer: SharedArrayBuffer;
}

interface InitCommon {
  /** Stable thread id, e.g. `ingest:binance_spot:0`, `ingest:shared:0`, `batch:trade:1`, `batch:shared:0`. */
  readonly id: string;
  readonly index: number;
  readonly config: Config;
  /** Shared counters (layout from src/stats/layout.ts). */
  readonly counters: SharedArrayBuffer;
}

/** One ingest worker an ingest thread runs: a venue's shard of symbols (src/supervisor/topology.ts). */
export interface IngestShardInit {
  /** Stable shard id, e.g. `ingest:binance_spot:0`. */
  readonly id: string;
  readonly venue: VenueKey;
  readonly index: number;
  /** Venue-native symbols of this shard. */
  readonly symbols: readonly string[];
  /**
   * The venue's instrument metadata as the supervisor read it at start (plus what refreshes
   * added since), so the worker and its restarts do not read it again; null when the supervisor
   * could not read it (the worker then reads it itself, retrying as for any outage).
   */
  readonly instruments: readonly Instrument[] | null;
  /** The venue's REST weight budget (src/venues/connection/rest-budget.ts), shared by its ingest workers. */
  readonly rest_budget: SharedArrayBuffer;
  /** Shrinks the venue's documented REST limits (tests: a storm on a small budget); null: as documented. */
  readonly rest_scale: RestLimitScale | null;
  /**
   * Ingest workers of the plan that share this venue's connection-attempt limit
   * (`connect_limit.family`), this one included: each takes an equal share. 1 without a limit.
   */
  readonly connect_shares: number;
}

export interface IngestInit extends InitCommon {
  readonly kind: "ingest";
  /** The venue shards this thread runs: one in a venue's own thread, several in the shared one. */
  readonly shards: readonly IngestShardInit[];
  /** Outgoing rings, one per batch worker of every type its venues produce (gap included). */
  readonly rings: readonly RingLink[];
  /** Directory to record raw frames into (--record), or null. */
  readonly record_dir: string | null;
  /** Synthetic source for tests and load: emit this many sequenced trades, then idle. */
  readonly synthetic: SyntheticSpec | null;
  /** The `engine_down` gaps to write after an unclean stop (src/supervisor/engine-down.ts), or null. */
  readonly engine_down: EngineDownPlan | null;
}

export interface SyntheticSpec {
  readonly records: number;
  /** Records per second; 0 = as fast as the rings take them. */
  readonly rate: number;
  /** First sequence number (default 0); worker i emits offset + i * records onwards. */
  readonly offset?: number;
}

/** One kind's engine-down gap, waiting for its end: the first record of the kind after the restart. */
export interface EngineDownGap {
  readonly data_type: DataType;
  readonly exchange: Exchange;
  readonly market_type: MarketType;
  readonly symbol: string;
  /** Exchange time of the newest record of the kind kept before the unclean stop. */
  readonly start_ts_ms: number;
}

/**
 * Every ingest worker gets the same plan and claim slots: whichever sees a kind's first record
 * (or reaches the deadline, or stops) claims its slot with a compare-and-swap and writes the gap,
 * so each is written once, also across worker restarts.
 */
export interface EngineDownPlan {
  readonly gaps: readonly EngineDownGap[];
  /** Int32 per gap: 0 open, 1 written. */
  readonly claims: SharedArrayBuffer;
  /** Wall-clock ms after which the open gaps end at the wall clock. */
  readonly deadline_at_ms: number;
}

/** One lane of a batch worker thread: the `index`th share of `type` (src/supervisor/topology.ts). */
export interface BatchLaneInit {
  readonly type: RecordType;
  readonly index: number;
  /** Incoming rings, one per ingest worker that produces `type`. */
  readonly rings: readonly RingLink[];
  /**
   * Stream sequences the storage consumers of `type` hold and acknowledged, shared by its lanes
   * and kept across their threads' restarts (src/bus/delivered-seqs.ts); null when not storing from NATS.
   */
  readonly delivered_seqs: SharedArrayBuffer | null;
}

export interface BatchInit extends InitCommon {
  readonly kind: "batch";
  /** The lanes this thread runs: one for a type's own worker, several in the shared thread. */
  readonly lanes: readonly BatchLaneInit[];
  /** NATS servers to connect to; null without NATS. */
  readonly nats_servers: readonly string[] | null;
  /** Whether this worker runs the JetStream -> ClickHouse consumer (or ring -> ClickHouse). */
  readonly store: boolean;
  /** Whether this worker publishes its rings to JetStream. */
  readonly publish: boolean;
}

export type WorkerInit = IngestInit | BatchInit;

export type ToWorker =
  /** Stop intake (ingest) or drain inputs (batch), flush, reply `stopped`, exit. */
  | { readonly type: "stop" }
  /** To an ingest thread: its shard `shard` subscribes `add` (with their metadata) and drops `remove` (native ids), instrument refresh. */
  | SymbolsMessage
  | InsertReply;

export interface SymbolsMessage {
  readonly type: "symbols";
  /** The shard id. */
  readonly shard: string;
  readonly add: readonly Instrument[];
  readonly remove: readonly string[];
}

/** Control messages from a worker; `InsertRequest`s travel the same port (see ManagedWorker). */
export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "stopped" }
  /** Once a second per shard of an ingest thread: book health and sync, bad frames per channel (totals), REST queue. */
  | {
      readonly type: "venue_health";
      /** The shard id. */
      readonly shard: string;
      readonly books: readonly BookHealth[];
      /** Books waiting for the REST budget, symbols failing (src/venues/connection/sync-queue.ts). */
      readonly book_sync: BookSyncReport;
      readonly bad_by_channel: Readonly<Record<string, number>>;
      /** REST requests waiting in this shard's queue for the venue's budget. */
      readonly rest_queue: number;
    }
  /** From an ingest thread each time a shard's venue fails to start; the shard tries again with backoff. */
  | { readonly type: "shard_failed"; readonly shard: string; readonly message: string; readonly attempts: number }
  /** From ingest threads whenever it changes (checked every 250 ms): records held outside full rings, per type. */
  | { readonly type: "overflow"; readonly by_type: Readonly<Record<string, number>> }
  /** From every worker at `ready` and then every HEAP_REPORT_MS: its thread's heap. */
  | ({ readonly type: "heap" } & HeapReport)
  | { readonly type: "fatal"; readonly message: string; readonly stack: string | null };

/** Ms between a worker's `heap` reports. */
export const HEAP_REPORT_MS = 5000;

export function isStopMessage(value: unknown): value is Extract<ToWorker, { type: "stop" }> {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "stop";
}

export function isSymbolsMessage(value: unknown): value is SymbolsMessage {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "symbols";
}

export function isFromWorker(value: unknown): value is FromWorker {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === "ready" || type === "stopped" || type === "venue_health" || type === "shard_failed" || type === "overflow" || type === "heap" || type === "fatal";
}
