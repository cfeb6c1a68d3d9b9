import type { MessagePort } from "node:worker_threads";
import { RecordCodec } from "../codec/record-codec.ts";
import type { Logger } from "../log/logger.ts";
import type { MarketRecord } from "../records/types.ts";
import { Counters } from "../stats/counters.ts";
import { counterNames } from "../stats/layout.ts";
import type { FromWorker, IngestInit, SymbolsMessage } from "../supervisor/messages.ts";
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
 * An ingest worker: venue connections (or the synthetic source) -> normalizer -> msgpack ->
 * rings. Records are appended as they come and published once per event-loop turn, so a
 * burst of frames costs one index store per ring; within a long turn, at least every
 * PUBLISH_WITHIN_MS (ring-router.ts).
 */
export class IngestWorker {
  private readonly counters: Counters;
  private readonly router: RingRouter;
  private readonly codec = new RecordCodec();
  private flushScheduled = false;
  private lastOverflow = "";
  private synthetic: SyntheticSource | null = null;
  private venue: VenueIngest | null = null;
  /** Symbol changes that arrived while the venue was still starting, applied once it is up. */
  private readonly pendingChanges: SymbolsMessage[] = [];
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  /** After an unclean stop: the engine_down gaps waiting for their kinds' first records. */
  private readonly down: EngineDownGaps | null;
  private readonly observer: IngestObserver;

  constructor(
    private readonly init: IngestInit,
    private readonly port: MessagePort,
    private readonly log: Logger,
  ) {
    this.counters = new Counters(counterNames(), init.counters);
    this.router = new RingRouter(init.rings, this.counters, init.config.ring.overflow_records, (r) => this.codec.encodeRecord(r));
    this.down = init.engine_down === null ? null : new EngineDownGaps(init.engine_down, (gap) => this.emit(gap));
    this.observer = new IngestObserver(this.counters, init.venue);
  }

  private readonly emit = (record: MarketRecord): void => {
    if (this.down?.watching === true) this.down.seen(record);
    this.observer.observe(record);
    this.router.emit(record);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  };

  /** The supervisor shows what each ingest worker holds outside its rings; sent when it changes. */
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

  async start(): Promise<void> {
    // Overflow waits for room even when no new frame arrives to trigger a flush.
    this.timers.push(setInterval(() => this.router.backlog > 0 && this.flush(), 5));
    this.timers.push(setInterval(this.reportOverflow, OVERFLOW_REPORT_MS));
    this.timers.push(setInterval(() => this.observer.flush(), OBSERVE_FLUSH_MS));
    this.down?.start();
    if (this.init.synthetic !== null) {
      const first = (this.init.synthetic.offset ?? 0) + this.init.index * this.init.synthetic.records;
      this.synthetic = new SyntheticSource(this.init.synthetic, first, this.emit, this.flush);
      this.synthetic.start();
      return;
    }
    this.venue = await startVenueIngest(this.init, this.emit, this.counters, this.log, this.down);
    for (const change of this.pendingChanges.splice(0)) this.venue.changeSymbols(change.add, change.remove);
    this.timers.push(
      setInterval(() => {
        if (this.venue === null) return;
        const books = this.venue.bookHealth();
        this.port.postMessage({
          type: "venue_health",
          books,
          book_sync: this.venue.bookSync(books),
          bad_by_channel: this.venue.badByChannel(),
          rest_queue: this.venue.restQueue(),
        } satisfies FromWorker);
      }, 1000),
    );
  }

  /** Instrument refresh: the supervisor moved symbols onto or off this worker. */
  changeSymbols(change: SymbolsMessage): void {
    if (this.init.synthetic !== null) return;
    if (this.venue === null) this.pendingChanges.push(change);
    else this.venue.changeSymbols(change.add, change.remove);
  }

  /** Stops intake, moves every held record into the rings (until `deadline_ms`), ends the rings. */
  async stop(deadline_ms: number): Promise<void> {
    this.synthetic?.stop();
    await this.venue?.stop();
    for (const t of this.timers) clearInterval(t);
    this.down?.closeAll(Date.now());
    this.observer.flush();
    const until = performance.now() + deadline_ms;
    while (this.flush() > 0 && performance.now() < until) await Bun.sleep(2);
    const lost = this.router.backlog;
    if (lost > 0) this.log.error({ records: lost }, "shutdown deadline passed with records still outside the rings");
    this.router.close();
  }
}
