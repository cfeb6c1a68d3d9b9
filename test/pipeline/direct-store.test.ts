import { expect, test } from "bun:test";
import { MessageChannel } from "node:worker_threads";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import { configWith } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { BatchWorker } from "../../src/pipeline/batch-worker.ts";
import { eventPort } from "../../src/pipeline/event-port.ts";
import { RingRouter } from "../../src/pipeline/ring-router.ts";
import { SpscRing } from "../../src/ring/spsc-ring.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames, typeCounter } from "../../src/stats/layout.ts";
import { isInsertRequest, type InsertReply } from "../../src/storage/insert-messages.ts";
import { SAMPLE_RECORDS } from "../codec/sample-records.ts";

/**
 * Direct mode (nats.enabled: false): rings -> ClickHouse with nothing to dead-letter to. A batch
 * ClickHouse refuses for good is retried record by record; the record refused on its own is
 * logged and counted as dead-lettered, and every other record is stored.
 */
test("direct mode: a record ClickHouse refuses for good is counted as dead-lettered and the rest of its batch is stored", async () => {
  const config = configWith({ nats: { enabled: false } });
  const counters = new Counters(counterNames());
  const ring = SpscRing.create(1 << 20);
  const codec = new RecordCodec();
  const router = new RingRouter([{ type: "trade", batch_index: 0, buffer: ring.sab }], counters, 1000, (r) => codec.encodeRecord(r));

  // The owner side of the insert port: refuses (permanently) any insert holding trade "poison".
  const { port1, port2 } = new MessageChannel();
  const owner = eventPort<InsertReply>(port2);
  const stored: string[] = [];
  let refused = 0;
  owner.addEventListener("message", (e) => {
    const req: unknown = e.data;
    if (!isInsertRequest(req)) return;
    const ids = (JSON.parse(new TextDecoder().decode(req.body)) as { trade_id: string[] }).trade_id;
    if (ids.includes("poison")) {
      refused++;
      owner.postMessage({ kind: "insert_failed", id: req.id, error_class: "permanent", message: "Code: 53. Type mismatch" });
      return;
    }
    stored.push(...ids);
    owner.postMessage({ kind: "inserted", id: req.id, rows: req.rows, latency_ms: 1 });
  });

  const worker = new BatchWorker(
    {
      kind: "batch",
      id: "batch:trade:0",
      index: 0,
      lanes: [{ type: "trade", index: 0, rings: [{ type: "trade", batch_index: 0, buffer: ring.sab }], delivered_seqs: null }],
      config,
      counters: counters.buffer,
      nats_servers: null,
      store: true,
      publish: false,
    },
    port1,
    createLogger("silent"),
  );
  await worker.start();
  const ids = ["1", "2", "poison", "3", "4"];
  for (const trade_id of ids) router.emit({ ...SAMPLE_RECORDS.trade, trade_id });
  router.close();
  await worker.stop(10_000);
  port1.close();
  port2.close();

  expect(stored).toEqual(["1", "2", "3", "4"]);
  // The batch of five, then "poison" alone.
  expect(refused).toBe(2);
  expect(counters.get(counters.slot(typeCounter("trade", "stored")))).toBe(4);
  expect(counters.get(counters.slot(typeCounter("trade", "dead_lettered")))).toBe(1);
  expect(counters.get(counters.slot(typeCounter("trade", "insert_errors")))).toBe(2);
});

test("direct mode: the shared thread's lanes insert through one channel, each reply reaching its own lane", async () => {
  const config = configWith({ nats: { enabled: false } });
  const counters = new Counters(counterNames());
  const codec = new RecordCodec();
  const types = ["funding_rate", "liquidation", "volatility_index"] as const;
  const rings = types.map((type) => ({ type, batch_index: 0, buffer: SpscRing.create(1 << 16).sab }));
  const router = new RingRouter(rings, counters, 1000, (r) => codec.encodeRecord(r));

  // The owner answers out of order (the newest request first), as a busy supervisor may.
  const { port1, port2 } = new MessageChannel();
  const owner = eventPort<InsertReply>(port2);
  const rowsByType = new Map<string, number>();
  const waiting: { id: number; rows: number }[] = [];
  owner.addEventListener("message", (e) => {
    const req: unknown = e.data;
    if (!isInsertRequest(req)) return;
    rowsByType.set(req.type, (rowsByType.get(req.type) ?? 0) + req.rows);
    waiting.push({ id: req.id, rows: req.rows });
    if (waiting.length < types.length) return;
    for (const w of waiting.reverse()) owner.postMessage({ kind: "inserted", id: w.id, rows: w.rows, latency_ms: 1 });
    waiting.length = 0;
  });

  const worker = new BatchWorker(
    {
      kind: "batch",
      id: "batch:shared:0",
      index: 0,
      lanes: rings.map((r) => ({ type: r.type, index: 0, rings: [r], delivered_seqs: null })),
      config,
      counters: counters.buffer,
      nats_servers: null,
      store: true,
      publish: false,
    },
    port1,
    createLogger("silent"),
  );
  await worker.start();
  const counts = { funding_rate: 3, liquidation: 5, volatility_index: 2 };
  for (const type of types) for (let i = 0; i < counts[type]; i++) router.emit({ ...SAMPLE_RECORDS[type], symbol: `S${i}` });
  router.close();
  await worker.stop(10_000);
  port1.close();
  port2.close();

  expect(Object.fromEntries(rowsByType)).toEqual(counts);
  for (const type of types) expect(counters.get(counters.slot(typeCounter(type, "stored")))).toBe(counts[type]);
});
