import type { MessagePort } from "node:worker_threads";
import { createLogger } from "../log/logger.ts";
import { isStopMessage, type FromWorker, type WorkerInit } from "../supervisor/messages.ts";
import { BatchWorker } from "./batch-worker.ts";
import { IngestWorker } from "./ingest-worker.ts";

/**
 * What every worker thread runs: build the worker from its init, report `ready`, stop on
 * request, and turn anything unexpected into one `fatal` report and a non-zero exit, so the
 * supervisor restarts it. Errors are caught here once, not in the hot paths.
 */
export async function runWorker(init: WorkerInit, port: MessagePort): Promise<void> {
  const bindings =
    init.kind === "ingest" ? { worker: init.id, kind: init.kind, venue: init.venue, index: init.index } : { worker: init.id, kind: init.kind, type: init.type, index: init.index };
  const log = createLogger(init.config.log.level, bindings);
  const post = (message: FromWorker) => port.postMessage(message);
  const fail = (error: unknown): never => {
    const e = error instanceof Error ? error : new Error(String(error));
    log.error({ err: e }, "worker failed");
    post({ type: "fatal", message: e.message, stack: e.stack ?? null });
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);

  const worker = init.kind === "ingest" ? new IngestWorker(init, port, log) : new BatchWorker(init, port, log);
  let stopping = false;
  port.on("message", (message: unknown) => {
    if (!isStopMessage(message) || stopping) return;
    stopping = true;
    worker
      .stop(init.config.engine.shutdown_deadline_ms)
      .then(() => {
        post({ type: "stopped" });
        process.exit(0);
      })
      .catch(fail);
  });
  try {
    await worker.start();
  } catch (error) {
    fail(error);
  }
  post({ type: "ready" });
}
