import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import type { Config } from "../config/schema.ts";
import { naturalKey } from "../records/natural-key.ts";
import { subjectFor } from "../records/subjects.ts";
import type { MarketRecord, RecordType } from "../records/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Counters } from "../stats/counters.ts";
import { typeCounter } from "../stats/layout.ts";
import { RAW_FRAME_OVERHEAD, rawFrame, rawSubject, type RawRecord } from "../codec/raw-frame.ts";
import { RecordCodec } from "../codec/record-codec.ts";
import { encodeFrame, JSON_CONTENT_TYPE, MSGPACK_CONTENT_TYPE } from "./frame-codec.ts";

/**
 * Ring -> JetStream (SPEC section 4). Records of one type are grouped per subject into frames
 * (msgpack arrays), published asynchronously with at most `max_in_flight` unacknowledged
 * messages. A full window makes `publish` wait for the oldest ack, so the batch worker stops
 * reading its ring instead of dropping. A failed publish is retried with the same
 * `Nats-Msg-Id`, which the stream's duplicate window makes safe; nothing is given up on.
 *
 *   publish(records) ─► group by subject ─► frames (≤ frame_max_records, ≤ frame_max_bytes)
 *   publishRaw(ring bytes) ─┘  (frames built from the ring's bytes as they are: raw-frame.ts)
 *                                              │ Nats-Msg-Id = hash(first key, last key, count)
 *                                              ▼
 *                       in-flight window [oldest … newest] ─► ack ─► counters
 *
 * Retries reorder: a frame retried after a timeout can land behind later frames. Storage sorts
 * by key and deduplicates by natural key, so order on the stream carries no meaning.
 */

export type PublishSettings = Config["nats"]["publish"];

export interface PublisherOptions {
  readonly js: JetStreamClient;
  readonly type: RecordType;
  readonly settings: PublishSettings;
  /** Shared counters (layout from src/stats/layout.ts): `published`, `duplicate_publishes`, `publish_errors` of `type`. */
  readonly counters?: Counters;
  /** Where a frame the stream took for a copy of another on its first attempt is logged (the first, then every 1,000th). */
  readonly log?: Logger;
  /** Milliseconds one publish waits for its ack before it is retried. Default 5000. */
  readonly ack_timeout_ms?: number;
  /** First retry delay, ms; doubles per failed attempt up to `retry_max_ms`. Default 100. */
  readonly retry_initial_ms?: number;
  readonly retry_max_ms?: number;
}

export interface PublisherStats {
  readonly published_records: number;
  readonly published_frames: number;
  /** Acks the stream reported as duplicates (already stored within the duplicate window). */
  readonly duplicate_frames: number;
  /**
   * Records of frames the stream reported as duplicates on their first attempt: another frame
   * with the same id (the same first and last natural keys and count) was already in the
   * stream, so these records are not stored again. A retry's duplicate ack is not one: its
   * first attempt got in and only the ack was lost.
   */
  readonly duplicate_records: number;
  /** Failed publish attempts (each one is retried). */
  readonly publish_errors: number;
  readonly in_flight: number;
  /** Highest in-flight count seen; never above `max_in_flight`. */
  readonly max_in_flight_seen: number;
  /** Messages currently between a failed attempt and a successful retry. */
  readonly retrying: number;
  readonly last_error: string | null;
  /** Records whose publish was still failing when `close` stopped the retries: lost, and counted. */
  readonly abandoned_records: number;
}

/** `flush` gave up waiting; the unacknowledged messages are still being retried. */
export class PublishFlushTimeoutError extends Error {
  override readonly name = "PublishFlushTimeoutError";
}

const DEFAULT_ACK_TIMEOUT_MS = 5000;
const DEFAULT_RETRY_INITIAL_MS = 100;
const DEFAULT_RETRY_MAX_MS = 5000;

/**
 * The frame's dedup id: a re-published frame with the same records gets the same id and is
 * dropped by the stream. Built from natural keys only, never a local time (MarketPrism failure 7).
 */
export function frameMsgId(records: readonly MarketRecord[], count = records.length): string {
  const first = records[0];
  const last = records[records.length - 1];
  if (first === undefined || last === undefined) throw new Error("a frame holds at least one record");
  const digest = Bun.hash.wyhash(`${naturalKey(first)}\n${naturalKey(last)}`).toString(16);
  return `${first.data_type}.${digest}.${count}`;
}

/** `items` in groups by `key`, each group in the items' order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

export class JetStreamPublisher {
  private readonly window: Promise<void>[] = [];
  private readonly text = new TextEncoder();
  private readonly codec = new RecordCodec();
  private readonly publishedSlot: number;
  private readonly errorsSlot: number;
  private readonly duplicatesSlot: number;
  private readonly ackTimeoutMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private closed = false;
  private publishedRecords = 0;
  private publishedFrames = 0;
  private duplicateFrames = 0;
  private duplicateRecords = 0;
  private duplicateFirstAttempts = 0;
  private publishErrors = 0;
  private maxInFlightSeen = 0;
  private retrying = 0;
  private lastError: string | null = null;
  private abandonedRecords = 0;

  constructor(private readonly options: PublisherOptions) {
    this.publishedSlot = options.counters?.slot(typeCounter(options.type, "published")) ?? -1;
    this.errorsSlot = options.counters?.slot(typeCounter(options.type, "publish_errors")) ?? -1;
    this.duplicatesSlot = options.counters?.slot(typeCounter(options.type, "duplicate_publishes")) ?? -1;
    this.ackTimeoutMs = options.ack_timeout_ms ?? DEFAULT_ACK_TIMEOUT_MS;
    this.retryInitialMs = options.retry_initial_ms ?? DEFAULT_RETRY_INITIAL_MS;
    this.retryMaxMs = options.retry_max_ms ?? DEFAULT_RETRY_MAX_MS;
  }

  /**
   * Publishes `records` (all of this publisher's type). Resolves once every message is in the
   * in-flight window, which may mean waiting for older acks; call `flush` to await the acks.
   */
  async publish(records: readonly MarketRecord[]): Promise<void> {
    if (this.closed) throw new Error("publisher is closed");
    if (this.options.settings.mode === "json") {
      for (const record of records) {
        if (this.full()) await this.room();
        this.send(subjectFor(record), this.text.encode(JSON.stringify(record)), naturalKey(record), JSON_CONTENT_TYPE, 1);
      }
      return;
    }
    const bySubject = groupBy(records, subjectFor);
    const maxRecords = this.options.settings.frame_max_records;
    for (const [subject, group] of bySubject) {
      for (let start = 0; start < group.length; start += maxRecords) {
        await this.sendFrames(subject, group.slice(start, start + maxRecords));
      }
    }
  }

  /**
   * `publish` for ring records as they lie in the ring (frames mode): grouped by the subject read
   * from their bytes and copied into frames without being decoded, except the first and last of
   * each frame, whose natural keys make the frame's Msg-Id (the same id `publish` gives them).
   */
  async publishRaw(records: readonly RawRecord[]): Promise<void> {
    if (this.closed) throw new Error("publisher is closed");
    if (this.options.settings.mode !== "frames") throw new Error("publishRaw needs nats.publish.mode frames");
    const bySubject = groupBy(records, rawSubject);
    const { frame_max_records: maxRecords, frame_max_bytes: maxBytes } = this.options.settings;
    for (const [subject, group] of bySubject) {
      let start = 0;
      while (start < group.length) {
        // Records up to the limits; a lone record over frame_max_bytes still goes, alone.
        let end = start;
        let bytes = RAW_FRAME_OVERHEAD;
        while (end < group.length && end - start < maxRecords) {
          const r = group[end] as RawRecord;
          if (end > start && bytes + r.end - r.start > maxBytes) break;
          bytes += r.end - r.start;
          end++;
        }
        const frame = group.slice(start, end);
        const first = frame[0] as RawRecord;
        const last = frame[frame.length - 1] as RawRecord;
        const head = this.codec.decodeKeyFieldsAt(first.data, first.start, first.end);
        const tail = frame.length === 1 ? head : this.codec.decodeKeyFieldsAt(last.data, last.start, last.end);
        const msgId = frameMsgId([head, tail], frame.length);
        if (this.full()) await this.room();
        this.send(subject, rawFrame(frame), msgId, MSGPACK_CONTENT_TYPE, frame.length);
        start = end;
      }
    }
  }

  /** Awaits every in-flight ack (retries included); rejects after `timeout_ms` if given. */
  async flush(timeout_ms?: number): Promise<void> {
    const all = Promise.all(this.window.slice());
    if (timeout_ms === undefined) {
      await all;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PublishFlushTimeoutError(`${this.window.length} publishes still unacknowledged after ${timeout_ms} ms (last error: ${this.lastError ?? "none"})`)),
        timeout_ms,
      );
    });
    try {
      await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops retrying: a message whose current attempt fails is given up and counted in
   * `abandoned_records`. Call after `flush` (with a deadline) at shutdown.
   */
  close(): void {
    this.closed = true;
  }

  stats(): PublisherStats {
    return {
      published_records: this.publishedRecords,
      published_frames: this.publishedFrames,
      duplicate_frames: this.duplicateFrames,
      duplicate_records: this.duplicateRecords,
      publish_errors: this.publishErrors,
      in_flight: this.window.length,
      max_in_flight_seen: this.maxInFlightSeen,
      retrying: this.retrying,
      last_error: this.lastError,
      abandoned_records: this.abandonedRecords,
    };
  }

  /** Encodes `records` as one frame, halving it until it fits `frame_max_bytes` (a lone record always goes). */
  private async sendFrames(subject: string, records: MarketRecord[]): Promise<void> {
    const body = encodeFrame(records);
    if (body.byteLength > this.options.settings.frame_max_bytes && records.length > 1) {
      const half = records.length >> 1;
      await this.sendFrames(subject, records.slice(0, half));
      await this.sendFrames(subject, records.slice(half));
      return;
    }
    if (this.full()) await this.room();
    this.send(subject, body, frameMsgId(records), MSGPACK_CONTENT_TYPE, records.length);
  }

  private full(): boolean {
    return this.window.length >= this.options.settings.max_in_flight;
  }

  /** Resolves once the in-flight window has room. */
  private async room(): Promise<void> {
    while (this.full()) await this.window[0];
  }

  /**
   * Puts one message in flight; the window must have room. Synchronous, so the messages of one
   * call go out together (the client writes its outbound buffer in a microtask, or at once past
   * 32 KB); an await between messages would let that write run after nearly every message, one
   * socket write per one-book frame.
   */
  private send(subject: string, body: Uint8Array, msgID: string, contentType: string, count: number): void {
    // One header set per message: the client adds Nats-Msg-Id to the object it is given.
    const headers = natsHeaders();
    headers.set("Content-Type", contentType);
    const entry = this.deliver(subject, body, msgID, headers, count).finally(() => {
      const i = this.window.indexOf(entry);
      if (i >= 0) this.window.splice(i, 1);
    });
    this.window.push(entry);
    if (this.window.length > this.maxInFlightSeen) this.maxInFlightSeen = this.window.length;
  }

  /** Counts (and logs, the first and every 1,000th) the records of a frame the stream already held on its first attempt. */
  private firstAttemptDuplicate(subject: string, msgID: string, count: number): void {
    this.duplicateRecords += count;
    if (this.duplicatesSlot >= 0) this.options.counters?.add(this.duplicatesSlot, count);
    this.duplicateFirstAttempts++;
    if (this.duplicateFirstAttempts % 1000 !== 1) return;
    this.options.log?.warn(
      { subject, msg_id: msgID, records: count, frames_so_far: this.duplicateFirstAttempts },
      "the stream already held a frame with this id (the same first and last natural keys and count) within its duplicate window; its records are not stored again",
    );
  }

  /** One message until acked: retried with the same Msg-Id on any failure, with capped backoff. */
  private async deliver(subject: string, body: Uint8Array, msgID: string, headers: MsgHdrs, count: number): Promise<void> {
    let delay = this.retryInitialMs;
    let failing = false;
    for (;;) {
      try {
        const ack = await this.options.js.publish(subject, body, { msgID, headers, timeout: this.ackTimeoutMs });
        if (failing) this.retrying--;
        this.publishedFrames++;
        if (ack.duplicate) this.duplicateFrames++;
        if (ack.duplicate && !failing) this.firstAttemptDuplicate(subject, msgID, count);
        this.publishedRecords += count;
        if (this.publishedSlot >= 0) this.options.counters?.add(this.publishedSlot, count);
        return;
      } catch (err) {
        this.publishErrors++;
        this.lastError = `${subject}: ${(err as Error).message}`;
        if (this.errorsSlot >= 0) this.options.counters?.add(this.errorsSlot, 1);
        if (!failing) {
          failing = true;
          this.retrying++;
        }
        if (this.closed) {
          this.retrying--;
          this.abandonedRecords += count;
          return;
        }
        await Bun.sleep(delay);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
  }
}
