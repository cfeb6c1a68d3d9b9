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
    { kind: "batch", id: "batch:trade:0", index: 0, type: "trade", config, counters: counters.buffer, rings: [{ type: "trade", batch_index: 0, buffer: ring.sab }], nats_servers: null, store: true, publish: false, delivered_seqs: null },
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
