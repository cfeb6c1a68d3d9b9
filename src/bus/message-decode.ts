import type { JsMsg } from "@nats-io/jetstream";
import { withGapRecoveryDefaults } from "../codec/record-fields.ts";
import type { RecordType } from "../records/types.ts";
import type { StorageRecord } from "../codec/storage-record.ts";
import { validateRecord } from "../storage/validate-record.ts";
import { decodeFrameForStorage, JSON_CONTENT_TYPE } from "./frame-codec.ts";

/** One JetStream message read for storage: its valid records, and the ones refused with the first reason. */
export interface DecodedMessage {
  readonly records: StorageRecord[];
  /** Reason of the first record that failed, or of the body when it could not be read; null when all passed. */
  readonly problem: string | null;
  readonly rejected: unknown[];
}

/**
 * Reads a message as the publisher wrote it (a msgpack frame of records, or JSON with the JSON
 * content type) and validates every record against its column types (validate-record.ts), so an
 * insert never fails on a value one record carries.
 */
export function decodeMessage(m: JsMsg, type: RecordType): DecodedMessage {
  let items: readonly unknown[];
  if (m.headers?.get("Content-Type") === JSON_CONTENT_TYPE) {
    try {
      const body: unknown = m.json();
      items = (Array.isArray(body) ? body : [body]).map(withGapRecoveryDefaults);
    } catch (err) {
      return { records: [], problem: `undecodable body: ${(err as Error).message}`, rejected: [] };
    }
  } else {
    const frame = decodeFrameForStorage(m.data, type);
    if (!frame.ok) return { records: [], problem: `undecodable body: ${frame.error}`, rejected: [] };
    items = frame.value;
  }
  const records: StorageRecord[] = [];
  const rejected: unknown[] = [];
  let problem: string | null = items.length === 0 ? "empty frame" : null;
  for (const item of items) {
    const bad = validateRecord(type, item);
    if (bad === null) records.push(item as StorageRecord);
    else {
      rejected.push(item);
      problem ??= bad;
    }
  }
  return { records, problem, rejected };
}
