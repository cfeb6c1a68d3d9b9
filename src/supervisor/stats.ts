import type { Config } from "../config/schema.ts";
import { VENUE_KEYS, venueWorkerCount, type VenueKey } from "../config/venue-keys.ts";
import type { ClockSkewStats, ComponentStats, NatsStats, ProcessStats, StatsSnapshot, TieringTableStats, TypeLatencyStats, TypeStats, VenueBookSync, VenueStats, WorkerStats } from "../http/stats-types.ts";
import { DATA_TYPES, RECORD_TYPES } from "../records/types.ts";
import type { SpscRing } from "../ring/spsc-ring.ts";
import type { Counters } from "../stats/counters.ts";
import { typeCounter, venueCounter } from "../stats/layout.ts";
import { negativeSkewCounter, quantileMs, readHistogram, recoveredCounter, skewIncidentCounter } from "../stats/latency.ts";
import type { BookHealth } from "../venues/types.ts";
import type { SymbolFailure } from "../venues/connection/symbol-failure.ts";
import type { BookSyncReport } from "../venues/connection/sync-queue.ts";
import type { PollOverload } from "../venues/connection/poll-estimate.ts";
import type { ManagedWorker } from "./managed-worker.ts";
import { venueSymbolStats, type SymbolRecent } from "./instrument-refresh.ts";

/** Per-second rates from two counter readings at least `MIN_INTERVAL_MS` apart. */
export class RateSampler {
  private static readonly MIN_INTERVAL_MS = 1000;
  private previous: { at_ms: number; values: Float64Array } | null = null;
  private current: { at_ms: number; values: Float64Array } | null = null;

  constructor(private readonly counters: Counters) {}

  /** Returns a reader of the per-second rate of a counter slot over the last interval. */
  sample(): (name: string) => number {
    const now = Date.now();
    if (this.current === null || now - this.current.at_ms >= RateSampler.MIN_INTERVAL_MS) {
      this.previous = this.current;
      const values = new Float64Array(this.counters.names.length);
      for (let i = 0; i < values.length; i++) values[i] = this.counters.get(i);
      this.current = { at_ms: now, values };
    }
    const prev = this.previous;
    const cur = this.current;
    return (name: string) => {
      if (prev === null) return 0;
      const slot = this.counters.slot(name);
      const seconds = (cur.at_ms - prev.at_ms) / 1000;
      return seconds > 0 ? ((cur.values[slot] ?? 0) - (prev.values[slot] ?? 0)) / seconds : 0;
    };
  }
}

export interface StatsInputs {
  readonly config: Config;
  readonly counters: Counters;
  readonly rates: (name: string) => number;
  readonly uptime_s: number;
  readonly process: ProcessStats;
  readonly workers: readonly ManagedWorker[];
  readonly rings: readonly { from: string; to: string; type: string; ring: SpscRing }[];
  readonly books: ReadonlyMap<string, readonly BookHealth[]>;
  /** Books waiting for the REST budget and failing symbols, per ingest worker id (last report). */
  readonly book_sync: ReadonlyMap<string, BookSyncReport>;
  /** Books each ingest worker keeps (its symbols, when it collects books): counted as syncing until it reports. */
  readonly planned_books: ReadonlyMap<string, number>;
  /** Ms until `waiting` snapshots of the venue's books can be sent through its budget. */
  readonly sync_eta_ms: (venue: VenueKey, waiting: number) => number;
  /** Bad frames per channel, per ingest worker id (`ingest:<venue>:<i>`). */
  readonly bad_frames: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** REST requests queued, per ingest worker id (last report). */
  readonly rest_queues: ReadonlyMap<string, number>;
  /** The venue's REST block (429 Retry-After, 418 ban): ms until it ends (0 = none) and its status. */
  readonly rest_block: (venue: VenueKey) => { readonly blocked_ms: number; readonly status: number };
  /** Ingest shards that failed to start and are tried again: the last error and the failed starts since the last good one. */
  readonly shard_failures: ReadonlyMap<string, { readonly message: string; readonly attempts: number }>;
  /** Records held outside full rings, per type, per ingest worker id (last report). */
  readonly overflow: ReadonlyMap<string, Readonly<Record<string, number>>>;
  readonly nats: NatsStats;
  readonly clickhouse: ComponentStats;
  readonly tiering: Record<string, TieringTableStats>;
  /** Venues are replaced by a synthetic source; their connection state is not meaningful. */
  readonly synthetic: boolean;
  /** A venue's latest listings and delistings and its last refresh error (instrument-refresh.ts). */
  readonly symbol_changes?: (venue: VenueKey) => SymbolRecent | undefined;
  /** The limits the venue's bucket polls ask more of than its budget sustains (poll-estimate.ts); without it, none. */
  readonly poll_overloads?: (venue: VenueKey) => readonly PollOverload[];
  /** The venue's clock skew (clock-skew.ts); without it, the limit and incident count only. */
  readonly clock_skew?: (venue: VenueKey) => ClockSkewStats;
}

/** Latency per data type of `venue`: the types it collects, and any other with observations. */
function venueLatency(c: Counters, venue: VenueKey, collected: readonly string[]): Record<string, TypeLatencyStats> {
  const out: Record<string, TypeLatencyStats> = {};
  for (const type of DATA_TYPES) {
    const e2r = readHistogram(c, "exchange_to_receive", venue, type);
    const r2c = readHistogram(c, "receive_to_commit", venue, type);
    if (e2r.count === 0 && r2c.count === 0 && !collected.includes(type)) continue;
    out[type] = {
      exchange_to_receive: { count: e2r.count, p50_ms: quantileMs(e2r, 0.5), p99_ms: quantileMs(e2r, 0.99), negative: c.read(negativeSkewCounter(venue, type)) },
      receive_to_commit: { count: r2c.count, p50_ms: quantileMs(r2c, 0.5), p99_ms: quantileMs(r2c, 0.99) },
    };
  }
  return out;
}

function venueRecovered(c: Counters, venue: VenueKey): Record<string, number> {
  const out: Record<string, number> = {};
  for (const type of DATA_TYPES) {
    const n = c.read(recoveredCounter(venue, type));
    if (n > 0) out[type] = n;
  }
  return out;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function buildStats(s: StatsInputs): StatsSnapshot {
  const c = s.counters;
  const now = Date.now();
  const badByVenue = new Map<string, Record<string, number>>();
  for (const [workerId, channels] of s.bad_frames) {
    const venue = workerId.split(":")[1] ?? workerId;
    const into = badByVenue.get(venue) ?? {};
    for (const [channel, n] of Object.entries(channels)) into[channel] = (into[channel] ?? 0) + n;
    badByVenue.set(venue, into);
  }
  const restQueue = new Map<string, number>();
  for (const [workerId, n] of s.rest_queues) {
    const venue = workerId.split(":")[1] ?? workerId;
    restQueue.set(venue, (restQueue.get(venue) ?? 0) + n);
  }
  const sync = new Map<string, { waiting: number; failures: SymbolFailure[] }>();
  for (const [workerId, report] of s.book_sync) {
    const venue = workerId.split(":")[1] ?? workerId;
    const into = sync.get(venue) ?? { waiting: 0, failures: [] };
    into.waiting += report.waiting;
    into.failures.push(...report.failures);
    sync.set(venue, into);
  }
  const books: Record<string, BookHealth[]> = {};
  for (const [workerId, list] of s.books) {
    const venue = workerId.split(":")[1] ?? workerId;
    (books[venue] ??= []).push(...list);
  }
  const unreported = new Map<string, number>();
  for (const [workerId, n] of s.planned_books) {
    if (s.books.has(workerId)) continue;
    const venue = workerId.split(":")[1] ?? workerId;
    unreported.set(venue, (unreported.get(venue) ?? 0) + n);
  }
  const venues: Record<string, VenueStats> = {};
  for (const venue of VENUE_KEYS) {
    const cfg = s.config.venues[venue];
    const enabled = cfg.enabled && venueWorkerCount(cfg) > 0 && s.config.engine.role !== "store";
    const last = c.read(venueCounter(venue, "last_message_ms"));
    venues[venue] = {
      enabled,
      state: !enabled ? "disabled" : c.read(venueCounter(venue, "connected")) > 0 ? "connected" : "disconnected",
      messages_in: c.read(venueCounter(venue, "messages_in")),
      messages_per_s: s.rates(venueCounter(venue, "messages_in")),
      reconnects: c.read(venueCounter(venue, "reconnects")),
      last_message_age_ms: last === 0 ? null : Math.max(0, now - last),
      unrecognized: c.read(venueCounter(venue, "unrecognized")),
      errors: c.read(venueCounter(venue, "errors")),
      resyncs: c.read(venueCounter(venue, "resyncs")),
      error_events: c.read(venueCounter(venue, "error_events")),
      bad_by_channel: badByVenue.get(venue) ?? {},
      open_connections: c.read(venueCounter(venue, "open_connections")),
      ws_requests: c.read(venueCounter(venue, "ws_requests")),
      ws_requests_per_s: s.rates(venueCounter(venue, "ws_requests")),
      ws_requests_peak_per_s: c.read(venueCounter(venue, "ws_requests_peak_per_s")),
      ws_incidents: c.read(venueCounter(venue, "ws_incidents")),
      rate_limited: c.read(venueCounter(venue, "rest_429")) + c.read(venueCounter(venue, "rest_418")),
      trade_backfill_failures: c.read(venueCounter(venue, "trade_backfill_failures")),
      start_failures: c.read(venueCounter(venue, "start_failures")),
      normalizer_exceptions: c.read(venueCounter(venue, "normalizer_exceptions")),
      rest: {
        weight_used: c.read(venueCounter(venue, "rest_weight")),
        weight_per_min: s.rates(venueCounter(venue, "rest_weight")) * 60,
        queue: restQueue.get(venue) ?? 0,
        responses_429: c.read(venueCounter(venue, "rest_429")),
        responses_418: c.read(venueCounter(venue, "rest_418")),
        blocked_ms: s.rest_block(venue).blocked_ms,
        block_status: s.rest_block(venue).blocked_ms > 0 ? s.rest_block(venue).status : 0,
        poll_overloads: (s.poll_overloads?.(venue) ?? []).map((o) => ({ limit: o.limit_name, asked: o.asked, sustained: o.sustained, symbols_fit: o.symbols_fit })),
      },
      symbols: venueSymbolStats(c, venue, s.symbol_changes?.(venue)),
      book_sync: bookSync(books[venue] ?? [], unreported.get(venue) ?? 0, sync.get(venue)?.waiting ?? 0, (waiting) => s.sync_eta_ms(venue, waiting)),
      failing_symbols: [...(sync.get(venue)?.failures ?? [])].sort((a, b) => a.native.localeCompare(b.native) || a.kind.localeCompare(b.kind)),
      latency: venueLatency(c, venue, enabled ? cfg.data_types : []),
      clock_skew: s.clock_skew?.(venue) ?? { max_clock_skew_ms: cfg.max_clock_skew_ms, last_ms: null, in_incident: false, incidents: c.read(skewIncidentCounter(venue)) },
      recovered: venueRecovered(c, venue),
    };
  }
  const data_types: Record<string, TypeStats> = {};
  for (const type of RECORD_TYPES) {
    const read = (n: Parameters<typeof typeCounter>[1]) => c.read(typeCounter(type, n));
    data_types[type] = {
      ingested: read("ingested"),
      published: read("published"),
      stored: read("stored"),
      dropped: read("dropped"),
      dead_lettered: read("dead_lettered"),
      duplicate_deliveries: read("duplicate_deliveries"),
      duplicate_publishes: read("duplicate_publishes"),
      publish_errors: read("publish_errors"),
      insert_errors: read("insert_errors"),
      ingested_per_s: s.rates(typeCounter(type, "ingested")),
      published_per_s: s.rates(typeCounter(type, "published")),
      stored_per_s: s.rates(typeCounter(type, "stored")),
      consumer_pending: read("consumer_pending"),
      overflow: sum([...s.overflow.values()].map((o) => o[type] ?? 0)),
      last_insert_ms: read("last_insert_ms"),
      last_insert_rows: read("last_insert_rows"),
    };
  }
  const workers: WorkerStats[] = s.workers.map((w) => ({
    id: w.id,
    kind: w.init.kind,
    state: w.state,
    restarts: w.restarts,
    last_error: w.lastError,
    overflow_records: sum(Object.values(s.overflow.get(w.id) ?? {})),
    rings: s.rings
      .filter((r) => r.from === w.id || r.to === w.id)
      .map((r) => ({
        peer: r.from === w.id ? r.to : r.from,
        type: r.type,
        depth_bytes: r.ring.depth_bytes,
        capacity_bytes: r.ring.capacity,
        high_water_bytes: r.ring.high_water_bytes,
      })),
    shards:
      w.init.kind === "ingest"
        ? w.init.shards.map((shard) => {
            const failure = s.shard_failures.get(shard.id);
            return { id: shard.id, venue: shard.venue, symbols: shard.symbols.length, failed_starts: failure?.attempts ?? 0, last_start_error: failure?.message ?? null };
          })
        : [],
    heap_bytes: w.heap?.heap_bytes ?? null,
    full_collections: w.heap?.full_collections ?? 0,
  }));
  return {
    uptime_s: s.uptime_s,
    role: s.config.engine.role,
    process: s.process,
    venues,
    data_types,
    workers,
    books,
    nats: s.nats,
    clickhouse: s.clickhouse,
    tiering: s.tiering,
  };
}

/** A venue's books: those its workers reported, and those of workers yet to report (syncing). */
function bookSync(books: readonly BookHealth[], unreported: number, reported_waiting: number, eta_ms: (waiting: number) => number): VenueBookSync {
  const live = books.filter((b) => b.state === "live").length;
  const waiting = Math.min(reported_waiting, books.length - live);
  const total = books.length + unreported;
  return { total, live, syncing: total - live - waiting, waiting, eta_s: Math.ceil(eta_ms(waiting) / 1000) };
}
