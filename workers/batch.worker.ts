import { parentPort, workerData } from "node:worker_threads";
import { BatchWorker } from "../src/pipeline/batch-worker.ts";
import { runWorker } from "../src/pipeline/worker-main.ts";
import type { BatchInit } from "../src/supervisor/messages.ts";

if (parentPort === null) throw new Error("batch.worker.ts runs only as a worker thread");
await runWorker(workerData as BatchInit, parentPort, (init, port, log) => new BatchWorker(init, port, log));
