import { isRecordType } from "../records/types.ts";
import type { ClickHouseSink } from "./clickhouse-sink.ts";
import { classifyInsertError } from "./insert-errors.ts";
import { isInsertRequest, type InsertReply } from "./insert-messages.ts";

/** The side of a MessagePort the owner thread listens on (MessagePort, or a Worker itself). */
export interface InsertPort {
  postMessage(message: InsertReply): void;
  addEventListener(type: "message", listener: (e: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (e: MessageEvent) => void): void;
}

/**
 * Runs inserts that a batch worker's `PortSink` sends over `port`, on this (the owning)
 * thread's `sink`, and answers each with its result. Returns a function that stops serving.
 * A message that is not an insert request is ignored: it may be another protocol on the port.
 */
export function serveInserts(port: InsertPort, sink: ClickHouseSink): () => void {
  const onMessage = (e: MessageEvent): void => {
    const req: unknown = e.data;
    if (!isInsertRequest(req)) return;
    if (!isRecordType(req.type)) {
      port.postMessage({ kind: "insert_failed", id: req.id, error_class: "permanent", message: `unknown record type ${req.type}` });
      return;
    }
    sink.insertEncoded(req.type, req.columns, req.body, req.format, req.rows, req.dedup_token).then(
      (r) => port.postMessage({ kind: "inserted", id: req.id, rows: r.rows, latency_ms: r.latency_ms }),
      (err: unknown) =>
        port.postMessage({
          kind: "insert_failed",
          id: req.id,
          error_class: classifyInsertError(err),
          message: err instanceof Error ? err.message : String(err),
        }),
    );
  };
  port.addEventListener("message", onMessage);
  return () => port.removeEventListener("message", onMessage);
}
