import { parentPort, workerData } from "node:worker_threads";
import { IngestWorker } from "../src/pipeline/ingest-worker.ts";
import { runWorker } from "../src/pipeline/worker-main.ts";
import type { IngestInit } from "../src/supervisor/messages.ts";

if (parentPort === null) throw new Error("ingest.worker.ts runs only as a worker thread");
await runWorker(workerData as IngestInit, parentPort, (init, port, log) => new IngestWorker(init, port, log));
