import { expect, test } from "bun:test";
import { ColumnarBatch } from "../../src/storage/columnar-batch.ts";
import { RECORD_TYPES } from "../../src/records/types.ts";
import { insertedColumns } from "../../src/storage/schema.ts";
import { SAMPLES } from "./sample-records.ts";

test("records become one array per inserted column, in table order", () => {
  const batch = new ColumnarBatch("orderbook");
  batch.append(SAMPLES.orderbook);
  batch.append({ ...SAMPLES.orderbook, last_update_id: 5 });
  const doc = JSON.parse(batch.encode()) as Record<string, unknown[]>;
  expect(Object.keys(doc)).toEqual(insertedColumns("orderbook").map((c) => c.name));
  expect(doc.last_update_id).toEqual([SAMPLES.orderbook.last_update_id, 5]);
  expect(doc.timestamp).toEqual([SAMPLES.orderbook.ts_ms, SAMPLES.orderbook.ts_ms]);
  expect(doc.received_at).toEqual([SAMPLES.orderbook.recv_ts_ms, SAMPLES.orderbook.recv_ts_ms]);
  expect(JSON.parse(String(doc.bids?.[0]))).toEqual(SAMPLES.orderbook.bids);
  expect(doc.best_ask_quantity).toEqual(["12345678901.123456789", "12345678901.123456789"]);
});

test("the document is what JSON.stringify gives for the columns, level lists as their JSON text, for every type", () => {
  for (const type of RECORD_TYPES) {
    const batch = new ColumnarBatch(type);
    const records = [SAMPLES[type], { ...SAMPLES[type], symbol: 'X"Y\\Z' }];
    for (const r of records) batch.append(r);
    const doc = Object.fromEntries(
      insertedColumns(type).map((c) => [c.name, records.map((r) => (r as unknown as Record<string, unknown>)[c.field]).map((v) => (c.kind === "levels" ? JSON.stringify(v) : v))]),
    );
    expect(batch.encode()).toBe(JSON.stringify(doc));
  }
});
