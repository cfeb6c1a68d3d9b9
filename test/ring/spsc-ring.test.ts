import { describe, expect, test } from "bun:test";
import {
  HEADER_BYTES,
  RING_CLOSED,
  RING_FAILED,
  RING_OPEN,
  RecordTooLargeError,
  RingLayoutError,
  SpscRing,
} from "../../src/ring/spsc-ring.ts";
import type { StressRequest, StressResult } from "./ring-stress.worker.ts";

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

/** Moves an empty ring's indices forward by `bytes` (a multiple of 4) with zero-length records. */
function advance(ring: SpscRing, bytes: number): void {
  for (let i = 0; i < bytes / 4; i++) {
    expect(ring.tryWrite(new Uint8Array(0))).toBe(true);
    expect(ring.read()).toEqual(new Uint8Array(0));
  }
}

function readAll(ring: SpscRing): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let r = ring.read(); r !== null; r = ring.read()) out.push(r);
  return out;
}

test("every record length round-trips from every write offset across several laps", () => {
  const capacity = 64;
  for (let offset = 0; offset < capacity; offset += 4) {
    for (let length = 0; length <= capacity - 4; length++) {
      const ring = SpscRing.create(capacity);
      advance(ring, offset);
      const slot = (4 + length + 3) & ~3;
      let position = offset;
      for (let lap = 0; lap < 6; lap++) {
        const record = pattern(length, offset + lap);
        const tail = capacity - (position % capacity);
        // Into an empty ring a write fails only when the record fits neither the tail nor the
        // ring minus the tail; that attempt skips the tail, so the retry after a read succeeds.
        const fitsFirstTime = slot <= tail || tail + slot <= capacity;
        expect(ring.tryWrite(record)).toBe(fitsFirstTime);
        if (!fitsFirstTime) {
          expect(ring.read()).toBeNull();
          expect(ring.tryWrite(record)).toBe(true);
        }
        position += slot <= tail ? slot : tail + slot;
        expect(ring.read()).toEqual(record);
        expect(ring.depth_bytes).toBe(0);
      }
    }
  }
});

test("several records in flight keep their order across the wrap at every offset", () => {
  const capacity = 64;
  for (let offset = 0; offset < capacity; offset += 4) {
    for (let length = 0; length <= 20; length++) {
      const ring = SpscRing.create(capacity);
      advance(ring, offset);
      let written = 0;
      let read = 0;
      while (read < 40) {
        while (written - read < 3 && ring.tryWrite(pattern(length, written))) written++;
        const got = ring.read();
        expect(got).toEqual(pattern(length, read));
        read++;
      }
    }
  }
});

test("an exactly full ring refuses even a zero-length record and accepts again after one read", () => {
  const ring = SpscRing.create(64);
  // 12-byte payloads take 16-byte slots: four fill 64 bytes exactly.
  for (let i = 0; i < 4; i++) expect(ring.tryWrite(pattern(12, i))).toBe(true);
  expect(ring.depth_bytes).toBe(64);
  expect(ring.tryWrite(new Uint8Array(0))).toBe(false);
  expect(ring.read()).toEqual(pattern(12, 0));
  expect(ring.tryWrite(pattern(12, 4))).toBe(true);
  expect(readAll(ring)).toEqual([1, 2, 3, 4].map((i) => pattern(12, i)));
});

test("a record one byte longer than the free space is refused, the one that fits is accepted", () => {
  const ring = SpscRing.create(64);
  for (let i = 0; i < 3; i++) expect(ring.tryWrite(pattern(12, i))).toBe(true);
  // 16 bytes free: a 12-byte payload needs exactly 16, a 13-byte one needs 20.
  expect(ring.tryWrite(pattern(13, 9))).toBe(false);
  expect(ring.depth_bytes).toBe(48);
  expect(ring.tryWrite(pattern(12, 3))).toBe(true);
  expect(readAll(ring)).toEqual([0, 1, 2, 3].map((i) => pattern(12, i)));
});

test("a record longer than the tail skips to offset 0 and counts the skipped tail as depth", () => {
  const ring = SpscRing.create(64);
  advance(ring, 48);
  // 16-byte tail, 20-byte payload (24-byte slot): skip 16, write at 0.
  expect(ring.tryWrite(pattern(20, 1))).toBe(true);
  expect(ring.depth_bytes).toBe(16 + 24);
  expect(ring.read()).toEqual(pattern(20, 1));
  expect(ring.depth_bytes).toBe(0);
});

test("a record longer than the tail is refused while the space at offset 0 is still unread", () => {
  const ring = SpscRing.create(64);
  advance(ring, 32);
  expect(ring.tryWrite(pattern(12, 0))).toBe(true); // bytes 32..48
  expect(ring.tryWrite(pattern(32, 1))).toBe(false); // tail 16 + slot 36 > 48 free
  expect(ring.tryWrite(pattern(8, 2))).toBe(true); // 48..60
  expect(readAll(ring)).toEqual([pattern(12, 0), pattern(8, 2)]);
});

test("a record as large as the ring is written once the producer has skipped to offset 0", () => {
  const ring = SpscRing.create(64);
  advance(ring, 32);
  const big = pattern(60, 5);
  // It cannot fit behind offset 32; the refused attempt leaves a skip marker so the next can.
  expect(ring.tryWrite(big)).toBe(false);
  expect(ring.read()).toBeNull();
  expect(ring.tryWrite(big)).toBe(true);
  expect(ring.depth_bytes).toBe(64);
  expect(ring.read()).toEqual(big);
});

test("a record larger than the ring is a RecordTooLargeError naming both sizes", () => {
  const ring = SpscRing.create(64);
  expect(() => ring.tryWrite(new Uint8Array(61))).toThrow(RecordTooLargeError);
  expect(() => ring.tryWrite(new Uint8Array(61))).toThrow("record of 61 bytes exceeds the ring's maximum of 60 bytes");
  expect(ring.max_record_bytes).toBe(60);
  expect(ring.depth_bytes).toBe(0);
});

test("zero-length records are kept and counted as records", () => {
  const ring = SpscRing.create(64);
  for (let i = 0; i < 16; i++) expect(ring.tryWrite(new Uint8Array(0))).toBe(true);
  expect(ring.tryWrite(new Uint8Array(0))).toBe(false);
  let seen = 0;
  expect(ring.drain((_data, start, end) => {
    expect(end - start).toBe(0);
    seen++;
  })).toBe(16);
  expect(seen).toBe(16);
});

test("appended records stay invisible until publish and drain honours max_records", () => {
  const ring = SpscRing.create(256);
  for (let i = 0; i < 5; i++) expect(ring.tryAppend(pattern(5, i))).toBe(true);
  expect(ring.read()).toBeNull();
  expect(ring.depth_bytes).toBe(0);
  ring.publish();
  expect(ring.depth_bytes).toBe(5 * 12);
  const got: Uint8Array[] = [];
  expect(ring.drain((data, start, end) => got.push(data.slice(start, end)), 2)).toBe(2);
  expect(got).toEqual([pattern(5, 0), pattern(5, 1)]);
  expect(readAll(ring)).toEqual([2, 3, 4].map((i) => pattern(5, i)));
});

test("a restarted producer and consumer re-attach and resume exactly where the ring stands", () => {
  const owner = SpscRing.create(128);
  const producer = SpscRing.attach(owner.sab);
  const consumer = SpscRing.attach(owner.sab);
  for (let i = 0; i < 6; i++) expect(producer.tryWrite(pattern(10, i))).toBe(true);
  expect(consumer.read()).toEqual(pattern(10, 0));
  expect(consumer.read()).toEqual(pattern(10, 1));
  producer.recordDrop(3);

  const producer2 = SpscRing.attach(owner.sab);
  const consumer2 = SpscRing.attach(owner.sab);
  for (let i = 6; i < 10; i++) expect(producer2.tryWrite(pattern(10, i))).toBe(true);
  expect(readAll(consumer2)).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => pattern(10, i)));
  expect(owner.drops).toBe(3);
  expect(owner.high_water_bytes).toBe(8 * 16);
  expect(owner.depth_bytes).toBe(0);
});

test("attach refuses buffers that are not rings and create refuses bad capacities", () => {
  expect(() => SpscRing.attach(new SharedArrayBuffer(HEADER_BYTES + 64))).toThrow(RingLayoutError);
  expect(() => SpscRing.attach(new SharedArrayBuffer(8))).toThrow(RingLayoutError);
  expect(() => SpscRing.create(100)).toThrow("power of two");
  expect(() => SpscRing.create(8)).toThrow(RingLayoutError);
  expect(SpscRing.create(65536).capacity).toBe(65536);
});

test("depth, high-water mark and drops are readable from another attachment", () => {
  const ring = SpscRing.create(256);
  const stats = SpscRing.attach(ring.sab);
  for (let i = 0; i < 4; i++) ring.tryWrite(pattern(4, i));
  expect(stats.depth_bytes).toBe(32);
  ring.read();
  ring.read();
  ring.tryWrite(pattern(4, 9));
  expect(stats.depth_bytes).toBe(24);
  expect(stats.high_water_bytes).toBe(32);
  ring.recordDrop(2);
  ring.recordDrop(5);
  expect(stats.drops).toBe(7);
});

test("close and fail are end markers the consumer sees after draining what was published", () => {
  const ring = SpscRing.create(64);
  expect(ring.state).toBe(RING_OPEN);
  ring.tryAppend(pattern(3, 1));
  ring.close();
  expect(ring.state).toBe(RING_CLOSED);
  expect(ring.finished).toBe(false);
  expect(ring.read()).toEqual(pattern(3, 1));
  expect(ring.finished).toBe(true);
  ring.reopen();
  expect(ring.state).toBe(RING_OPEN);
  ring.fail();
  expect(ring.state).toBe(RING_FAILED);
  expect(ring.finished).toBe(true);
});

test("waitForData resolves false after its timeout when nothing is written", async () => {
  const ring = SpscRing.create(64);
  const started = performance.now();
  expect(await ring.waitForData(30)).toBe(false);
  expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  expect(ring.waitForDataSync(20)).toBe(false);
});

test("a wait that ends does not leave a newer one sleeping through a write", async () => {
  const ring = SpscRing.create(64);
  const first = ring.waitForData(40);
  const second = ring.waitForData(5_000);
  expect(await first).toBe(false);
  ring.tryWrite(pattern(4, 2));
  const started = performance.now();
  await second;
  expect(performance.now() - started).toBeLessThan(1_000);
  expect(await ring.waitForData(5_000)).toBe(true);
  expect(ring.read()).toEqual(pattern(4, 2));
});

test("waitForData wakes on a write and on close long before its timeout", async () => {
  const ring = SpscRing.create(64);
  const started = performance.now();
  const waiting = ring.waitForData(10_000);
  ring.tryWrite(pattern(4, 1));
  expect(await waiting).toBe(true);
  expect(ring.read()).toEqual(pattern(4, 1));

  const waitingForEnd = ring.waitForData(10_000);
  ring.close();
  expect(await waitingForEnd).toBe(true);
  expect(performance.now() - started).toBeLessThan(5_000);
  expect(await ring.waitForData(10_000)).toBe(true);
});

function runWorker(request: StressRequest): Promise<StressResult> {
  const worker = new Worker(new URL("./ring-stress.worker.ts", import.meta.url));
  return new Promise<StressResult>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<StressResult>) => {
      resolve(event.data);
      worker.terminate();
    };
    worker.onerror = (event) => {
      reject(new Error(`stress worker failed: ${event.message}`));
      worker.terminate();
    };
    worker.postMessage(request);
  });
}

test("ten million records cross two workers without loss, duplication or reordering", async () => {
  const count = 10_000_000;
  // A small ring forces millions of wrap-arounds and full/empty transitions.
  const ring = SpscRing.create(4096);
  const [consumer, producer] = await Promise.all([
    runWorker({ role: "consumer", sab: ring.sab, count }),
    runWorker({ role: "producer", sab: ring.sab, count }),
  ]);
  expect(producer.records).toBe(count);
  expect(consumer.errors).toEqual([]);
  expect(consumer.records).toBe(count);
  expect(ring.finished).toBe(true);
}, 60_000);

describe("peek and commit", () => {
  test("peeked records stay in the ring until commit, and a re-attached consumer sees them again", () => {
    const ring = SpscRing.create(1024);
    for (let i = 0; i < 5; i++) expect(ring.tryWrite(new Uint8Array([i, i, i]))).toBe(true);
    const seen: number[] = [];
    const visit = (data: Uint8Array, start: number) => seen.push(data[start] as number);
    expect(ring.peek(visit, 3)).toBe(3);
    expect(ring.peek(visit, 10)).toBe(2);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(ring.hasData()).toBe(false);
    expect(ring.depth_bytes).toBeGreaterThan(0);

    const restarted = SpscRing.attach(ring.sab);
    const again: number[] = [];
    expect(restarted.peek((d, s) => again.push(d[s] as number))).toBe(5);
    expect(again).toEqual([0, 1, 2, 3, 4]);
    restarted.commit();
    expect(ring.depth_bytes).toBe(0);
  });

  test("commitTo frees only what was peeked before the mark; later peeked records stay held", () => {
    const ring = SpscRing.create(1024);
    for (let i = 0; i < 6; i++) expect(ring.tryWrite(new Uint8Array([i, i, i]))).toBe(true);
    const full = ring.depth_bytes;
    const seen: number[] = [];
    const visit = (data: Uint8Array, start: number) => seen.push(data[start] as number);
    expect(ring.peek(visit, 2)).toBe(2);
    const first = ring.peekMark();
    expect(ring.peek(visit, 3)).toBe(3);
    const second = ring.peekMark();
    ring.commitTo(first);
    expect(ring.depth_bytes).toBe((full / 6) * 4);
    // Peeking goes on after the held records, not from the freed mark.
    expect(ring.peek(visit)).toBe(1);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    ring.commitTo(second);
    expect(ring.depth_bytes).toBe(full / 6);
    // A consumer restarted now re-reads exactly the record past the last mark.
    const again: number[] = [];
    expect(SpscRing.attach(ring.sab).peek((d, s) => again.push(d[s] as number))).toBe(1);
    expect(again).toEqual([5]);
    ring.commitTo(ring.peekMark());
    expect(ring.depth_bytes).toBe(0);
  });
});
