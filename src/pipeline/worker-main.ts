import { setPriority } from "node:os";
import type { MessagePort } from "node:worker_threads";
import { secretValues } from "../config/secrets.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { registerSecrets } from "../log/redact.ts";
import { HEAP_REPORT_MS, isStopMessage, isSymbolsMessage, type FromWorker, type SymbolsMessage, type WorkerInit } from "../supervisor/messages.ts";
import { HeapGuard } from "../setup/heap-guard.ts";

/** What a worker thread runs: an ingest worker (ingest-worker.ts) or a batch worker (batch-worker.ts). */
export interface ThreadWorker {
  start(): Promise<void>;
  /** Ends the worker's work within `deadline_ms`. */
  stop(deadline_ms: number): Promise<void>;
  /** Instrument refresh: symbols moved onto or off the thread (ingest workers only). */
  changeSymbols?(change: SymbolsMessage): void;
}

/**
 * What every worker thread runs: register the secrets its logs must mask, build the worker from
 * its init, report `ready`, stop on request, and turn anything unexpected into one `fatal` report
 * and a non-zero exit, so the supervisor restarts it. Errors are caught here once, not in the hot
 * paths, but for a venue normalizer's throw, which the ingest runner contains to its frame
 * (src/venues/ingest.ts `push`) so one venue's bug does not restart every venue of a thread.
 *
 * Each kind's entry (workers/*.worker.ts) imports only its own worker's modules and hands
 * `create` in, so an ingest thread does not load the NATS and ClickHouse clients and a batch
 * thread does not load the venues; neither loads the simulator (test/venues/seam.test.ts): each
 * module graph costs every thread that loads it memory (README, "Threads and memory").
 */
export async function runWorker<I extends WorkerInit>(init: I, port: MessagePort, create: (init: I, port: MessagePort, log: Logger) => ThreadWorker): Promise<void> {
  // The masked values live per thread: each worker registers them before it logs anything.
  registerSecrets(secretValues(init.config, process.env));
  // A thread's shards and lanes bind their own venue or type and index (ingest-worker.ts, batch-worker.ts).
  const log = createLogger(init.config.log.level, { worker: init.id, kind: init.kind });
  const post = (message: FromWorker) => port.postMessage(message);
  const fail = (error: unknown): never => {
    const e = error instanceof Error ? error : new Error(String(error));
    log.error({ err: e }, "worker failed");
    post({ type: "fatal", message: e.message, stack: e.stack ?? null });
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);

  if (init.kind === "ingest") lowerIngestPriority(init.config.engine.ingest_nice);
  const worker = create(init, port, log);
  const heapGuard = new HeapGuard();
  let heapReports: ReturnType<typeof setInterval> | undefined;
  let stopping = false;
  port.on("message", (message: unknown) => {
    if (isSymbolsMessage(message)) return worker.changeSymbols?.(message);
    if (!isStopMessage(message) || stopping) return;
    stopping = true;
    heapGuard.stop();
    clearInterval(heapReports);
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
  if (stopping) return;
  const reportHeap = () => post({ type: "heap", ...heapGuard.report() });
  reportHeap();
  heapReports = setInterval(reportHeap, HEAP_REPORT_MS);
  heapReports.unref();
}

/**
 * `engine.ingest_nice` for the calling thread. Linux keeps a nice value per thread and
 * setpriority(2) with pid 0 changes only the caller's; elsewhere it would lower the whole
 * process, so it is not applied there. Threads a thread starts inherit its nice: Bun's fetch
 * thread, started by the first venue REST request and used by nothing else here, runs at it too.
 *
 * Why (bench/e2e.bench.ts, 15 s runs, simulator at its maximum rate, box saturated): with every
 * thread at one priority the scheduler shared the two cores evenly among ~12 busy threads, and a
 * record waited for its turn at each stage behind it; at nice 10 the batch workers, NATS and chDB
 * get the CPU first and intake takes the rest. p99 receipt-to-commit 682 -> 359-368 ms (books
 * 888 -> 427-449 ms) at 108k -> 95k msgs/s.
 */
function lowerIngestPriority(nice: number): void {
  if (nice === 0 || process.platform !== "linux") return;
  setPriority(nice);
}
