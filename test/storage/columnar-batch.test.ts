import { expect, test } from "bun:test";
import { ColumnarBatch } from "../../src/storage/columnar-batch.ts";
import { insertedColumns } from "../../src/storage/schema.ts";
import { SAMPLES, trades } from "./sample-records.ts";

test("records become one array per inserted column, in table order", () => {
  const batch = new ColumnarBatch("orderbook", { max_rows: 10, max_bytes: 1 << 20, linger_ms: 1000 });
  batch.append(SAMPLES.orderbook, 0);
  batch.append({ ...SAMPLES.orderbook, last_update_id: 5 }, 0);
  const doc = JSON.parse(batch.encode()) as Record<string, unknown[]>;
  expect(Object.keys(doc)).toEqual(insertedColumns("orderbook").map((c) => c.name));
  expect(doc.last_update_id).toEqual([SAMPLES.orderbook.last_update_id, 5]);
  expect(doc.timestamp).toEqual([SAMPLES.orderbook.ts_ms, SAMPLES.orderbook.ts_ms]);
  expect(doc.received_at).toEqual([SAMPLES.orderbook.recv_ts_ms, SAMPLES.orderbook.recv_ts_ms]);
  expect(JSON.parse(String(doc.bids?.[0]))).toEqual(SAMPLES.orderbook.bids);
  expect(doc.best_ask_quantity).toEqual(["12345678901.123456789", "12345678901.123456789"]);
});

test("a batch is due at max_rows", () => {
  const batch = new ColumnarBatch("trade", { max_rows: 3, max_bytes: 1 << 30, linger_ms: 60_000 });
  for (const r of trades(2)) batch.append(r, 100);
  expect(batch.full()).toBe(false);
  expect(batch.due(100)).toBe(false);
  batch.append(trades(1)[0] ?? SAMPLES.trade, 100);
  expect(batch.full()).toBe(true);
  expect(batch.due(100)).toBe(true);
});

test("a batch is due past max_bytes, and the estimate tracks the encoded size within 20%", () => {
  const batch = new ColumnarBatch("trade", { max_rows: 1_000_000, max_bytes: 50_000, linger_ms: 60_000 });
  let appended = 0;
  for (const r of trades(10_000)) {
    if (batch.full()) break;
    batch.append(r, 0);
    appended++;
  }
  expect(appended).toBeLessThan(10_000);
  const encoded = batch.encode().length;
  expect(Math.abs(batch.bytes - encoded) / encoded).toBeLessThan(0.2);
});

test("a non-empty batch is due linger_ms after its first row; an empty one never", () => {
  const batch = new ColumnarBatch("trade", { max_rows: 1000, max_bytes: 1 << 30, linger_ms: 250 });
  expect(batch.lingerDeadlineMs()).toBeUndefined();
  expect(batch.due(1_000_000)).toBe(false);
  batch.append(SAMPLES.trade, 1000);
  batch.append(SAMPLES.trade, 1200);
  expect(batch.lingerDeadlineMs()).toBe(1250);
  expect(batch.due(1249)).toBe(false);
  expect(batch.due(1250)).toBe(true);
  batch.clear();
  expect(batch.rows).toBe(0);
  expect(batch.due(5000)).toBe(false);
  batch.append(SAMPLES.trade, 5000);
  expect(batch.lingerDeadlineMs()).toBe(5250);
});
