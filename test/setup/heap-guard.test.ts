import { expect, test } from "bun:test";
import { fullGC, heapSize } from "bun:jsc";
import { HeapGuard, type HeapProbe } from "../../src/setup/heap-guard.ts";

const MB = 1 << 20;

/** A heap whose size the test sets; a collection brings it down to `live`. */
class FakeHeap implements HeapProbe {
  collections = 0;
  constructor(
    public current: number,
    public live: number,
  ) {}
  size(): number {
    return this.current;
  }
  collect(): number {
    this.collections++;
    this.current = this.live;
    return this.current;
  }
}

test("the guard collects once the heap has grown by more than growth_bytes since the size the last collection left", () => {
  const heap = new FakeHeap(30 * MB, 30 * MB);
  const guard = new HeapGuard({ check_ms: 60_000, growth_bytes: 32 * MB }, heap);
  try {
    heap.current = 62 * MB;
    expect(guard.check()).toBe(false);
    heap.current = 63 * MB;
    heap.live = 50 * MB;
    expect(guard.check()).toBe(true);
    expect(heap.current).toBe(50 * MB);
    // The next threshold is 50 + 32 MB, not 30 + 32 MB.
    heap.current = 80 * MB;
    expect(guard.check()).toBe(false);
    heap.current = 83 * MB;
    expect(guard.check()).toBe(true);
    expect(heap.collections).toBe(2);
    expect(guard.collections).toBe(2);
    heap.current = 70 * MB;
    expect(guard.report()).toEqual({ heap_bytes: 70 * MB, full_collections: 2 });
  } finally {
    guard.stop();
  }
});

test("the guard's timer checks on its own, and stop ends it", async () => {
  const heap = new FakeHeap(10 * MB, 10 * MB);
  const guard = new HeapGuard({ check_ms: 5, growth_bytes: MB }, heap);
  heap.current = 20 * MB;
  const until = Date.now() + 2000;
  while (heap.collections === 0 && Date.now() < until) await Bun.sleep(5);
  expect(heap.collections).toBe(1);
  guard.stop();
  heap.current = 40 * MB;
  await Bun.sleep(30);
  expect(heap.collections).toBe(1);
});

test("the default guard reads JavaScriptCore's heap and its collection frees what was dropped since the last one", () => {
  fullGC();
  const guard = new HeapGuard({ check_ms: 60_000, growth_bytes: 16 * MB });
  try {
    const base = heapSize();
    let held: string[] | null = Array.from({ length: 2000 }, (_, i) => `${"x".repeat(16 * 1024)}${i}`);
    // A collection while the strings are reachable: the heap size now counts them, as it counts
    // objects promoted by eden collections in the engine's threads.
    fullGC();
    expect(held.length).toBe(2000);
    expect(heapSize()).toBeGreaterThan(base + 24 * MB);
    held = null;
    expect(guard.check()).toBe(true);
    expect(guard.collections).toBe(1);
    expect(heapSize()).toBeLessThan(base + 8 * MB);
    expect(guard.check()).toBe(false);
  } finally {
    guard.stop();
  }
});
