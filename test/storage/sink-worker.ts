import { PortSink } from "../../src/storage/port-sink.ts";
import { trades } from "./sample-records.ts";

/**
 * Worker for port-sink.test.ts: a batch worker that never opens chDB; its inserts run on the
 * main thread through a PortSink on `self`.
 */
declare const self: Worker;

const sink = new PortSink(self);

self.addEventListener("message", (e: MessageEvent) => {
  const msg: unknown = e.data;
  if (typeof msg !== "object" || msg === null || !("first_id" in msg) || !("n" in msg)) return;
  const { first_id, n } = msg as { first_id: number; n: number };
  sink.insert("trade", trades(n, first_id), `worker-${first_id}`).then(
    (r) => postMessage({ done: true, rows: r.rows }),
    (err: unknown) => postMessage({ done: false, error: String(err) }),
  );
});
