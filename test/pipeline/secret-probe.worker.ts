import { parentPort, workerData } from "node:worker_threads";
import { redactSecrets } from "../../src/log/redact.ts";
import { runWorker } from "../../src/pipeline/worker-main.ts";
import type { BatchInit } from "../../src/supervisor/messages.ts";

/**
 * A worker thread run by `runWorker` whose work is to report, once started, what a log line
 * carrying the text it was given would show (worker-secrets.test.ts).
 */
if (parentPort === null) throw new Error("secret-probe.worker.ts runs only as a worker thread");
const { init, text } = workerData as { init: BatchInit; text: string };
await runWorker(init, parentPort, (_init, port) => ({
  start: async () => port.postMessage({ type: "probe", shown: redactSecrets(text) }),
  stop: async () => {},
}));
