import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { Config } from "../config/schema.ts";
import { subjectFilterFor } from "../records/subjects.ts";
import type { RecordType } from "../records/types.ts";

/**
 * The durable pull consumer of one record type: `<durable_prefix>_<type>`, filter `<type>.>`,
 * deliver-all, explicit ack. Created when missing, updated in place, never deleted, so a
 * restarted engine resumes where the last acknowledged insert left off (MarketPrism failure 4).
 */

export type ConsumerSettings = Config["nats"]["consumer"];

/** The existing durable differs in a setting JetStream cannot change in place. */
export class ConsumerConfigError extends Error {
  override readonly name = "ConsumerConfigError";
}

export function durableName(prefix: string, type: RecordType): string {
  return `${prefix}_${type}`;
}

/**
 * Unacknowledged messages the durable of a type may have out at once, for `workers` storing
 * workers (in all storer processes together) that each batch up to `max_rows` rows: every worker's batch being inserted plus the
 * next one filling meanwhile. Never below JetStream's default of 1,000.
 *
 * Why not JetStream's default: a message carries at least one record, and at thousands of
 * symbols an order-book message carries exactly one (frames are per subject, a subject per
 * symbol). With 1,000 out at once a batch could not grow past 1,000 books, and a 1 s linger
 * stored 1,000 books per linger plus insert: at 2,000 books/s the backlog grew without end
 * (scratch harness, 20 s at 2,000 books/s: inserts of exactly 1,000 rows, p99 receipt to
 * commit 29 s, drained 29 s after the last book).
 */
export function maxAckPending(max_rows: number, workers: number): number {
  return Math.max(1000, 2 * max_rows * Math.max(1, workers));
}

/**
 * Creates the durable pull consumer for `type` or updates it in place; never deletes it.
 * `max_ack_pending` (maxAckPending) is set when given, left as it is otherwise.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  type: RecordType,
  settings: ConsumerSettings,
  max_ack_pending?: number,
): Promise<"created" | "updated" | "unchanged"> {
  const name = durableName(settings.durable_prefix, type);
  const wanted: Partial<ConsumerConfig> = {
    durable_name: name,
    filter_subject: subjectFilterFor(type),
    deliver_policy: DeliverPolicy.All,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(settings.ack_wait_ms),
    max_deliver: settings.max_deliver,
    ...(max_ack_pending === undefined ? {} : { max_ack_pending }),
  };
  let existing: ConsumerConfig;
  try {
    existing = (await jsm.consumers.info(stream, name)).config;
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(stream, wanted);
    return "created";
  }
  if (existing.filter_subject !== wanted.filter_subject || existing.ack_policy !== wanted.ack_policy || existing.deliver_policy !== wanted.deliver_policy) {
    throw new ConsumerConfigError(
      `durable consumer ${name} on ${stream} exists with filter '${existing.filter_subject}', ack '${existing.ack_policy}', deliver '${existing.deliver_policy}' ` +
        `instead of '${wanted.filter_subject}', 'explicit', 'all'; it is not deleted automatically (that would lose its position). Fix or remove it by hand.`,
    );
  }
  const sameLimit = max_ack_pending === undefined || existing.max_ack_pending === max_ack_pending;
  if (existing.ack_wait === wanted.ack_wait && existing.max_deliver === wanted.max_deliver && sameLimit) return "unchanged";
  await jsm.consumers.update(stream, name, {
    ack_wait: wanted.ack_wait,
    max_deliver: wanted.max_deliver,
    ...(max_ack_pending === undefined ? {} : { max_ack_pending }),
  });
  return "updated";
}

