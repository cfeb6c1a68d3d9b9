import type { MessagePort } from "node:worker_threads";
import { RecordCodec } from "../codec/record-codec.ts";
import type { Logger } from "../log/logger.ts";
import type { MarketRecord } from "../records/types.ts";
import { Counters } from "../stats/counters.ts";
import { counterNames, venueCounter } from "../stats/layout.ts";
import type { FromWorker, IngestInit, IngestShardInit, SymbolsMessage } from "../supervisor/messages.ts";
import { Backoff } from "../venues/connection/backoff.ts";
import { startVenueIngest, type VenueIngest } from "./venue-ingest.ts";
import { RingRouter } from "./ring-router.ts";
import { SyntheticSource } from "./synthetic-source.ts";
import { EngineDownGaps } from "./engine-down-gaps.ts";
import { IngestObserver } from "./ingest-observer.ts";

/** How often an ingest worker checks whether what it holds outside full rings changed, ms. */
const OVERFLOW_REPORT_MS = 250;
/** How often latency, clock-skew and recovery observations go into the shared counters, ms. */
const OBSERVE_FLUSH_MS = 250;

/**
 * One venue shard of an ingest thread: its connections (IngestRunner through startVenueIngest),
 * its latency observer, and its once-a-second report of book health to the supervisor.
 *
 * A start that fails (the venue's metadata cannot be read, say) is tried again with the
 * engine's restart backoff inside the thread, so one unreachable venue never takes down the
 * other venues of a shared thread; each failure is logged and reported to the supervisor, whose
 * /health names it on the venue.
 */
class IngestShard {
  private venue: VenueIngest | null = null;
  /** Symbol changes that arrived while the venue was still starting, applied once it is up. */
  private readonly pendingChanges: SymbolsMessage[] = [];
  private readonly observer: IngestObserver;
  private timer: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private failures = 0;
  private readonly backoff: Backoff;
  private readonly startFailures: number;

  constructor(
    readonly init: IngestShardInit,
    private readonly counters: Counters,
    private readonly thread: Pick<IngestInit, "config" | "record_dir">,
    private readonly emitShared: (record: MarketRecord) => void,
    private readonly port: MessagePort,
    private readonly log: Logger,
  ) {
    this.observer = new IngestObserver(counters, init.venue);
    this.startFailures = counters.slot(venueCounter(init.venue, "start_failures"));
    const { restart_initial_ms, restart_max_ms } = thread.config.engine;
    this.backoff = new Backoff({ initial_ms: restart_initial_ms, max_ms: restart_max_ms });
  }

  readonly emit = (record: MarketRecord): void => {
    this.observer.observe(record);
    this.emitShared(record);
  };

  flushObserved(): void {
    this.observer.flush();
  }

  /** Starts the venue; resolves after the first attempt, whose failure is retried in the background. */
  async start(down: EngineDownGaps | null): Promise<void> {
    let venue: VenueIngest;
    try {
      venue = await startVenueIngest(this.init, this.thread.config, this.thread.record_dir, this.emit, this.counters, this.log, down);
    } catch (error) {
      if (this.stopped) return;
      this.failures++;
      this.counters.add(this.startFailures, 1);
      const delay_ms = this.backoff.next();
      const message = error instanceof Error ? error.message : String(error);
      this.log.error({ err: error, attempts: this.failures, delay_ms }, "venue could not start; trying again");
      this.port.postMessage({ type: "shard_failed", shard: this.init.id, message, attempts: this.failures } satisfies FromWorker);
      this.retry = setTimeout(() => {
        this.retry = null;
        void this.start(down);
      }, delay_ms);
      return;
    }
    if (this.stopped) return venue.stop();
    this.venue = venue;
    for (const change of this.pendingChanges.splice(0)) venue.changeSymbols(change.add, change.remove);
    this.timer = setInterval(() => this.reportHealth(), 1000);
    this.reportHealth();
  }

  private reportHealth(): void {
    if (this.venue === null) return;
    const books = this.venue.bookHealth();
    this.port.postMessage({
      type: "venue_health",
      shard: this.init.id,
      books,
      book_sync: this.venue.bookSync(books),
      bad_by_channel: this.venue.badByChannel(),
      rest_queue: this.venue.restQueue(),
    } satisfies FromWorker);
  }

  changeSymbols(change: SymbolsMessage): void {
    if (this.venue === null) this.pendingChanges.push(change);
    else this.venue.changeSymbols(change.add, change.remove);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.timer !== null) clearInterval(this.timer);
    await this.venue?.stop();
  }
}

/**
 * An ingest thread: the connections of its venue shards (or the synthetic source) ->
 * normalizer -> msgpack -> rings, one ring per lane of every type its venues produce. Records
 * are appended as they come and published once per event-loop turn, so a burst of frames costs
 * one index store per ring; within a long turn, at least every PUBLISH_WITHIN_MS
 * (ring-router.ts).
 */
export class IngestWorker {
  private readonly counters: Counters;
  private readonly router: RingRouter;
  private readonly codec = new RecordCodec();
  private flushScheduled = false;
  private lastOverflow = "";
  private synthetic: SyntheticSource | null = null;
  private readonly shards: IngestShard[];
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  /** After an unclean stop: the engine_down gaps waiting for their kinds' first records. */
  private readonly down: EngineDownGaps | null;

  constructor(
    private readonly init: IngestInit,
    private readonly port: MessagePort,
    private readonly log: Logger,
  ) {
    this.counters = new Counters(counterNames(), init.counters);
    this.router = new RingRouter(init.rings, this.counters, init.config.ring.overflow_records, (r) => this.codec.encodeRecord(r));
    this.down = init.engine_down === null ? null : new EngineDownGaps(init.engine_down, (gap) => this.emit(gap));
    this.shards = init.shards.map((shard) => new IngestShard(shard, this.counters, init, this.emit, port, log.child({ shard: shard.id, venue: shard.venue, index: shard.index })));
  }

  private readonly emit = (record: MarketRecord): void => {
    if (this.down?.watching === true) this.down.seen(record);
    this.router.emit(record);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  };

  /** The supervisor shows what each ingest thread holds outside its rings; sent when it changes. */
  private readonly reportOverflow = (): void => {
    const by_type = this.router.overflowByType();
    const text = JSON.stringify(by_type);
    if (text === this.lastOverflow) return;
    this.lastOverflow = text;
    this.port.postMessage({ type: "overflow", by_type } satisfies FromWorker);
  };

  private readonly flush = (): number => {
    this.flushScheduled = false;
    this.router.flush();
    return this.router.backlog;
  };

  private readonly flushObserved = (): void => {
    for (const shard of this.shards) shard.flushObserved();
  };

  async start(): Promise<void> {
    // Overflow waits for room even when no new frame arrives to trigger a flush.
    this.timers.push(setInterval(() => this.router.backlog > 0 && this.flush(), 5));
    this.timers.push(setInterval(this.reportOverflow, OVERFLOW_REPORT_MS));
    this.timers.push(setInterval(this.flushObserved, OBSERVE_FLUSH_MS));
    this.down?.start();
    if (this.init.synthetic !== null) {
      // The synthetic trades stand in for the thread's venues, observed as its first venue's.
      const first = (this.init.synthetic.offset ?? 0) + this.init.index * this.init.synthetic.records;
      this.synthetic = new SyntheticSource(this.init.synthetic, first, this.shards[0]?.emit ?? this.emit, this.flush);
      this.synthetic.start();
      return;
    }
    await Promise.all(this.shards.map((shard) => shard.start(this.down)));
  }

  /** Instrument refresh: the supervisor moved symbols onto or off one of this thread's shards. */
  changeSymbols(change: SymbolsMessage): void {
    if (this.init.synthetic !== null) return;
    this.shards.find((shard) => shard.init.id === change.shard)?.changeSymbols(change);
  }

  /** Stops intake, moves every held record into the rings (until `deadline_ms`), ends the rings. */
  async stop(deadline_ms: number): Promise<void> {
    this.synthetic?.stop();
    await Promise.all(this.shards.map((shard) => shard.stop()));
    for (const t of this.timers) clearInterval(t);
    this.down?.closeAll(Date.now());
    this.flushObserved();
    const until = performance.now() + deadline_ms;
    while (this.flush() > 0 && performance.now() < until) await Bun.sleep(2);
    const lost = this.router.backlog;
    if (lost > 0) this.log.error({ records: lost }, "shutdown deadline passed with records still outside the rings");
    this.router.close();
  }
}
