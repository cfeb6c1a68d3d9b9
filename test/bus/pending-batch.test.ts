import { expect, test } from "bun:test";
import { PendingBatch } from "../../src/bus/pending-batch.ts";
import { trade } from "./sample-records.ts";

test("a batch is due at max_rows", () => {
  const batch = new PendingBatch<string>({ max_rows: 3, max_bytes: 1 << 30, linger_ms: 60_000 });
  batch.add("m1", [trade(1), trade(2)], 100, 100);
  expect([batch.full(), batch.due(100)]).toEqual([false, false]);
  batch.add("m2", [trade(3)], 50, 100);
  expect([batch.full(), batch.due(100)]).toEqual([true, true]);
});

test("a batch is due at max_bytes of its sources", () => {
  const batch = new PendingBatch<string>({ max_rows: 1_000_000, max_bytes: 1000, linger_ms: 60_000 });
  batch.add("m1", [trade(1)], 999, 0);
  expect(batch.full()).toBe(false);
  batch.add("m2", [trade(2)], 1, 0);
  expect(batch.full()).toBe(true);
});

test("a batch is due linger_ms after its first source, an empty one never, and take() starts over", () => {
  const batch = new PendingBatch<string>({ max_rows: 1000, max_bytes: 1 << 30, linger_ms: 250 });
  expect(batch.due(1_000_000)).toBe(false);
  batch.add("m1", [trade(1)], 10, 1000);
  batch.add("m2", [trade(2)], 10, 1200);
  expect(batch.dueAtMs).toBe(1250);
  expect([batch.due(1249), batch.due(1250)]).toEqual([false, true]);
  expect(batch.take()).toEqual({ records: [trade(1), trade(2)], sources: ["m1", "m2"] });
  expect([batch.rows, batch.due(5000)]).toEqual([0, false]);
  batch.add("bad", [], 10, 5000);
  expect([batch.dueAtMs, batch.due(5250)]).toEqual([5250, true]);
});
