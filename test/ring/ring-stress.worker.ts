import { SpscRing } from "../../src/ring/spsc-ring.ts";

/**
 * One side of the two-worker ring stress test. Records are 4..35 bytes: a uint32 sequence
 * number, then bytes derived from it, so the consumer detects loss, duplication, reordering and
 * torn records.
 */
export type StressRequest = { readonly role: "producer" | "consumer"; readonly sab: SharedArrayBuffer; readonly count: number };
export type StressResult = {
  readonly role: "producer" | "consumer";
  readonly records: number;
  readonly errors: readonly string[];
};

declare const self: Worker;

const PUBLISH_EVERY = 64;

function recordLength(seq: number): number {
  return 4 + (seq & 31);
}

function produce(ring: SpscRing, count: number): StressResult {
  const scratch = new Uint8Array(64);
  const seqView = new DataView(scratch.buffer);
  const views = Array.from({ length: 32 }, (_, i) => scratch.subarray(0, 4 + i));
  for (let seq = 0; seq < count; seq++) {
    const length = recordLength(seq);
    seqView.setUint32(0, seq, true);
    for (let i = 4; i < length; i++) scratch[i] = (seq + i) & 0xff;
    const view = views[length - 4] as Uint8Array;
    while (!ring.tryAppend(view)) ring.publish();
    if ((seq & (PUBLISH_EVERY - 1)) === 0) ring.publish();
  }
  ring.close();
  return { role: "producer", records: count, errors: [] };
}

function consume(ring: SpscRing, count: number): StressResult {
  const errors: string[] = [];
  let expected = 0;
  const visit = (data: Uint8Array, start: number, end: number): void => {
    const seq = (data[start]! | (data[start + 1]! << 8) | (data[start + 2]! << 16) | (data[start + 3]! << 24)) >>> 0;
    if (seq !== expected || end - start !== recordLength(seq) || (end - start > 4 && data[end - 1] !== ((seq + end - start - 1) & 0xff))) {
      if (errors.length < 10) errors.push(`record ${expected}: got seq ${seq}, ${end - start} bytes`);
    }
    expected = seq + 1;
  };
  for (;;) {
    if (ring.drain(visit, 4096) > 0) continue;
    if (ring.finished) break;
    ring.waitForDataSync(100);
  }
  if (expected !== count) errors.push(`consumed up to ${expected}, expected ${count}`);
  return { role: "consumer", records: expected, errors };
}

self.onmessage = (event: MessageEvent<StressRequest>) => {
  const { role, sab, count } = event.data;
  const ring = SpscRing.attach(sab);
  const result = role === "producer" ? produce(ring, count) : consume(ring, count);
  self.postMessage(result);
};
