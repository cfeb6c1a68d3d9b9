import { expect, test } from "bun:test";
import { BinanceBookSync, type DepthDiff } from "../../src/venues/binance/book-sync.ts";

/**
 * A spot book waiting for its snapshot keeps only the diffs its snapshot can need: a couple of
 * seconds before the request goes out. One waiting minutes for the REST budget in a start-up
 * storm must not hold minutes of diffs (1,000 books at 10 diffs/s would hold millions).
 */

const diff = (u: number, recv_ts_ms: number): DepthDiff => ({
  first_id: u,
  final_id: u,
  prev_final_id: -1,
  ts_ms: recv_ts_ms,
  recv_ts_ms,
  bids: [[`${100 - (u % 10)}.0`, "1.0"]],
  asks: [[`${101 + (u % 10)}.0`, "1.0"]],
});

test("a book waiting for the REST budget keeps two seconds of diffs and bridges from the diffs after its request", () => {
  const book = new BinanceBookSync("BTCUSDT", "BTC-USDT", "binance", "spot");
  // Five minutes of diffs at 10 a second while the snapshot request waits for the budget.
  let u = 1;
  for (let t = 0; t < 300_000; t += 100) expect(book.diff(diff(u++, t))).toBe("buffered");
  // The request goes out at t = 300 s; the venue answers a snapshot taken at u = 3005 a bit later.
  book.snapshotSent(300_000);
  for (let t = 300_000; t < 300_800; t += 100) book.diff(diff(u++, t));
  const pending = book.snapshot(3005, [["99.0", "2.0"]], [["102.0", "2.0"]], 300_500)!;
  // Kept: what arrived from 298 s on (20 diffs before the send, 8 after), nothing older.
  expect(pending.map((d) => d.recv_ts_ms)[0]).toBe(298_000);
  expect(pending).toHaveLength(28);
  const outcomes = pending.map((d) => book.diff(d));
  expect(outcomes.filter((o) => o === "dropped")).toHaveLength(pending.filter((d) => d.final_id <= 3005).length);
  expect(outcomes.filter((o) => o === "applied")).toHaveLength(pending.filter((d) => d.final_id > 3005).length);
  expect(book.live).toBe(true);
  expect(book.verify()).toBeUndefined();
});

test("a quiet book keeps its last diffs whatever their age", () => {
  const book = new BinanceBookSync("XRPUSDT", "XRP-USDT", "binance", "spot");
  // One diff a minute for half an hour, then the request goes out.
  for (let i = 0; i < 30; i++) book.diff(diff(i + 1, i * 60_000));
  book.snapshotSent(1_800_000);
  const pending = book.snapshot(25, [["99.0", "2.0"]], [["102.0", "2.0"]], 1_800_000)!;
  expect(pending.map((d) => d.final_id)).toEqual(Array.from({ length: 20 }, (_, i) => 11 + i));
  expect(pending.map((d) => book.diff(d)).filter((o) => o === "applied")).toHaveLength(5);
  expect(book.live).toBe(true);
});

test("a lost connection forgets the request time: the next wait keeps two seconds again", () => {
  const book = new BinanceBookSync("ETHUSDT", "ETH-USDT", "binance", "spot");
  book.snapshotSent(10_000);
  book.restart();
  let u = 1;
  for (let t = 20_000; t < 30_000; t += 100) book.diff(diff(u++, t));
  const pending = book.snapshot(u - 1, [["99.0", "2.0"]], [["102.0", "2.0"]], 30_000)!;
  expect(pending.map((d) => d.recv_ts_ms)).toEqual(Array.from({ length: 21 }, (_, i) => 27_900 + i * 100));
});
