import { RecordCodec } from "../src/codec/record-codec.ts";
import type { TradeRecord } from "../src/records/types.ts";
import { SpscRing } from "../src/ring/spsc-ring.ts";

/**
 * One side of bench/ring.bench.ts. The producer builds a realistic trade record per sequence
 * number (as a mapper would) and sends it; the consumer receives, decodes and checks every
 * sequence number, then reports the count and bytes it verified.
 */
export type RingBenchRequest =
  | { readonly role: "ring-producer" | "ring-consumer"; readonly sab: SharedArrayBuffer; readonly records: number }
  | { readonly role: "post-producer" | "post-consumer"; readonly port: MessagePort; readonly records: number };

export type RingBenchReply =
  | { readonly kind: "ready" }
  | { readonly kind: "done"; readonly records: number; readonly bytes: number; readonly errors: number };

declare const self: Worker;

const BASE_TS_MS = 1_700_000_000_000;
/** Records appended between index publications: one Atomics.store per batch, not per record. */
const PUBLISH_EVERY = 64;
/** Records handed over per postMessage in the comparison (one structured clone per batch). */
const POST_BATCH = 64;
const PRICES = Array.from({ length: 64 }, (_, i) => `${43000 + i}.${String(i * 7).padStart(2, "0")}000000`);
const QUANTITIES = Array.from({ length: 64 }, (_, i) => `0.${String(1000 + i * 13).padStart(8, "0")}`);

function makeTrade(seq: number): TradeRecord {
  return {
    data_type: "trade",
    exchange: "binance",
    market_type: "spot",
    symbol: "BTC-USDT",
    ts_ms: BASE_TS_MS + seq,
    recv_ts_ms: BASE_TS_MS + seq + 3,
    trade_id: String(3_000_000_000 + seq),
    price: PRICES[seq & 63] as string,
    quantity: QUANTITIES[(seq >> 6) & 63] as string,
    side: (seq & 1) === 0 ? "buy" : "sell",
    is_maker: (seq & 2) === 0,
    trade_time: BASE_TS_MS + seq,
  };
}

function isExpected(record: TradeRecord, seq: number): boolean {
  return record.ts_ms === BASE_TS_MS + seq && record.trade_id === String(3_000_000_000 + seq) && record.price === PRICES[seq & 63];
}

function produceRing(ring: SpscRing, records: number): RingBenchReply {
  const codec = new RecordCodec();
  let bytes = 0;
  for (let seq = 0; seq < records; seq++) {
    const encoded = codec.encodeRecord(makeTrade(seq));
    bytes += encoded.length;
    while (!ring.tryAppend(encoded)) ring.publish();
    if (seq % PUBLISH_EVERY === 0) ring.publish();
  }
  ring.close();
  return { kind: "done", records, bytes, errors: 0 };
}

function consumeRing(ring: SpscRing, records: number): RingBenchReply {
  const codec = new RecordCodec();
  let seq = 0;
  let bytes = 0;
  let errors = 0;
  const visit = (data: Uint8Array, start: number, end: number): void => {
    const record = codec.decodeRecordAt(data, start, end) as TradeRecord;
    if (!isExpected(record, seq)) errors++;
    bytes += end - start;
    seq++;
  };
  for (;;) {
    if (ring.drain(visit, 1024) > 0) continue;
    if (ring.finished) break;
    ring.waitForDataSync(100);
  }
  if (seq !== records) errors++;
  return { kind: "done", records: seq, bytes, errors };
}

function producePosts(port: MessagePort, records: number): RingBenchReply {
  let batch: TradeRecord[] = [];
  for (let seq = 0; seq < records; seq++) {
    batch.push(makeTrade(seq));
    if (batch.length === POST_BATCH) {
      port.postMessage(batch);
      batch = [];
    }
  }
  if (batch.length > 0) port.postMessage(batch);
  return { kind: "done", records, bytes: 0, errors: 0 };
}

function consumePosts(port: MessagePort, records: number): void {
  let seq = 0;
  let errors = 0;
  port.onmessage = (event) => {
    const batch: unknown = event.data;
    if (!Array.isArray(batch)) throw new Error("postMessage bench: expected a batch of records");
    for (const record of batch as TradeRecord[]) {
      if (!isExpected(record, seq)) errors++;
      seq++;
    }
    if (seq >= records) {
      if (seq !== records) errors++;
      port.close();
      self.postMessage({ kind: "done", records: seq, bytes: 0, errors } satisfies RingBenchReply);
    }
  };
}

self.onmessage = (event: MessageEvent<RingBenchRequest | "go">) => {
  const request = event.data;
  if (request === "go") return;
  switch (request.role) {
    case "ring-producer":
    case "ring-consumer": {
      const ring = SpscRing.attach(request.sab);
      const role = request.role;
      self.onmessage = () => {
        self.postMessage(role === "ring-producer" ? produceRing(ring, request.records) : consumeRing(ring, request.records));
      };
      break;
    }
    case "post-producer":
      self.onmessage = () => self.postMessage(producePosts(request.port, request.records));
      break;
    case "post-consumer":
      consumePosts(request.port, request.records);
      break;
  }
  self.postMessage({ kind: "ready" } satisfies RingBenchReply);
};
