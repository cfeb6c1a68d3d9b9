import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../log/logger.ts";
import type { RecordType } from "../records/types.ts";
import type { StorageRecord } from "../codec/storage-record.ts";
import { classifyInsertError } from "../storage/insert-errors.ts";
import type { StorageSink } from "../storage/types.ts";
import type { ConsumerCounts } from "./consumer-counts.ts";

export const RETRY_INITIAL_MS = 100;

/**
 * The insert token of a batch: the stream, the type and the batch's stream sequences, nothing
 * about the process or worker that inserts it. A batch delivered again, to this storer or to
 * another one sharing the durable consumer, repeats the token when it holds the same messages,
 * and ClickHouse (a server or cluster that the storers share) drops the repeated insert.
 */
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

export interface InsertRetryOptions {
  readonly stream: string;
  readonly type: RecordType;
  readonly sink: StorageSink;
  readonly counts: ConsumerCounts;
  readonly log?: Logger;
  /** Cap of the backoff, ms. */
  readonly retry_max_ms: number;
  /** Receives the text of each failure (the consumer's `last_error`). */
  readonly onError: (text: string) => void;
  /** Called with true when an insert starts being retried, false when one succeeds. */
  readonly onRetrying: (retrying: boolean) => void;
  /** True once the consumer is aborted: retries end. */
  readonly aborted: () => boolean;
}

/**
 * Inserts a batch, retrying a retryable failure (ClickHouse down) in place with backoff while its
 * messages are kept alive with `working()`, rather than nak'ed: naks would burn `max_deliver` in
 * seconds and send good data to the dead-letter subject during an outage.
 */
export class InsertRetry {
  constructor(private readonly options: InsertRetryOptions) {}

  /** true once inserted (or aborted); false on a permanent failure. */
  async insert(records: StorageRecord[], msgs: readonly JsMsg[]): Promise<boolean> {
    const o = this.options;
    const token = dedupToken(o.stream, o.type, msgs);
    let delay = RETRY_INITIAL_MS;
    for (;;) {
      try {
        const started = performance.now();
        // Every record passed validateRecord when its message was decoded.
        const result = await o.sink.insert(o.type, records, token, true);
        o.counts.inserted(result.rows, performance.now() - started);
        o.onRetrying(false);
        return true;
      } catch (err) {
        o.counts.insertFailed();
        o.onError(`insert: ${(err as Error).message}`);
        if (classifyInsertError(err) === "permanent") {
          o.log?.error({ err, rows: records.length, messages: msgs.length }, "ClickHouse refused an insert for good; a batch is split into its messages, a message refused alone is dead-lettered");
          return false;
        }
        if (o.aborted()) return true;
        o.log?.warn({ err, rows: records.length, retry_in_ms: delay }, "ClickHouse insert failed; retrying");
        o.onRetrying(true);
        for (const m of msgs) m.working();
        await Bun.sleep(delay);
        delay = Math.min(delay * 2, o.retry_max_ms);
      }
    }
  }
}
