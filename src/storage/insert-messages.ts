import type { RecordType } from "../records/types.ts";
import type { InsertFormat } from "./columnar-batch.ts";
import type { InsertErrorClass } from "./insert-errors.ts";

/**
 * Every message between a batch worker's `PortSink` and the thread that owns the ClickHouse
 * connection (`serveInserts`). The worker builds and encodes the batch (CPU work stays off the
 * owner thread); the owner only runs the INSERT.
 */

/** Worker → owner: insert this encoded batch. */
export interface InsertRequest {
  readonly kind: "insert";
  /** Matches the reply to its request; unique per port. */
  readonly id: number;
  readonly type: RecordType;
  readonly columns: readonly string[];
  /** The batch's document (`ColumnarBatch.document()`), transferred with the message. */
  readonly body: Uint8Array;
  readonly format: InsertFormat;
  readonly rows: number;
  readonly dedup_token: string;
}

/** Owner → worker. */
export type InsertReply =
  | { readonly kind: "inserted"; readonly id: number; readonly rows: number; readonly latency_ms: number }
  | { readonly kind: "insert_failed"; readonly id: number; readonly error_class: InsertErrorClass; readonly message: string };

function fields(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined;
}

export function isInsertRequest(v: unknown): v is InsertRequest {
  const f = fields(v);
  return (
    f !== undefined &&
    f.kind === "insert" &&
    typeof f.id === "number" &&
    typeof f.type === "string" &&
    Array.isArray(f.columns) &&
    f.body instanceof Uint8Array &&
    (f.format === "JSONColumns" || f.format === "JSONCompactEachRow") &&
    typeof f.rows === "number" &&
    typeof f.dedup_token === "string"
  );
}

export function isInsertReply(v: unknown): v is InsertReply {
  const f = fields(v);
  if (f === undefined || typeof f.id !== "number") return false;
  if (f.kind === "inserted") return typeof f.rows === "number" && typeof f.latency_ms === "number";
  return f.kind === "insert_failed" && (f.error_class === "retryable" || f.error_class === "permanent") && typeof f.message === "string";
}
