import {
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import type { BatchingConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { isRecordType, type MarketRecord, type RecordType } from "../records/types.ts";
import type { Counters } from "../stats/counters.ts";
import { typeCounter } from "../stats/layout.ts";
import { classifyInsertError } from "../storage/insert-errors.ts";
import type { StorageSink } from "../storage/types.ts";
import { validateRecord } from "../storage/validate-record.ts";
import { ConsumerConfigError, durableName, ensureConsumer, maxAckPending, type ConsumerSettings } from "./durable-consumer.ts";
import { DeliveredSeqs } from "./delivered-seqs.ts";
import { withGapRecoveryDefaults } from "../codec/record-fields.ts";
import { decodeFrameForStorage, JSON_CONTENT_TYPE } from "./frame-codec.ts";
import { PendingBatch } from "./pending-batch.ts";

/**
 * JetStream -> storage (SPEC section 4): one durable pull consumer per record type, named
 * `<durable_prefix>_<type>`, filter `<type>.>`, deliver-all, explicit ack. It is created when
 * missing and updated in place, never deleted, so a restarted engine resumes exactly where the
 * last acknowledged insert left off (MarketPrism failure 4).
 *
 *   fetch ─► decode + validate ─► PendingBatch ─► sink.insert(records, token) ─► ack all
 *              │ bad message / max_deliver reached              │ retryable: retry in place
 *              ▼                                                │ (working() holds the acks)
 *        dead-letter stream, then term                          │ permanent: per message, the
 *                                                               ▼ failing ones dead-lettered
 *
 * A dead letter is published through JetStream and the original terminated only once the
 * dead-letter stream (stream.ts) has stored it; when it cannot, the original is nak'ed instead.
 * Terminations carry no reason (the dead letter's headers do): nats-server 2.9 (Debian's) does
 * not parse `+TERM <reason>` and ignored it, so the message came back every ack_wait and was
 * dead-lettered again on each delivery.
 *
 * A retryable insert failure (ClickHouse down) is retried here with backoff while the messages
 * are kept alive with `working()`, rather than nak'ed: naks would burn `max_deliver` in seconds
 * and send good data to the dead-letter subject during an outage. Fetching stops meanwhile, so
 * `num_pending` grows in stats. Redeliveries therefore come from crashes and stops between
 * insert and ack; the insert token (stream sequences) lets the sink store a redelivered batch once.
 * Messages pulled ahead of a retried insert outwait `ack_wait` too, and JetStream delivers
 * them again: a copy of a message this consumer holds or stored is acknowledged with it
 * (delivered-seqs.ts), never inserted twice or dead-lettered.
 */

export { ConsumerConfigError, durableName, ensureConsumer, type ConsumerSettings };

export interface StoreConsumerOptions {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly type: RecordType;
  readonly settings: ConsumerSettings;
  readonly batching: BatchingConfig;
  readonly sink: StorageSink;
  /** Shared counters: `stored`, `dead_lettered`, `duplicate_deliveries`, `insert_errors`, `last_insert_ms`, `last_insert_rows`, `consumer_pending`. */
  readonly counters?: Counters;
  /** Where each dead letter, and each one the dead-letter stream could not keep, is logged. */
  readonly log?: Logger;
  /** The table of held and acknowledged sequences every consumer of this type shares, and this one's worker index (delivered-seqs.ts); default a table of its own. */
  readonly delivered_seqs?: { readonly buffer: SharedArrayBuffer; readonly worker: number } | null;
  /** Cap of the retry backoff of a failing insert, ms. Default: half of ack_wait_ms. */
  readonly retry_max_ms?: number;
  /** Storing workers of this type, all consumers of the one durable (batch_workers.<type>); default 1. */
  readonly workers?: number;
}

export interface StoreConsumerStats {
  readonly state: "idle" | "running" | "retrying" | "stopped";
  readonly stored_rows: number;
  readonly inserts: number;
  readonly insert_errors: number;
  readonly dead_lettered: number;
  /** Second deliveries of messages held or stored here, acknowledged without storing them again. */
  readonly duplicate_deliveries: number;
  /** Messages not yet delivered to this consumer (JetStream num_pending), polled at most once a second. */
  readonly pending: number;
  readonly last_insert_ms: number;
  readonly last_insert_rows: number;
  readonly last_error: string | null;
}

/** Headers on a dead-lettered message. */
export const DEAD_LETTER_HEADERS = {
  subject: "Spectra-Original-Subject",
  reason: "Spectra-Dead-Letter-Reason",
  stream_seq: "Spectra-Stream-Seq",
  deliveries: "Spectra-Deliveries",
} as const;

const PENDING_POLL_MS = 1000;
/** Acknowledged sequences remembered to recognise second deliveries, at least (x fetch_batch). */
const DELIVERED_MEMORY_BATCHES = 16;
const RETRY_INITIAL_MS = 100;

interface Decoded {
  readonly records: MarketRecord[];
  /** Reason of the first record that failed, when some did. */
  readonly problem: string | null;
  readonly rejected: unknown[];
}

/** The sink insert token of a batch: derived from the stream sequences it holds, so a redelivered batch repeats it. */
export function dedupToken(stream: string, type: RecordType, msgs: readonly JsMsg[]): string {
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;
  let sum = 0;
  for (const m of msgs) {
    const seq = m.seq;
    if (seq < min) min = seq;
    if (seq > max) max = seq;
    sum += seq;
  }
  return `nats:${stream}:${type}:${min}-${max}:${msgs.length}:${sum}`;
}

export class StoreConsumer {
  private readonly batch: PendingBatch<JsMsg>;
  private readonly delivered: DeliveredSeqs;
  private readonly durable: string;
  private readonly slots: Record<"stored" | "dead_lettered" | "duplicate_deliveries" | "insert_errors" | "last_insert_ms" | "last_insert_rows" | "consumer_pending", number> | null;
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
  private storedRows = 0;
  private inserts = 0;
  private insertErrors = 0;
  private deadLettered = 0;
  private duplicateDeliveries = 0;
  private pending = 0;
  private polling = false;
  private pendingTimer: ReturnType<typeof setInterval> | null = null;
  private lastInsertMs = 0;
  private lastInsertRows = 0;
  private lastError: string | null = null;

  constructor(private readonly options: StoreConsumerOptions) {
    const deadLetterType = options.settings.dead_letter_subject.split(".")[0];
    if (isRecordType(deadLetterType)) {
      throw new ConsumerConfigError(
        `nats.consumer.dead_letter_subject '${options.settings.dead_letter_subject}' falls inside the stream's subjects (${deadLetterType}.>); choose a subject outside them`,
      );
    }
    this.batch = new PendingBatch(options.batching);
    this.delivered = new DeliveredSeqs(Math.max(10_000, DELIVERED_MEMORY_BATCHES * options.settings.fetch_batch), options.delivered_seqs ?? null);
    this.durable = durableName(options.settings.durable_prefix, options.type);
    const c = options.counters;
    const slot = (name: Parameters<typeof typeCounter>[1]): number => (c === undefined ? -1 : c.slot(typeCounter(options.type, name)));
    this.slots =
      c === undefined
        ? null
        : {
            stored: slot("stored"),
            dead_lettered: slot("dead_lettered"),
            duplicate_deliveries: slot("duplicate_deliveries"),
            insert_errors: slot("insert_errors"),
            last_insert_ms: slot("last_insert_ms"),
            last_insert_rows: slot("last_insert_rows"),
            consumer_pending: slot("consumer_pending"),
          };
    this.retryMaxMs = options.retry_max_ms ?? Math.max(RETRY_INITIAL_MS, options.settings.ack_wait_ms / 2);
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
    return {
      state: this.state,
      stored_rows: this.storedRows,
      inserts: this.inserts,
      insert_errors: this.insertErrors,
      dead_lettered: this.deadLettered,
      duplicate_deliveries: this.duplicateDeliveries,
      pending: this.pending,
      last_insert_ms: this.lastInsertMs,
      last_insert_rows: this.lastInsertRows,
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

  /** On its own timer, so stats keep moving while an insert is being retried. */
  private async pollPending(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.pending = (await this.options.jsm.consumers.info(this.options.stream, this.durable)).num_pending;
      if (this.slots !== null) this.options.counters?.set(this.slots.consumer_pending, this.pending);
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
    // A second delivery of a message held or stored here (delivered-seqs.ts): the copy is
    // acknowledged with its first delivery, never stored twice or dead-lettered.
    if (this.delivered.wasAcked(m.seq)) {
      this.countDuplicate();
      m.ack();
      return undefined;
    }
    if (this.delivered.isHeld(m.seq)) {
      this.countDuplicate();
      this.batch.add(m, [], 0, Date.now());
      return undefined;
    }
    // Another worker of the type holds it and acknowledges it once stored; if that worker dies
    // first, JetStream delivers it again after ack_wait. Not on the last allowed delivery:
    // JetStream delivers it no more, so it takes the usual way (below) rather than wait on a holder.
    if (m.info.deliveryCount < this.options.settings.max_deliver && this.delivered.heldElsewhere(m.seq)) {
      this.countDuplicate();
      return undefined;
    }
    // Other redeliveries come from crashes or stops between fetch and ack (insert failures are
    // retried in place), so a message on its last allowed delivery is the likely crash cause:
    // it goes to the dead-letter subject instead of being tried once more.
    const deliveries = m.info.deliveryCount;
    if (deliveries > 1 && deliveries >= this.options.settings.max_deliver) {
      const reason = `delivered ${deliveries} times (max_deliver ${this.options.settings.max_deliver})`;
      return this.deadLetter(m, m.data, reason).then((kept) => {
        if (kept) m.term();
      });
    }
    const decoded = this.decode(m);
    if (decoded.problem !== null) return this.acceptPart(m, decoded, decoded.problem);
    this.hold(m, decoded.records);
    return undefined;
  }

  private countDuplicate(): void {
    this.duplicateDeliveries++;
    if (this.slots !== null) this.options.counters?.add(this.slots.duplicate_deliveries, 1);
  }

  /** A message with bad records: those are dead-lettered, the good ones (if any) batched. */
  private async acceptPart(m: JsMsg, decoded: Decoded, problem: string): Promise<void> {
    const body = decoded.records.length === 0 ? m.data : new TextEncoder().encode(JSON.stringify(decoded.rejected));
    if (!(await this.deadLetter(m, body, problem))) return;
    if (decoded.records.length === 0) m.term();
    else this.hold(m, decoded.records);
  }

  private hold(m: JsMsg, records: MarketRecord[]): void {
    this.batch.add(m, records, m.data.byteLength, Date.now());
    this.delivered.hold(m.seq);
  }

  private decode(m: JsMsg): Decoded {
    let items: readonly unknown[];
    if (m.headers?.get("Content-Type") === JSON_CONTENT_TYPE) {
      try {
        const body: unknown = m.json();
        items = (Array.isArray(body) ? body : [body]).map(withGapRecoveryDefaults);
      } catch (err) {
        return { records: [], problem: `undecodable body: ${(err as Error).message}`, rejected: [] };
      }
    } else {
      const frame = decodeFrameForStorage(m.data, this.options.type);
      if (!frame.ok) return { records: [], problem: `undecodable body: ${frame.error}`, rejected: [] };
      items = frame.value;
    }
    const records: MarketRecord[] = [];
    const rejected: unknown[] = [];
    let problem: string | null = items.length === 0 ? "empty frame" : null;
    for (const item of items) {
      const bad = validateRecord(this.options.type, item);
      if (bad === null) records.push(item as MarketRecord);
      else {
        rejected.push(item);
        problem ??= bad;
      }
    }
    return { records, problem, rejected };
  }

  /**
   * Publishes `body` to the dead-letter subject and waits for the dead-letter stream to store it.
   * False when it did not: `m` is then nak'ed for a later delivery, not terminated, so nothing
   * leaves the data stream unkept (on its last allowed delivery it stays in the stream, unacked).
   */
  private async deadLetter(m: JsMsg, body: Uint8Array, reason: string): Promise<boolean> {
    const h = natsHeaders();
    h.set(DEAD_LETTER_HEADERS.subject, m.subject);
    h.set(DEAD_LETTER_HEADERS.reason, reason.replace(/[\r\n]+/g, " "));
    h.set(DEAD_LETTER_HEADERS.stream_seq, String(m.seq));
    h.set(DEAD_LETTER_HEADERS.deliveries, String(m.info.deliveryCount));
    const contentType = m.headers?.get("Content-Type");
    if (contentType !== undefined && contentType !== "" && body === m.data) h.set("Content-Type", contentType);
    else h.set("Content-Type", JSON_CONTENT_TYPE);
    try {
      await this.options.js.publish(this.options.settings.dead_letter_subject, body, { headers: h });
    } catch (err) {
      this.lastError = `dead letter of ${m.subject} (stream seq ${m.seq}) not stored: ${(err as Error).message}`;
      this.options.log?.error({ err, subject: m.subject, stream_seq: m.seq, reason }, "dead-letter stream did not keep a poison message; it stays in the data stream, nak'ed for a later delivery");
      m.nak(this.retryMaxMs);
      return false;
    }
    this.options.log?.warn({ subject: m.subject, stream_seq: m.seq, deliveries: m.info.deliveryCount, reason }, "message dead-lettered");
    this.deadLettered++;
    if (this.slots !== null) this.options.counters?.add(this.slots.dead_lettered, 1);
    return true;
  }

  /** Inserts the batch and acks its messages once the insert has committed. */
  private async commit(): Promise<void> {
    this.commitQueued = false;
    if (this.batch.rows === 0 && this.batch.sources.length === 0) return;
    const { records, sources } = this.batch.take();
    if (records.length > 0) {
      const ok = await this.insertRetrying(records, sources);
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

  /** true once inserted; false on a permanent failure. Retries retryable failures until stopped by abort. */
  private async insertRetrying(records: MarketRecord[], msgs: readonly JsMsg[]): Promise<boolean> {
    const token = dedupToken(this.options.stream, this.options.type, msgs);
    let delay = RETRY_INITIAL_MS;
    for (;;) {
      try {
        const started = performance.now();
        // Every record passed validateRecord in `decode`.
        const result = await this.options.sink.insert(this.options.type, records, token, true);
        this.recordInsert(result.rows, performance.now() - started);
        if (this.state === "retrying") this.state = "running";
        return true;
      } catch (err) {
        this.insertErrors++;
        this.lastError = `insert: ${(err as Error).message}`;
        if (this.slots !== null) this.options.counters?.add(this.slots.insert_errors, 1);
        if (classifyInsertError(err) === "permanent") {
          this.options.log?.error({ err, rows: records.length, messages: msgs.length }, "ClickHouse refused an insert for good; a batch is split into its messages, a message refused alone is dead-lettered");
          return false;
        }
        if (this.aborted) return true;
        this.options.log?.warn({ err, rows: records.length, retry_in_ms: delay }, "ClickHouse insert failed; retrying");
        this.state = "retrying";
        for (const m of msgs) m.working();
        await Bun.sleep(delay);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
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
        const decoded = this.decode(m);
        if (decoded.records.length > 0 && !(await this.insertRetrying(decoded.records, [m]))) {
          const dead = await this.deadLetter(m, m.data, this.lastError ?? "insert refused");
          if (dead) m.term();
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

  private recordInsert(rows: number, latency_ms: number): void {
    this.inserts++;
    this.storedRows += rows;
    this.lastInsertRows = rows;
    this.lastInsertMs = latency_ms;
    if (this.slots === null) return;
    const c = this.options.counters;
    c?.add(this.slots.stored, rows);
    c?.set(this.slots.last_insert_ms, Math.round(latency_ms));
    c?.set(this.slots.last_insert_rows, rows);
  }
}
