import type { NatsConnection } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { RawRecord } from "../codec/raw-frame.ts";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import type { MarketRecord } from "../records/types.ts";
import { naturalKey } from "../records/natural-key.ts";
import type { Counters } from "../stats/counters.ts";
import { typeCounter } from "../stats/layout.ts";
import type { BatchLaneInit } from "../supervisor/messages.ts";
import { laneCount } from "../config/batch-lanes.ts";
import { JetStreamPublisher } from "../bus/publisher.ts";
import { durableName, StoreConsumer } from "../bus/consumer.ts";
import { PendingBatch } from "../bus/pending-batch.ts";
import { classifyInsertError } from "../storage/insert-errors.ts";
import type { StorageSink } from "../storage/types.ts";
import { RingReader } from "./ring-reader.ts";

/** Records gathered from the rings per publish round. */
const PUBLISH_ROUND_RECORDS = 8192;
/** Publish rounds whose acks may be outstanding at once (their records stay in the rings). */
const PUBLISH_ROUNDS_IN_FLIGHT = 4;
/**
 * Shortest interval between publish rounds, ms, unless the rings fill past PUBLISH_EARLY_FILL.
 * Each round is at least one JetStream message and one ack; publishing every record as soon as
 * it was visible gave ~200 trade rounds a second in the e2e bench and cost nats-server and the
 * trade batch worker about 15 % of a core more (e2e intake 125-152k -> 107-109k msgs/s).
 */
const PUBLISH_INTERVAL_MS = 20;
const PUBLISH_EARLY_FILL = 0.1;
/**
 * Longest wait on empty rings, ms. Data and ended rings wake the wait at once, and so does
 * `stop`; at 20 ms each of the seven lightly used batch workers took ~1 % of a core just
 * waking up in the e2e bench, ~0.5 % at 250 ms.
 */
const IDLE_WAIT_MS = 250;
/** Direct (no NATS) storage flushes early once a ring is this full, since it holds the batch. */
const DIRECT_FLUSH_FILL = 0.5;
/** Pause between retries of a failed direct insert, ms. */
const DIRECT_RETRY_MS = 1000;

/** What a lane shares with the other lanes of its thread. */
export interface LaneContext {
  readonly config: Config;
  readonly counters: Counters;
  readonly log: Logger;
  /** The thread's NATS connection; null without NATS. */
  readonly nats: { readonly nc: NatsConnection; readonly js: JetStreamClient; readonly jsm: JetStreamManager } | null;
  /** Where inserts go when the thread stores; null when it does not. */
  readonly sink: StorageSink | null;
  /** Whether the thread publishes its rings to JetStream. */
  readonly publish: boolean;
}

/**
 * One lane of a batch worker thread: the `index`th share of one record type. Depending on role
 * and config it runs:
 *   publish: rings -> frames -> JetStream (async, bounded window), ring freed after the acks;
 *   store:   JetStream durable consumer -> columnar batch -> ClickHouse -> ack;
 *   direct:  (nats.enabled: false) rings -> columnar batch -> ClickHouse, ring freed after commit.
 */
export class BatchLane {
  private readonly reader: RingReader;
  private publisher: JetStreamPublisher | null = null;
  private consumer: StoreConsumer | null = null;
  private stopping = false;
  private wakeIdle: () => void = () => {};
  private loop: Promise<void> | null = null;

  constructor(
    private readonly lane: BatchLaneInit,
    private readonly ctx: LaneContext,
  ) {
    this.reader = new RingReader(lane.rings);
  }

  async start(): Promise<void> {
    const { config: cfg, nats, sink, counters, log } = this.ctx;
    const type = this.lane.type;
    if (nats !== null && this.ctx.publish) {
      this.publisher = new JetStreamPublisher({ js: nats.js, type, settings: cfg.nats.publish, counters, log });
    }
    if (nats !== null && sink !== null) {
      this.consumer = new StoreConsumer({
        nc: nats.nc,
        js: nats.js,
        jsm: nats.jsm,
        stream: cfg.nats.stream.name,
        type,
        settings: cfg.nats.consumer,
        batching: cfg.batching[type],
        workers: laneCount(cfg, type) * cfg.nats.consumer.storers,
        sink,
        counters,
        log,
        delivered_seqs: this.lane.delivered_seqs === null ? null : { buffer: this.lane.delivered_seqs, worker: this.lane.index },
      });
      await this.consumer.start();
    }
    if (this.publisher !== null) this.loop = this.publishLoop(this.publisher);
    else if (nats === null && sink !== null) this.loop = this.directLoop(sink);
  }

  /**
   * Rings -> JetStream. Frames mode publishes the ring's bytes as they are (no decode, no
   * re-encode); json mode needs the records. Rounds overlap: the next round is gathered and
   * published while earlier acks are outstanding (up to PUBLISH_ROUNDS_IN_FLIGHT), and each
   * round's records are freed (`commitTo`) once its acks and every earlier round's are in.
   * Waiting for each round's acks before reading on held a 4 MiB ring of order books to one
   * round trip per ring-full (~0.3-0.8 s on the loaded 2-core box): the ring sat at 100 %.
   */
  private async publishLoop(publisher: JetStreamPublisher): Promise<void> {
    const raw = this.ctx.config.nats.publish.mode === "frames";
    const rounds: { marks: number[]; acked: boolean; done: Promise<void> }[] = [];
    let lastRoundMs = 0;
    for (;;) {
      while (rounds[0]?.acked === true) this.reader.commitTo((rounds.shift() as (typeof rounds)[number]).marks);
      const sinceRound = performance.now() - lastRoundMs;
      if (sinceRound < PUBLISH_INTERVAL_MS && !this.stopping && this.reader.fill() < PUBLISH_EARLY_FILL) {
        await Bun.sleep(PUBLISH_INTERVAL_MS - sinceRound);
        continue;
      }
      const full = rounds.length >= PUBLISH_ROUNDS_IN_FLIGHT;
      const records = full ? [] : raw ? this.reader.gatherRaw(PUBLISH_ROUND_RECORDS) : this.reader.gather(PUBLISH_ROUND_RECORDS);
      if (records.length === 0) {
        const oldest = rounds[0];
        if (oldest !== undefined) await (full ? oldest.done : Promise.race([oldest.done, this.idle()]));
        else if (this.stopping && this.reader.finished) return;
        else await this.idle();
        continue;
      }
      lastRoundMs = performance.now();
      if (raw) await publisher.publishRaw(records as RawRecord[]);
      else await publisher.publish(records as MarketRecord[]);
      const round = { marks: this.reader.mark(), acked: false, done: Promise.resolve() };
      // flush() covers every message in flight now, so earlier rounds are acked first.
      round.done = publisher.flush().then(() => {
        round.acked = true;
      });
      rounds.push(round);
    }
  }

  /** nats.enabled: false. The batch policy is the consumer's (PendingBatch); the ring holds the batch until it commits. */
  private async directLoop(sink: StorageSink): Promise<void> {
    const policy = this.ctx.config.batching[this.lane.type];
    const batch = new PendingBatch<null, MarketRecord>(policy);
    for (;;) {
      const more = this.reader.gather(policy.max_rows - batch.rows);
      if (more.length > 0) batch.add(null, more, this.reader.gatheredBytes, Date.now());
      if (batch.rows > 0 && (batch.due(Date.now()) || this.reader.fill() >= DIRECT_FLUSH_FILL || this.stopping)) {
        await this.storeDirect(sink, batch.take().records);
        this.reader.commit();
        continue;
      }
      if (more.length === 0) {
        if (this.stopping && this.reader.finished) return;
        await this.idle();
      }
    }
  }

  /**
   * Inserts `records`, retrying retryable failures in place (the rings keep them meanwhile). A
   * batch ClickHouse refuses for good is inserted record by record; a record refused on its own
   * has nowhere else to go without NATS: it is logged whole and counted as dead-lettered.
   */
  private async storeDirect(sink: StorageSink, records: MarketRecord[]): Promise<void> {
    const c = this.ctx.counters;
    const slot = (name: Parameters<typeof typeCounter>[1]) => c.slot(typeCounter(this.lane.type, name));
    for (;;) {
      try {
        const result = await sink.insert(this.lane.type, records, dedupToken(records));
        c.add(slot("stored"), result.rows);
        c.set(slot("last_insert_ms"), Math.round(result.latency_ms));
        c.set(slot("last_insert_rows"), result.rows);
        return;
      } catch (error) {
        c.add(slot("insert_errors"), 1);
        const permanent = classifyInsertError(error) === "permanent";
        if (permanent && records.length > 1) {
          for (const r of records) await this.storeDirect(sink, [r]);
          return;
        }
        if (permanent) {
          c.add(slot("dead_lettered"), 1);
          this.ctx.log.error({ err: error, record: records[0] }, "ClickHouse refused a record; it is dropped (no NATS to dead-letter it to)");
          return;
        }
        this.ctx.log.error({ err: error, rows: records.length }, "ClickHouse insert failed; retrying");
        await Bun.sleep(DIRECT_RETRY_MS);
      }
    }
  }

  /** Resolves when a ring has data or has ended, after IDLE_WAIT_MS, or at `stop`. */
  private idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wakeIdle = resolve;
      void this.reader.waitForData(IDLE_WAIT_MS).then(() => resolve());
    });
  }

  /** Drains the rings (ingest has closed them) and, in the `all` role, waits for the store to catch up. */
  async stop(until_ms: number): Promise<void> {
    this.stopping = true;
    this.wakeIdle();
    await this.loop;
    if (this.consumer !== null) {
      await this.storeEverythingPublished(until_ms);
      await this.consumer.stop();
    }
    this.publisher?.close();
  }

  /**
   * In the `all` role, what this process published should also be stored before it exits:
   * wait (to the deadline) until the durable consumer has nothing pending or unacked.
   */
  private async storeEverythingPublished(until_ms: number): Promise<void> {
    const jsm = this.ctx.nats?.jsm ?? null;
    if (jsm === null || !this.ctx.publish) return;
    const cfg = this.ctx.config.nats;
    const name = durableName(cfg.consumer.durable_prefix, this.lane.type);
    while (Date.now() < until_ms) {
      // A request that times out on a loaded server is asked again, not a failed stop.
      const info = await jsm.consumers.info(cfg.stream.name, name).catch((err: unknown) => {
        this.ctx.log.warn({ err }, "consumer info failed while waiting for the store to catch up; asking again");
        return null;
      });
      if (info !== null && info.num_pending === 0 && info.num_ack_pending === 0) return;
      await Bun.sleep(50);
    }
    this.ctx.log.warn("shutdown deadline passed before everything published was stored; it stays in JetStream for the next start");
  }
}

/** A batch's insert token from its records' natural keys: a re-inserted batch is stored once. */
export function dedupToken(records: readonly MarketRecord[]): string {
  const first = records[0];
  const last = records[records.length - 1];
  if (first === undefined || last === undefined) throw new Error("empty batch");
  return `${Bun.hash.wyhash(`${naturalKey(first)}\n${naturalKey(last)}`).toString(16)}-${records.length}`;
}
