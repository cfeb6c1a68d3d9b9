import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { BatchingConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { isRecordType, type RecordType } from "../records/types.ts";
import type { StorageRecord } from "../codec/storage-record.ts";
import { Counters } from "../stats/counters.ts";
import { counterNames } from "../stats/layout.ts";
import type { StorageSink } from "../storage/types.ts";
import { ConsumerCounts } from "./consumer-counts.ts";
import { DeadLetters } from "./dead-letter.ts";
import { DuplicateDeliveries } from "./duplicate-deliveries.ts";
import { ConsumerConfigError, durableName, ensureConsumer, maxAckPending, type ConsumerSettings } from "./durable-consumer.ts";
import { InsertRetry, RETRY_INITIAL_MS } from "./insert-retry.ts";
import { decodeMessage, type DecodedMessage } from "./message-decode.ts";
import { PendingBatch } from "./pending-batch.ts";

/**
 * JetStream -> storage (SPEC section 4): one durable pull consumer per record type, named
 * `<durable_prefix>_<type>`, filter `<type>.>`, deliver-all, explicit ack. It is created when
 * missing and updated in place, never deleted, so a restarted engine resumes exactly where the
 * last acknowledged insert left off (MarketPrism failure 4). Storers in several processes share
 * it: JetStream hands each message to one of them.
 *
 *   fetch ─► copy? (duplicate-deliveries.ts) ─► decode + validate (message-decode.ts) ─► PendingBatch
 *              │ bad message / max_deliver reached                                         │
 *              ▼                                                                          ▼
 *        dead-letter stream, then term (dead-letter.ts)       insert, retried in place (insert-retry.ts)
 *                                                             ─► ack all; permanent failure: per message,
 *                                                                the failing ones dead-lettered
 *
 * Fetching stops while an insert is retried, so `num_pending` grows in stats. Redeliveries
 * therefore come from crashes and stops between insert and ack; the insert token (stream
 * sequences) lets the sink store a redelivered batch once. Counts live in the shared counters
 * (consumer-counts.ts).
 */

export { ConsumerConfigError, durableName, ensureConsumer, type ConsumerSettings };
export { DEAD_LETTER_HEADERS } from "./dead-letter.ts";
export { dedupToken } from "./insert-retry.ts";

export interface StoreConsumerOptions {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly type: RecordType;
  readonly settings: ConsumerSettings;
  readonly batching: BatchingConfig;
  readonly sink: StorageSink;
  /** Shared counters: `stored`, `dead_lettered`, `duplicate_deliveries`, `insert_errors`, `last_insert_ms`, `last_insert_rows`, `consumer_pending`; default a set of its own. */
  readonly counters?: Counters;
  /** Where each dead letter, and each one the dead-letter stream could not keep, is logged. */
  readonly log?: Logger;
  /** The table of held and acknowledged sequences every consumer of this type shares, and this one's worker index (delivered-seqs.ts); default a table of its own. */
  readonly delivered_seqs?: { readonly buffer: SharedArrayBuffer; readonly worker: number } | null;
  /** Cap of the retry backoff of a failing insert, ms. Default: half of ack_wait_ms. */
  readonly retry_max_ms?: number;
  /** Storing workers of this type in every storer, all consumers of the one durable (batch_workers.<type> x nats.consumer.storers); default 1. */
  readonly workers?: number;
}

/** The consumer's state, with its type's figures read from the shared counters. */
export interface StoreConsumerStats {
  readonly state: "idle" | "running" | "retrying" | "stopped";
  readonly stored_rows: number;
  readonly insert_errors: number;
  readonly dead_lettered: number;
  /** Second deliveries of messages held or stored here, acknowledged without storing them again. */
  readonly duplicate_deliveries: number;
  /**
   * Messages of the durable not yet acknowledged: waiting in the stream (JetStream num_pending)
   * plus delivered and unacknowledged, updated once a second (`pollPending`).
   */
  readonly pending: number;
  readonly last_insert_ms: number;
  readonly last_insert_rows: number;
  readonly last_error: string | null;
}

const PENDING_POLL_MS = 1000;
/** Longest a count taken from deliveries stands without JetStream being asked, ms. */
const PENDING_RECHECK_MS = 30_000;

export class StoreConsumer {
  private readonly batch: PendingBatch<JsMsg>;
  private readonly counts: ConsumerCounts;
  private readonly duplicates: DuplicateDeliveries;
  private readonly deadLetters: DeadLetters;
  private readonly inserts: InsertRetry;
  private readonly durable: string;
  private readonly retryMaxMs: number;
  private messages: ConsumerMessages | null = null;
  private committing: Promise<void> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;
  /** A commit is queued that has not taken the batch yet: the batch needs no timer of its own. */
  private commitQueued = false;
  private stopping = false;
  private aborted = false;
  private state: StoreConsumerStats["state"] = "idle";
  private polling = false;
  private pendingTimer: ReturnType<typeof setInterval> | null = null;
  /** The durable's num_pending as the latest delivered message stated it; null before the first (and after a failed pull). */
  private latestPending: number | null = null;
  /** Messages delivered since the last `pollPending`. */
  private deliveredSincePoll = 0;
  private lastAskedMs = 0;
  /** Messages a running commit has taken from the batch and not yet acknowledged. */
  private committingMessages = 0;
  private lastError: string | null = null;

  constructor(private readonly options: StoreConsumerOptions) {
    const deadLetterType = options.settings.dead_letter_subject.split(".")[0];
    if (isRecordType(deadLetterType)) {
      throw new ConsumerConfigError(
        `nats.consumer.dead_letter_subject '${options.settings.dead_letter_subject}' falls inside the stream's subjects (${deadLetterType}.>); choose a subject outside them`,
      );
    }
    this.batch = new PendingBatch(options.batching);
    this.durable = durableName(options.settings.durable_prefix, options.type);
    this.retryMaxMs = options.retry_max_ms ?? Math.max(RETRY_INITIAL_MS, options.settings.ack_wait_ms / 2);
    this.counts = new ConsumerCounts(options.counters ?? new Counters(counterNames()), options.type);
    this.duplicates = new DuplicateDeliveries(options.settings.fetch_batch, options.delivered_seqs ?? null, options.settings.max_deliver, this.counts);
    const onError = (text: string): void => {
      this.lastError = text;
    };
    this.deadLetters = new DeadLetters({ js: options.js, subject: options.settings.dead_letter_subject, counts: this.counts, log: options.log, nak_delay_ms: this.retryMaxMs, onError });
    this.inserts = new InsertRetry({
      stream: options.stream,
      type: options.type,
      sink: options.sink,
      counts: this.counts,
      log: options.log,
      retry_max_ms: this.retryMaxMs,
      onError,
      onRetrying: (retrying) => {
        if (retrying) this.state = "retrying";
        else if (this.state === "retrying") this.state = "running";
      },
      aborted: () => this.aborted,
    });
  }

  private get delivered() {
    return this.duplicates.seqs;
  }

  /** Ensures the durable consumer and starts fetching. */
  async start(): Promise<void> {
    if (this.loop !== null) throw new Error("consumer already started");
    const limit = maxAckPending(this.options.batching.max_rows, this.options.workers ?? 1);
    await ensureConsumer(this.options.jsm, this.options.stream, this.options.type, this.options.settings, limit);
    this.state = "running";
    this.pendingTimer = setInterval(() => void this.pollPending(), PENDING_POLL_MS);
    void this.pollPending();
    this.loop = this.run();
  }

  /** Stops fetching, inserts and acks what is batched, and resolves when done. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    if (this.pendingTimer !== null) clearInterval(this.pendingTimer);
    await this.loop;
    this.state = "stopped";
  }

  /**
   * Stops as a crash would: nothing more is inserted or acknowledged, so every unacked message
   * is redelivered after ack_wait. An insert already running completes, but its messages stay unacked.
   */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.stop();
  }

  stats(): StoreConsumerStats {
    const c = this.counts;
    return {
      state: this.state,
      stored_rows: c.read("stored"),
      insert_errors: c.read("insert_errors"),
      dead_lettered: c.read("dead_lettered"),
      duplicate_deliveries: c.read("duplicate_deliveries"),
      pending: c.read("consumer_pending"),
      last_insert_ms: c.read("last_insert_ms"),
      last_insert_rows: c.read("last_insert_rows"),
      last_error: this.lastError,
    };
  }

  /**
   * A continuous pull (`consume`) keeps messages flowing without a fetch round trip per batch;
   * a timer set for the moment a batch has lingered `linger_ms` commits it, so latency is the
   * linger, not a fetch expiry. Commits are serialized; `accept` only appends, and a commit
   * takes the batch as it stands when it begins.
   */
  private async run(): Promise<void> {
    const consumer = await this.options.js.consumers.get(this.options.stream, this.durable);
    let backoff = RETRY_INITIAL_MS;
    while (!this.stopping) {
      try {
        this.messages = await consumer.consume({ max_messages: this.options.settings.fetch_batch });
        for await (const m of this.messages) {
          if (this.aborted) break;
          this.latestPending = m.info.pending;
          this.deliveredSincePoll++;
          const dead = this.accept(m);
          if (dead !== undefined) await dead;
          if (this.batch.full()) await this.commitInTurn();
          else this.armLinger();
        }
        backoff = RETRY_INITIAL_MS;
      } catch (err) {
        // Server gone or restarting: the client reconnects; pull again after a pause. Batched
        // messages stay unacked (and are redelivered if their acks never make it).
        this.lastError = `consume: ${(err as Error).message}`;
        this.latestPending = null;
        this.options.log?.warn({ err, retry_in_ms: backoff }, "storage consumer's pull failed; pulling again");
        await Bun.sleep(backoff);
        backoff = Math.min(backoff * 2, this.retryMaxMs);
      }
    }
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    if (this.aborted) {
      await this.committing;
      return;
    }
    await this.commitInTurn();
  }

  /**
   * Sets a timer for when the batch is due, unless one is set or a queued commit will take the
   * batch anyway (so a long insert or an outage queues one commit, not one per message). A timer
   * that finds a newer batch re-arms for it.
   */
  private armLinger(): void {
    if (this.lingerTimer !== null || this.commitQueued || this.batch.sources.length === 0) return;
    this.lingerTimer = setTimeout(
      () => {
        this.lingerTimer = null;
        if (this.aborted || this.stopping) return;
        if (this.batch.due(Date.now())) void this.commitInTurn();
        else this.armLinger();
      },
      Math.max(0, this.batch.dueAtMs - Date.now()),
    );
  }

  /** Runs `commit` after any commit already running; failures are recorded, not thrown. */
  private commitInTurn(): Promise<void> {
    this.commitQueued = true;
    this.committing = this.committing.then(() =>
      this.commit().catch((err: unknown) => {
        this.lastError = `commit: ${(err as Error).message}`;
        this.options.log?.error({ err }, "storage consumer's commit failed; its messages stay unacked and are delivered again after ack_wait");
      }),
    );
    return this.committing;
  }

  /**
   * On its own timer, so stats keep moving while an insert is being retried. Every delivery
   * carries the durable's num_pending, and the messages held here are the ones delivered and
   * unacknowledged (with several workers of a type, this worker's: the figure is the last
   * writer's view). So while messages flow (a delivery since the last poll), or when the last
   * delivery left nothing pending and nothing is held (the pull waits for new messages, which it
   * gets as they come), the count needs no request. Otherwise (deliveries stopped by a failing
   * insert, max_ack_pending or a broken pull), and at least every PENDING_RECHECK_MS, it asks
   * JetStream: a consumer info request makes nats-server count the consumer's pending messages
   * subject by subject.
   */
  private async pollPending(): Promise<void> {
    if (this.polling) return;
    const latest = this.latestPending;
    const flowing = this.deliveredSincePoll > 0;
    this.deliveredSincePoll = 0;
    const held = this.batch.sources.length + this.committingMessages;
    const now = Date.now();
    if (latest !== null && now - this.lastAskedMs < PENDING_RECHECK_MS && (flowing || (latest === 0 && held === 0))) {
      this.counts.pending(latest + held);
      return;
    }
    this.lastAskedMs = now;
    this.polling = true;
    try {
      const info = await this.options.jsm.consumers.info(this.options.stream, this.durable);
      this.counts.pending(info.num_pending + info.num_ack_pending);
      // A type that gets no messages (gaps, mostly) then needs no request until the recheck.
      this.latestPending ??= info.num_pending;
    } catch (err) {
      this.lastError = `consumer info: ${(err as Error).message}`;
    } finally {
      this.polling = false;
    }
  }

  /**
   * Decodes one message into the batch, or dead-letters it; the promise (only when something is
   * dead-lettered) resolves once the dead-letter stream holds it.
   */
  private accept(m: JsMsg): Promise<void> | undefined {
    if (this.duplicates.handled(m, this.batch)) return undefined;
    // Other redeliveries come from crashes or stops between fetch and ack (insert failures are
    // retried in place), so a message on its last allowed delivery is the likely crash cause:
    // it goes to the dead-letter subject instead of being tried once more.
    const deliveries = m.info.deliveryCount;
    if (deliveries > 1 && deliveries >= this.options.settings.max_deliver) {
      return this.deadLetters.sendAndTerm(m, `delivered ${deliveries} times (max_deliver ${this.options.settings.max_deliver})`).then(() => undefined);
    }
    const decoded = decodeMessage(m, this.options.type);
    if (decoded.problem !== null) return this.acceptPart(m, decoded, decoded.problem);
    this.hold(m, decoded.records);
    return undefined;
  }

  /** A message with bad records: those are dead-lettered, the good ones (if any) batched. */
  private async acceptPart(m: JsMsg, decoded: DecodedMessage, problem: string): Promise<void> {
    const body = decoded.records.length === 0 ? m.data : new TextEncoder().encode(JSON.stringify(decoded.rejected));
    if (!(await this.deadLetters.send(m, body, problem))) return;
    if (decoded.records.length === 0) m.term();
    else this.hold(m, decoded.records);
  }

  private hold(m: JsMsg, records: StorageRecord[]): void {
    this.batch.add(m, records, m.data.byteLength, Date.now());
    this.delivered.hold(m.seq);
  }

  /** Inserts the batch and acks its messages once the insert has committed. */
  private async commit(): Promise<void> {
    this.commitQueued = false;
    if (this.batch.rows === 0 && this.batch.sources.length === 0) return;
    const { records, sources } = this.batch.take();
    this.committingMessages = sources.length;
    try {
      if (records.length > 0) {
        const ok = await this.inserts.insert(records, sources);
        if (!ok) {
          await this.insertEach(sources);
          return;
        }
      }
      if (this.aborted) return;
      for (const m of sources) {
        m.ack();
        this.delivered.acked(m.seq);
      }
      await this.flushAcks(sources.length);
    } finally {
      this.committingMessages = 0;
    }
  }

  /**
   * Acks are fire-and-forget: the connection can drop with some unsent, or nats-server die
   * before it stored them. JetStream then delivers those messages again after ack_wait, and
   * they are recognised as stored (`delivered`) and acknowledged without a second insert.
   */
  private async flushAcks(messages: number): Promise<void> {
    try {
      await this.options.nc.flush();
    } catch (err) {
      this.lastError = `ack flush: ${(err as Error).message}`;
      this.options.log?.warn({ err, messages }, "acks of stored messages may not have reached NATS; the messages come back after ack_wait and are acknowledged without being stored again");
    }
  }

  /** After a permanent batch failure: each message on its own, so only the poison ones are dead-lettered. */
  private async insertEach(msgs: readonly JsMsg[]): Promise<void> {
    /** Refused sequences: whether the dead-letter stream kept them (terminated) or not (nak'ed). */
    const refused = new Map<number, boolean>();
    for (const m of msgs) {
      if (this.aborted) return;
      // A second delivery in the same batch goes the way its first did.
      const kept = refused.get(m.seq);
      if (kept !== undefined) {
        if (kept) m.term();
        else m.nak(this.retryMaxMs);
        continue;
      }
      if (!this.delivered.wasAcked(m.seq)) {
        const decoded = decodeMessage(m, this.options.type);
        if (decoded.records.length > 0 && !(await this.inserts.insert(decoded.records, [m]))) {
          const dead = await this.deadLetters.sendAndTerm(m, this.lastError ?? "insert refused");
          this.delivered.released(m.seq);
          refused.set(m.seq, dead);
          continue;
        }
      }
      m.ack();
      this.delivered.acked(m.seq);
    }
    await this.flushAcks(msgs.length);
  }
}
