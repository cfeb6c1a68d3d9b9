import { fullGC, heapSize } from "bun:jsc";

/**
 * A full collection of the calling thread's JavaScript heap whenever the heap has grown by
 * `growth_bytes` since the last one. Each engine thread (supervisor and workers) has a heap of
 * its own and runs a guard.
 *
 * Why: JavaScriptCore collects young objects often (eden collections) and the old generation
 * rarely. A short-lived object still reachable at an eden collection, such as an insert body
 * waiting for ClickHouse or a frame being parsed, is promoted and then waits for a full
 * collection. Under the e2e bench's load (bench/e2e.bench.ts) the supervisor's heap grew from
 * 127 to 332 MB in 65 s without one, mostly insert bodies inserted long before, and the Binance
 * USDⓈ-M ingest worker's from 46 to 108 MB (103k to 559k objects); a full collection brought
 * them back to ~110 MB (of which 101 MB are the 24 rings' SharedArrayBuffers, which count as
 * the supervisor's) and ~40 MB.
 *
 * `heapSize()` is what the last collection (eden or full) left, so the check itself is free; a
 * full collection marks the live objects (50-70k per thread here) and leaves the sweep to
 * allocation. The step is 8 MB: what a thread's heap gathers between two full collections is
 * resident memory, in every thread; README ("Heap guard") gives the runs that chose it.
 */
export interface HeapGuardOptions {
  /** Ms between two looks at the heap size. */
  readonly check_ms: number;
  /** Growth since the last full collection that makes the next one due, bytes. */
  readonly growth_bytes: number;
}

export const HEAP_GUARD: HeapGuardOptions = { check_ms: 1000, growth_bytes: 8 << 20 };

/** A thread's heap as its guard sees it (in /stats and /metrics). */
export interface HeapReport {
  /** Heap size after the thread's last collection, bytes. */
  readonly heap_bytes: number;
  /** Full collections the guard has run on the thread. */
  readonly full_collections: number;
}

export interface HeapProbe {
  /** Heap size as of the last collection (eden or full), bytes. */
  size(): number;
  /** Runs a full collection; returns the heap size it left, bytes. */
  collect(): number;
}

const JSC_HEAP: HeapProbe = { size: heapSize, collect: fullGC };

export class HeapGuard {
  /** Full collections this guard ran. */
  collections = 0;
  private sizeAfterLast: number;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly opts: HeapGuardOptions = HEAP_GUARD,
    private readonly heap: HeapProbe = JSC_HEAP,
  ) {
    this.sizeAfterLast = heap.size();
    this.timer = setInterval(() => this.check(), opts.check_ms);
    this.timer.unref();
  }

  /** Runs a full collection if the heap is due for one; true when it ran. */
  check(): boolean {
    if (this.heap.size() <= this.sizeAfterLast + this.opts.growth_bytes) return false;
    this.sizeAfterLast = this.heap.collect();
    this.collections++;
    return true;
  }

  report(): HeapReport {
    return { heap_bytes: this.heap.size(), full_collections: this.collections };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
