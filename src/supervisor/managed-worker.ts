import { Worker } from "node:worker_threads";
import type { Logger } from "../log/logger.ts";
import { Backoff } from "../venues/connection/backoff.ts";
import { getVenue } from "../venues/registry.ts";
import type { WorkerStats } from "../http/stats-types.ts";
import { isFromWorker, type FromWorker, type ToWorker, type WorkerInit } from "./messages.ts";
import type { ClickHouseSink } from "../storage/clickhouse-sink.ts";
import { isInsertRequest } from "../storage/insert-messages.ts";
import { serveInserts } from "../storage/insert-server.ts";
import { eventPort } from "../pipeline/event-port.ts";
import type { HeapReport } from "../setup/heap-guard.ts";

/**
 * One dedicated worker thread, restarted with capped exponential backoff when it throws or
 * exits on its own. Its rings live in SharedArrayBuffers inside `init`, so a restarted worker
 * attaches to the same rings and resumes where they stand.
 */
export class ManagedWorker {
  state: WorkerStats["state"] = "starting";
  restarts = 0;
  lastError: string | null = null;
  /** The current thread's last `heap` report; null until its first. */
  heap: HeapReport | null = null;
  private worker: Worker | null = null;
  private stopping = false;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly backoff: Backoff;
  private stoppedResolve: (() => void) | null = null;
  private readyResolve: (() => void) | null = null;
  /** Healthy this long after `ready`, the backoff resets. */
  private static readonly HEALTHY_AFTER_MS = 30_000;
  private healthyTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    /** What the next thread starts from; the supervisor replaces an ingest worker's symbols on instrument refresh. */
    public init: WorkerInit,
    private readonly entry: URL,
    private readonly log: Logger,
    private readonly onMessage: (worker: ManagedWorker, message: FromWorker) => void,
    restart: { initial_ms: number; max_ms: number },
    /** Runs this worker's ClickHouse inserts on the supervisor thread (batch workers that store). */
    private readonly insertSink: ClickHouseSink | null = null,
  ) {
    this.backoff = new Backoff({ initial_ms: restart.initial_ms, max_ms: restart.max_ms, random: () => 1 });
  }

  get id(): string {
    return this.init.id;
  }

  /**
   * Starts the thread; resolves when it reports `ready`, or when its first attempt fails (it is
   * then restarted in the background, and /health shows it restarting with its last error), so
   * an unreachable venue does not hold up the engine's start.
   */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      this.readyResolve = resolve;
    });
    this.spawn();
    return ready;
  }

  private spawn(): void {
    this.state = this.restarts === 0 ? "starting" : "restarting";
    this.heap = null;
    const worker = new Worker(this.entry, { workerData: this.init, name: threadName(this.init) });
    this.worker = worker;
    if (this.insertSink !== null) serveInserts(eventPort(worker), this.insertSink);
    worker.on("message", (message: unknown) => {
      if (isInsertRequest(message)) return;
      if (!isFromWorker(message)) {
        this.log.warn({ message }, "unrecognized message from worker");
        return;
      }
      this.handle(message);
    });
    worker.on("error", (error: Error) => {
      this.lastError = error.message;
      this.log.error({ err: error }, "worker threw");
    });
    worker.on("exit", (code: number) => this.exited(worker, code));
  }

  private handle(message: FromWorker): void {
    switch (message.type) {
      case "ready":
        this.state = this.stopping ? "stopping" : "running";
        this.readyResolve?.();
        this.readyResolve = null;
        this.healthyTimer = setTimeout(() => this.backoff.reset(), ManagedWorker.HEALTHY_AFTER_MS);
        break;
      case "stopped":
        this.state = "stopped";
        break;
      case "fatal":
        this.lastError = message.message;
        this.log.error({ error: message.message, stack: message.stack }, "worker failed");
        break;
      case "heap":
        this.heap = { heap_bytes: message.heap_bytes, full_collections: message.full_collections };
        break;
      case "venue_health":
      case "shard_failed":
      case "overflow":
        break;
    }
    this.onMessage(this, message);
  }

  private exited(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    this.worker = null;
    if (this.healthyTimer !== null) clearTimeout(this.healthyTimer);
    if (this.stopping) {
      this.state = "stopped";
      this.stoppedResolve?.();
      return;
    }
    this.readyResolve?.();
    this.readyResolve = null;
    this.lastError ??= `exited with code ${code}`;
    const delay = this.backoff.next();
    this.state = "restarting";
    this.log.warn({ code, delay_ms: delay, restarts: this.restarts + 1, error: this.lastError }, "worker exited; restarting");
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.restarts += 1;
      this.spawn();
    }, delay);
  }

  post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  /** Kills the thread without a graceful stop (tests and crash drills); it is restarted. */
  async kill(): Promise<void> {
    const worker = this.worker;
    if (worker === null) return;
    this.lastError = "killed";
    await worker.terminate();
  }

  /** Asks the worker to stop gracefully; terminates it after `deadline_ms`. */
  async stop(deadline_ms: number): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    if (this.healthyTimer !== null) clearTimeout(this.healthyTimer);
    const worker = this.worker;
    if (worker === null) {
      this.state = "stopped";
      return;
    }
    this.state = "stopping";
    const stopped = new Promise<void>((resolve) => {
      this.stoppedResolve = resolve;
    });
    worker.postMessage({ type: "stop" } satisfies ToWorker);
    const timer = setTimeout(() => {
      this.log.warn({ deadline_ms }, "worker did not stop in time; terminating");
      void worker.terminate();
    }, deadline_ms);
    await stopped;
    clearTimeout(timer);
  }
}

/**
 * Linux keeps 15 characters of a thread name; these stay distinct within that (top, /proc).
 * Venues name themselves (`short_name` of their definition).
 */
const SHORT_TYPE: Readonly<Record<string, string>> = {
  funding_rate: "funding",
  open_interest: "oi",
  liquidation: "liq",
  lsr_top_position: "lsr_top",
  lsr_all_account: "lsr_all",
  volatility_index: "vol",
  orderbook_delta: "delta",
};

/** The OS thread name of a worker, e.g. `i:bn_spot:0`, `i:shared:0`, `b:trade:1`, `b:shared:0`. */
export function threadName(init: WorkerInit): string {
  if (init.kind === "ingest") {
    const shard = init.shards.length === 1 ? init.shards[0] : undefined;
    return `i:${shard === undefined ? "shared" : getVenue(shard.venue).short_name}:${init.index}`.slice(0, 15);
  }
  const lane = init.lanes.length === 1 ? init.lanes[0] : undefined;
  return `b:${lane === undefined ? "shared" : (SHORT_TYPE[lane.type] ?? lane.type)}:${init.index}`.slice(0, 15);
}
