import { SpscRing } from "../src/ring/spsc-ring.ts";
import type { RingBenchReply, RingBenchRequest } from "./ring-bench.worker.ts";

/**
 * Question: how many realistic trade records per second cross from one worker to another
 * through the SharedArrayBuffer ring (producer encodes with the record codec, consumer decodes
 * and checks every sequence number), against handing the same records over with postMessage
 * (structured clone, 64 records per message)? Each side verifies its count before reporting.
 */
export interface RingBenchResult {
  records_per_s: number;
  bytes_per_s: number;
  post_message_records_per_s: number;
  post_message_bytes_per_s: number;
  records: number;
}

/** The engine's default ring size (config ring.capacity_bytes). */
const RING_CAPACITY_BYTES = 4 * 1024 * 1024;

type BenchWorker = { worker: Worker; done: Promise<RingBenchReply & { kind: "done" }> };

async function startWorker(request: RingBenchRequest, transfer: MessagePort[]): Promise<BenchWorker> {
  const worker = new Worker(new URL("./ring-bench.worker.ts", import.meta.url));
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<RingBenchReply & { kind: "done" }>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<RingBenchReply>) => {
      if (event.data.kind === "ready") onReady();
      else resolve(event.data);
    };
    worker.onerror = (event) => reject(new Error(`ring bench worker (${request.role}) failed: ${event.message}`));
  });
  worker.postMessage(request, transfer);
  await ready;
  return { worker, done };
}

/** Starts both sides, then times from "go" until both report; throws if a count is off. */
async function timePair(
  consumer: BenchWorker,
  producer: BenchWorker,
  records: number,
  label: string,
): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  consumer.worker.postMessage("go");
  producer.worker.postMessage("go");
  const [consumed, produced] = await Promise.all([consumer.done, producer.done]);
  const seconds = (performance.now() - started) / 1000;
  consumer.worker.terminate();
  producer.worker.terminate();
  if (produced.records !== records || consumed.records !== records || consumed.errors !== 0) {
    throw new Error(
      `${label}: produced ${produced.records}, consumed ${consumed.records} with ${consumed.errors} errors; expected ${records}`,
    );
  }
  if (produced.bytes !== consumed.bytes) throw new Error(`${label}: produced ${produced.bytes} bytes, consumed ${consumed.bytes}`);
  return { seconds, bytes: produced.bytes };
}

async function measureRing(records: number): Promise<{ seconds: number; bytes: number }> {
  const ring = SpscRing.create(RING_CAPACITY_BYTES);
  const consumer = await startWorker({ role: "ring-consumer", sab: ring.sab, records }, []);
  const producer = await startWorker({ role: "ring-producer", sab: ring.sab, records }, []);
  const result = await timePair(consumer, producer, records, "ring");
  if (!ring.finished) throw new Error("ring: producer closed but records are left");
  return result;
}

async function measurePostMessage(records: number): Promise<number> {
  const channel = new MessageChannel();
  const consumer = await startWorker({ role: "post-consumer", port: channel.port2, records }, [channel.port2]);
  const producer = await startWorker({ role: "post-producer", port: channel.port1, records }, [channel.port1]);
  return (await timePair(consumer, producer, records, "postMessage")).seconds;
}

export async function runRingBench(opts: { quick: boolean }): Promise<RingBenchResult> {
  const records = opts.quick ? 300_000 : 3_000_000;
  // postMessage is far slower; a smaller count keeps the run short and the rate is still stable.
  const postRecords = opts.quick ? 100_000 : 500_000;
  const ring = await measureRing(records);
  const postSeconds = await measurePostMessage(postRecords);
  const bytesPerRecord = ring.bytes / records;
  return {
    records_per_s: Math.round(records / ring.seconds),
    bytes_per_s: Math.round(ring.bytes / ring.seconds),
    post_message_records_per_s: Math.round(postRecords / postSeconds),
    // The same records' encoded size, so both byte rates describe the same payload.
    post_message_bytes_per_s: Math.round((postRecords * bytesPerRecord) / postSeconds),
    records,
  };
}

if (import.meta.main) {
  const quick = process.argv.includes("--quick");
  console.log(JSON.stringify(await runRingBench({ quick })));
}
