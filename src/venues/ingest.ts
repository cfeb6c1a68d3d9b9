import type { VenueConfig, VenueKey } from "../config/schema.ts";
import type { DataType, MarketRecord } from "../records/types.ts";
import type { CaptureWriter } from "../replay/capture.ts";
import { PacedRequests } from "./connection/paced-requests.ts";
import { BucketDedup, BucketPoller, periodMs, type PollTask } from "./connection/bucket-poller.ts";
import { bucketOf, polledBucket, type Bucket } from "./connection/missed-buckets.ts";
import { kindKey, type EngineDownPolls } from "./engine-down-polls.ts";
import { RestBudget, scaleLimits, type RestLimitScale } from "./connection/rest-budget.ts";
import { RestClient, type RestClientStats, type RestLimitIncident } from "./connection/rest-client.ts";
import { splitConnectLimit } from "./connection/connect-share.ts";
import { BOOK_SILENT_MS, BookSyncQueue, type BookSyncReport } from "./connection/sync-queue.ts";
import { SilentStreams } from "./connection/channel-watchdog.ts";
import type { ConnectionContext, ConnectionIncident, VenueConnection, VenueErrorEvent } from "./connection/venue-connection.ts";
import type { WindowLimiter } from "./connection/window-limiter.ts";
import type { VenueTradeBackfill } from "./connection/trade-pages.ts";
import type { WsGap } from "./connection/ws-client.ts";
import { gapRecords, missedBucketGap } from "./gap-records.ts";
import { TradeGaps } from "./trade-gaps.ts";
import { fetchInstruments } from "./instruments.ts";
import { DEFAULT_TUNING, getVenue, type EngineTuning } from "./registry.ts";
import type { BookHealth, Instrument, InstrumentMap, Normalizer, RawFrame } from "./types.ts";
import type { VenueDefinition, VenuePoll, VenueRequest } from "./venue-definition.ts";

/**
 * Least ms between two resyncs of every book after the normalizer threw: a bug that throws on
 * every frame of some channel must not keep the books from ever going live.
 */
export const THROW_RESYNC_MS = 60_000;

/** A history body being pushed: its records count only inside the missed buckets of its task. */
interface Backfill {
  readonly symbol: string;
  readonly data_type: DataType;
  readonly buckets: readonly Bucket[];
  /** Records emitted per bucket start. */
  readonly counts: Map<number, number>;
}

/**
 * One venue's intake for one ingest worker: instrument metadata from REST, the venue's
 * connections, the normalizer fed with every frame, REST depth snapshots and book
 * resubscriptions on the normalizer's request, bucket-aligned REST polls, a `gap` record per
 * (symbol, data type) for every hole a reconnect leaves, and the backfill of trade holes from
 * the venue's REST trade history (trade-gaps.ts). Everything venue-specific comes
 * from the venue's definition (venue-definition.ts).
 */

export interface IngestStats {
  messagesIn(n: number, last_message_ms: number): void;
  reconnect(): void;
  /** A failed REST call, a stale channel or a closed connection, by channel. */
  error(channel: string, detail?: string): void;
  /** A trade backfill stopped short (refused, stuck, past its page bound): counted and logged. */
  backfillFailed?(channel: string, detail: string): void;
  /** The venue closed, retired or starved a connection (logged once by the caller). */
  incident?(incident: ConnectionIncident): void;
  /** An error reply from the venue or a venue limit reached (counted; incidents go to `incident`). */
  venueError?(event: VenueErrorEvent): void;
  /** The normalizer threw on a frame from `url`, which is dropped; `resynced`: every book of the shard resyncs. */
  normalizerThrew?(error: Error, url: string, resynced: boolean): void;
}

export interface IngestOptions {
  readonly venue: VenueKey;
  readonly config: VenueConfig;
  /** Native symbols of this worker's shard. */
  readonly symbols: readonly string[];
  /** The venue's instrument metadata, read by the supervisor; absent: fetched at start. */
  readonly instruments?: readonly Instrument[];
  readonly orderbook: { readonly depth: number; readonly snapshot_interval_ms: number; readonly snapshot_limit: number };
  readonly emit: (record: MarketRecord) => void;
  readonly stats?: IngestStats;
  readonly record?: CaptureWriter;
  readonly tuning?: Partial<EngineTuning>;
  /** Ms after a bucket closes before it is polled. */
  readonly poll_delay_ms?: number;
  /** Ms before a failed poll's first retry, doubling after (bucket-poller.ts; default 5000). */
  readonly poll_retry_ms?: number;
  /**
   * Ms after start before the first poll: Binance open-interest values are priced with the
   * mark price from the socket, so the socket gets a head start.
   */
  readonly first_poll_delay_ms?: number;
  /**
   * This thread's share of the venue's connection-attempt limit (connect-share.ts); without
   * one the runner takes the whole limit, as the only thread of its venue family.
   */
  readonly connect_limiter?: WindowLimiter;
  readonly rest?: IngestRestOptions;
  /** After an unclean stop: the engine_down gaps whose polled buckets the history fills. */
  readonly engine_down?: EngineDownPolls;
}

/** How this runner's REST joins the venue's: the shared budget, stats, and incident reports. */
export interface IngestRestOptions {
  /** The venue's budget memory (supervisor-owned, shared by its ingest threads); private when absent. */
  readonly budget?: SharedArrayBuffer;
  readonly stats?: RestClientStats;
  readonly onIncident?: (incident: RestLimitIncident) => void;
  /** Shrinks the venue's documented limits (tests; the simulator takes the same scale). */
  readonly scale?: RestLimitScale;
}

export class IngestRunner {
  normalizer: Normalizer | undefined;
  connection: VenueConnection | undefined;
  poller: BucketPoller | undefined;
  readonly rest: RestClient;
  /** REST depth snapshots of the books (venues whose books sync from REST), storms and resyncs through the budget. */
  bookSync: BookSyncQueue | undefined;
  /** Streams silent now, listed per symbol in `/stats`. */
  readonly silentStreams: SilentStreams;
  private readonly tuning: EngineTuning;
  private dedup: BucketDedup | undefined;
  /** Set while a poll body is pushed: records emitted then are bucket-deduplicated. */
  private polling = false;
  /** Set while a history body is pushed (pollHistory). */
  private backfill: Backfill | undefined;
  private stopped = false;
  /** When the books last resynced because the normalizer threw (THROW_RESYNC_MS). */
  private throwResyncMs = -Infinity;
  private firstPoll: ReturnType<typeof setTimeout> | undefined;
  private readonly venue: VenueDefinition<EngineTuning>;
  /** Recovery requests of a venue that paces them (`ingest.recover_per_s`). */
  private readonly recoveries: PacedRequests | undefined;
  /** This worker's symbols now: the shard it started with, changed by instrument refreshes. */
  private readonly symbols: string[];
  /** Instrument metadata, with the instruments refreshes add. */
  private readonly instruments = new Map<string, Instrument>();
  /** The poller's tasks, rebuilt in place when the symbols change. */
  private readonly tasks: PollTask[] = [];
  /** The venue poll behind each task, by task key. */
  private readonly pollsByKey = new Map<string, VenuePoll>();
  /** Per task key: the engine_down gap's kind and the buckets inside it asked of the history, until the gap is written again. */
  private readonly downBuckets = new Map<string, { readonly kind: string; readonly starts: ReadonlySet<number> }>();
  /** Records the normalizer has emitted (a recovery counts what one body added). */
  private emitted = 0;
  /** Trade holes and their backfill, on venues whose trade history pages (`ingest.backfill`). */
  private readonly tradeGaps: TradeGaps | undefined;

  constructor(private readonly options: IngestOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.symbols = [...options.symbols];
    this.silentStreams = new SilentStreams(this.symbols);
    this.venue = getVenue(options.venue);
    const per_s = this.venue.ingest.recover_per_s;
    this.recoveries = per_s === undefined ? undefined : new PacedRequests(per_s, 1000);
    const limits = this.venue.rest_limits;
    const rest = options.rest ?? {};
    this.rest = new RestClient({
      base_url: options.config.rest_url,
      limits,
      budget: new RestBudget(scaleLimits(limits.buckets, rest.scale), rest.budget),
      timeout_ms: this.tuning.rest_timeout_ms,
      ...(rest.stats === undefined ? {} : { stats: rest.stats }),
      ...(rest.onIncident === undefined ? {} : { onIncident: rest.onIncident }),
    });
    const backfill = this.venue.ingest.backfill;
    if (backfill !== undefined && options.config.data_types.includes("trade")) this.tradeGaps = this.createTradeGaps(backfill);
  }

  async start(): Promise<void> {
    const { venue, config } = this.options;
    const known = this.options.instruments;
    if (known !== undefined) for (const inst of known) this.instruments.set(inst.native, inst);
    else for (const [native, inst] of await fetchInstruments(venue, this.rest, config.rest_url, this.options.record)) this.instruments.set(native, inst);
    const instruments = this.instruments;
    const period_ms = periodMs(config.poll_period);
    this.dedup = new BucketDedup(period_ms);
    this.normalizer = this.venue.createNormalizer({
      symbols: this.symbols,
      data_types: config.data_types,
      depth: this.options.orderbook.depth,
      snapshot_interval_ms: this.options.orderbook.snapshot_interval_ms,
      instruments,
      emit: (r) => this.emitRecord(r),
    });
    const snapshotPath = this.venue.ingest.snapshotPath;
    if (snapshotPath !== undefined && config.data_types.includes("orderbook")) this.bookSync = this.createBookSync(snapshotPath);
    const ctx: ConnectionContext<EngineTuning> = {
      venue,
      config,
      symbols: this.symbols,
      instruments,
      tuning: this.tuning,
      onFrame: (text, recv, url) => this.frame(text, recv, url),
      onGap: (gap, symbols, data_types) => {
        for (const r of gapRecords(this.venue, gap, symbols, instruments, config.data_types, data_types)) this.options.emit(r);
        this.recover(gap, symbols, data_types);
        if (data_types?.includes("trade") ?? true) this.tradeGaps?.gap(gap, symbols);
      },
      onDisconnect: (recv, data_types) => {
        this.options.stats?.reconnect();
        // Books restart only when the lost connection carried them (USDⓈ-M books ride /public alone).
        if (data_types === undefined || data_types.includes("orderbook")) {
          this.normalizer?.connectionLost(recv);
          this.bookSync?.storm();
        }
      },
      onIncident: (incident) => this.options.stats?.incident?.(incident),
      onVenueError: (event) => {
        this.options.stats?.venueError?.(event);
        if (event.first) this.options.stats?.incident?.({ kind: "refused", url: event.url, detail: `${event.code} ${event.msg}`, next: event.next });
      },
      ...this.connectLimiter(),
      onStale: (channel, silent) => {
        this.silentStreams.mark(channel, silent);
        if (!silent) return;
        this.options.stats?.error(channel);
        const fallback = this.venue.ingest.onStale?.(channel);
        if (fallback !== undefined) void this.fetchInto(fallback);
      },
    };
    this.connection = this.venue.ingest.connect(ctx);
    this.connection.start();
    this.tasks.push(...this.pollTasks(instruments));
    const tasks = this.tasks;
    if (tasks.length > 0) {
      this.poller = new BucketPoller({
        period_ms,
        delay_ms: this.options.poll_delay_ms ?? 5_000,
        ...(this.options.poll_retry_ms === undefined ? {} : { retry_ms: this.options.poll_retry_ms }),
        tasks,
        rest: this.rest,
        onBody: (task, body, recv) => this.pollBody(task, body, recv),
        onError: (task, error) => this.options.stats?.error(task.key, error),
        onMissed: (task, bucket) => this.missedBucket(task, bucket),
        onHistory: (task, url, body, recv, buckets) => this.pollHistory(task, url, body, recv, buckets),
      });
      const poller = this.poller;
      const first_poll_delay_ms = this.options.first_poll_delay_ms ?? 2_000;
      this.seedEngineDown(poller, period_ms, Date.now() + first_poll_delay_ms - (this.options.poll_delay_ms ?? 5_000));
      this.firstPoll = setTimeout(() => !this.stopped && poller.start(), first_poll_delay_ms);
    }
  }

  /**
   * Instrument refresh (src/supervisor/instrument-refresh.ts): subscribes `add` on the live
   * connections (their books sync as at start) and drops `remove`; other symbols' connections
   * and books are left alone. Called only after `start`.
   */
  changeSymbols(add: readonly Instrument[], remove: readonly string[]): void {
    const current = new Set(this.symbols);
    const dropped = new Set(remove.filter((n) => current.has(n)));
    const added = [...new Set(add.map((i) => i.native))].filter((n) => !current.has(n) && !dropped.has(n));
    for (const native of dropped) this.instruments.delete(native);
    for (const inst of add) if (!dropped.has(inst.native)) this.instruments.set(inst.native, inst);
    const kept = this.symbols.filter((n) => !dropped.has(n));
    this.symbols.splice(0, this.symbols.length, ...kept, ...added);
    // A dropped symbol's silent streams go now: its connection may stop before reporting them resumed.
    this.silentStreams.drop(dropped);
    this.bookSync?.changeSymbols(added, [...dropped]);
    this.normalizer?.setSymbols?.(this.symbols);
    this.connection?.changeSymbols?.(added, [...dropped]);
    this.tasks.splice(0, this.tasks.length, ...this.pollTasks(this.instruments));
    this.poller?.missed.retain(new Set(this.tasks.map((t) => t.key)));
  }

  /**
   * Books waiting for the REST budget, and every symbol of this runner failing on its own,
   * given its books' health (`bookHealth()`): books that do not sync (REST snapshots), refused
   * subscriptions and resubscription loops (the connection), silent streams.
   */
  syncReport(books: readonly BookHealth[]): BookSyncReport {
    const report = this.bookSync?.report(books) ?? { waiting: 0, failures: [] };
    const failures = [...report.failures, ...(this.connection?.failures?.(books) ?? []), ...this.silentStreams.failures()];
    return { waiting: report.waiting, failures };
  }

  private connectLimiter(): { connect_limiter?: WindowLimiter } {
    if (this.options.connect_limiter !== undefined) return { connect_limiter: this.options.connect_limiter };
    const limit = this.venue.connect_limit;
    return limit === undefined ? {} : { connect_limiter: splitConnectLimit(limit, 1) };
  }

  /** Closes the sockets and stops polling; resolves once everything is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.firstPoll);
    this.rest.stop();
    this.tradeGaps?.stop();
    this.bookSync?.stop();
    this.recoveries?.stop();
    await Promise.all([this.connection?.stop(), this.poller?.stop()]);
    await this.options.record?.close();
  }

  private emitRecord(record: MarketRecord): void {
    if (this.backfill !== undefined && record.data_type !== "gap" && !this.backfilled(this.backfill, record)) return;
    if (this.polling && record.data_type !== "gap" && this.dedup && !this.dedup.accept(`${record.symbol}|${record.data_type}`, record.ts_ms)) return;
    if (record.data_type === "trade" && this.tradeGaps !== undefined && !this.tradeGaps.accept(record)) return;
    this.emitted++;
    this.options.emit(record);
  }

  private frame(text: string, recv: number, url: string): void {
    this.options.record?.write("ws", url, recv, text);
    this.options.stats?.messagesIn(1, recv);
    const normalizer = this.normalizer;
    if (!normalizer) return;
    this.push(normalizer, { source: "ws", url, recv_ts_ms: recv, raw: text });
    this.serviceRequests(normalizer);
  }

  /**
   * Feeds one frame. A normalizer never throws on bad input (types.ts), so a throw is a bug in
   * the venue's code: the frame is dropped and reported, the shard and the venues beside it in
   * the thread keep running (a thread restart would reconnect all of them), and every book of
   * the shard resyncs, at most once per THROW_RESYNC_MS, since the throw may have left one
   * half-updated.
   */
  private push(normalizer: Normalizer, frame: RawFrame): void {
    try {
      normalizer.push(frame);
    } catch (error) {
      const now = Date.now();
      const resync = now - this.throwResyncMs >= THROW_RESYNC_MS;
      if (resync) {
        this.throwResyncMs = now;
        normalizer.resyncBooks();
      }
      this.options.stats?.normalizerThrew?.(error instanceof Error ? error : new Error(String(error)), frame.url, resync);
    }
  }

  private serviceRequests(normalizer: Normalizer): void {
    const wanted = normalizer.takeSnapshotRequests();
    if (wanted.length > 0) this.bookSync?.want(wanted);
    const books = normalizer.takeResubscribeRequests();
    if (books.length > 0) this.connection?.resubscribeBooks?.(books);
  }

  private createBookSync(snapshotPath: (native: string, limit: number) => string): BookSyncQueue {
    const { config, orderbook } = this.options;
    return new BookSyncQueue(this.symbols, {
      rest: this.rest,
      url: (native) => `${config.rest_url}${snapshotPath(native, orderbook.snapshot_limit)}`,
      deliver: (url, body, recv) => this.http(url, body, recv),
      onRefused: (native, detail) => this.options.stats?.error("depth", `${native}: ${detail}`),
      onSent: (native, sent_ms) => this.normalizer?.snapshotSent?.(native, sent_ms),
      silent_ms: BOOK_SILENT_MS * this.tuning.stale_factor,
    });
  }

  /**
   * What REST gives back after a socket hole (the venue's `ingest.recover`: a backfill of the
   * hole, or current values so records resume at once instead of at the next push).
   */
  private recover(gap: WsGap, natives: readonly string[], data_types: readonly DataType[] | undefined): void {
    const requests = this.venue.ingest.recover?.(gap, natives, data_types, this.options.config) ?? [];
    for (const request of requests) {
      const fetched = () => this.fetchInto(request).then((n) => this.recovered(gap, request, n));
      if (this.recoveries === undefined) void fetched();
      else this.recoveries.run(fetched);
    }
  }

  /** A recovery's count goes into its gap's row: the gap is emitted again with it (recovered-gaps.ts). */
  private recovered(gap: WsGap, request: VenueRequest, records: number | null): void {
    if (records === null || this.stopped || request.recovers === undefined) return;
    this.emitRecovery(gap, request.recovers.native, request.recovers.data_type, records);
  }

  private emitRecovery(gap: WsGap, native: string, data_type: DataType, records: number): void {
    const recovery = { records, at_ms: Date.now() };
    for (const r of gapRecords(this.venue, gap, [native], this.instruments, this.options.config.data_types, [data_type], recovery)) this.options.emit(r);
  }

  /** Trade holes filled from the venue's REST history, one page at a time through the weight budget. */
  private createTradeGaps(spec: VenueTradeBackfill): TradeGaps {
    const base = this.options.config.rest_url;
    return new TradeGaps({
      spec,
      max_pages: this.tuning.backfill_max_pages,
      wait_ms: this.tuning.backfill_wait_ms,
      symbolOf: (native) => this.instruments.get(native)?.symbol,
      fetch: async (path) => {
        const result = await this.rest.get(`${base}${path}`, "other");
        return result.ok ? result : { ok: false, error: `${result.status} ${result.error}` };
      },
      deliver: (path, body, recv) => this.http(`${base}${path}`, body, recv),
      recovered: (gap, native, records) => this.emitRecovery(gap, native, "trade", records),
      failed: (native, detail) => this.options.stats?.backfillFailed?.(spec.channel, `${native}: ${detail}`),
    });
  }

  /**
   * GETs the request's path and feeds the body to the normalizer; resolves to the records it
   * emitted, or null when the request failed (counted on its channel) or the runner stopped.
   */
  private async fetchInto(request: VenueRequest): Promise<number | null> {
    const url = `${this.options.config.rest_url}${request.path}`;
    const result = await this.rest.get(url, "other");
    if (this.stopped) return null;
    if (!result.ok) {
      this.options.stats?.error(request.channel, `${result.status} ${result.error}`);
      return null;
    }
    const before = this.emitted;
    this.http(url, result.body, result.recv_ts_ms);
    return this.emitted - before;
  }

  private http(url: string, body: string, recv: number): void {
    const normalizer = this.normalizer;
    if (!normalizer) return;
    this.options.record?.write("http", url, recv, body);
    this.push(normalizer, { source: "http", url, recv_ts_ms: recv, raw: body });
    this.serviceRequests(normalizer);
  }

  private pollBody(task: PollTask, body: string, recv: number): void {
    this.polling = true;
    this.http(task.url, body, recv);
    this.polling = false;
  }

  /** A bucket every attempt of a poll missed: its `poll_failed` gap, with nothing recovered yet. */
  private missedBucket(task: PollTask, bucket: Bucket): void {
    const poll = this.pollsByKey.get(task.key);
    if (poll === undefined || this.stopped) return;
    this.options.emit(missedBucketGap(this.venue, poll.native, this.instruments, poll.data_type, bucket, Date.now()));
  }

  /**
   * A history body for a task's missed buckets: its records go through the normalizer and the
   * poll dedup like a live poll's, keeping only those inside the missed buckets; each bucket
   * that got records has its gap written again with their count (recovered-gaps.ts).
   */
  private pollHistory(task: PollTask, url: string, body: string, recv: number, buckets: readonly Bucket[]): ReadonlySet<number> {
    const poll = this.pollsByKey.get(task.key);
    const filled = new Set<number>();
    if (poll === undefined || this.stopped) return filled;
    const backfill: Backfill = { symbol: this.instruments.get(poll.native)?.symbol ?? poll.native, data_type: poll.data_type, buckets, counts: new Map() };
    this.backfill = backfill;
    this.http(url, body, recv);
    this.backfill = undefined;
    const at_ms = Date.now();
    const down = this.downBuckets.get(task.key);
    let downRecords = 0;
    for (const bucket of buckets) {
      const records = backfill.counts.get(bucket.start_ms) ?? 0;
      if (records === 0) continue;
      filled.add(bucket.start_ms);
      if (down?.starts.has(bucket.start_ms) === true) downRecords += records;
      else this.options.emit(missedBucketGap(this.venue, poll.native, this.instruments, poll.data_type, bucket, at_ms, { records, at_ms }));
    }
    // The engine_down gap (written by the kind's first record) is written again once, with the
    // first answer that fills any of its buckets: one request asks for all of them, so that answer
    // holds what the venue has. Buckets a later answer fills are stored but not counted in the gap,
    // so the recovered counters never count one record twice.
    const gap = down === undefined || downRecords === 0 ? undefined : this.options.engine_down?.written(down.kind);
    if (gap !== undefined) {
      this.downBuckets.delete(task.key);
      this.options.emit({ ...gap, recv_ts_ms: at_ms, recovered_records: downRecords, recovered_at_ms: at_ms });
    }
    return filled;
  }

  /**
   * After an unclean stop, each task whose kind has an engine_down gap misses the buckets from
   * the one after its last kept record to the one before the first poll's (at `first_ms`, less
   * the poll delay): they are asked of the history with the first poll (newest MAX_MISSED).
   */
  private seedEngineDown(poller: BucketPoller, period_ms: number, first_ms: number): void {
    const down = this.options.engine_down;
    if (down === undefined) return;
    const boundary = Math.floor(first_ms / period_ms) * period_ms;
    for (const task of this.tasks) {
      const poll = this.pollsByKey.get(task.key);
      const inst = poll === undefined ? undefined : this.instruments.get(poll.native);
      if (poll === undefined || inst === undefined) continue;
      const kind = kindKey(poll.data_type, this.venue.exchange, inst.market_type, inst.symbol);
      const kept_ms = down.startOf(kind);
      if (kept_ms === undefined) continue;
      const starts = new Set<number>();
      const first = polledBucket(boundary, period_ms, poll.stamp).start_ms;
      for (let start_ms = (Math.floor(kept_ms / period_ms) + 1) * period_ms; start_ms < first; start_ms += period_ms) {
        poller.missed.add(task.key, { start_ms, end_ms: start_ms + period_ms });
        starts.add(start_ms);
      }
      if (starts.size > 0) this.downBuckets.set(task.key, { kind, starts });
    }
  }

  /** Whether a record of a history body belongs to its backfill (counted if so). */
  private backfilled(backfill: Backfill, record: MarketRecord): boolean {
    if (record.data_type !== backfill.data_type || record.symbol !== backfill.symbol) return false;
    const bucket = bucketOf(backfill.buckets, record.ts_ms);
    if (bucket === undefined) return false;
    if (this.dedup !== undefined && !this.dedup.accept(`${record.symbol}|${record.data_type}`, record.ts_ms)) return false;
    backfill.counts.set(bucket.start_ms, (backfill.counts.get(bucket.start_ms) ?? 0) + 1);
    return true;
  }

  private pollTasks(instruments: InstrumentMap): PollTask[] {
    const { config } = this.options;
    this.pollsByKey.clear();
    return this.venue.ingest.polls(config, this.symbols, instruments).map((p) => {
      const key = `${p.native}/${p.data_type}`;
      this.pollsByKey.set(key, p);
      return { key, url: `${config.rest_url}${p.path}`, stamp: p.stamp, history: (span) => `${config.rest_url}${p.history(span)}` };
    });
  }
}
