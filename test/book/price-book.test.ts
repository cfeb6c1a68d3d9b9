import { expect, test } from "bun:test";
import { PriceBook } from "../../src/book/price-book.ts";

test("levels order numerically best first and keep the exchange's latest spelling", () => {
  const b = new PriceBook();
  for (const p of ["9.5", "10", "100", "9.75"]) b.bids.set(p, "1");
  for (const p of ["101", "1000", "100.5"]) b.asks.set(p, "2");
  expect(b.bids.top(10)).toEqual([
    ["100", "1"],
    ["10", "1"],
    ["9.75", "1"],
    ["9.5", "1"],
  ]);
  expect(b.asks.top(2)).toEqual([
    ["100.5", "2"],
    ["101", "2"],
  ]);
  b.bids.set("10.0", "7");
  expect(b.bids.top(2)).toEqual([
    ["100", "1"],
    ["10.0", "7"],
  ]);
  expect(b.bids.set("100.00", "0.000")).toBe(true);
  expect(b.asks.set("555", "0")).toBe(true);
  expect(b.bids.size).toBe(3);
  expect(b.asks.size).toBe(3);
  expect(b.crossed()).toBe(false);
  // Unparsable or negative text changes nothing and is reported.
  expect([b.bids.set("abc", "1"), b.bids.set("5", "-1"), b.bids.set("0", "1"), b.bids.set("5", "")]).toEqual([false, false, false, false]);
  expect(b.bids.size).toBe(3);
  b.bids.set("200", "1");
  expect(b.crossed()).toBe(true);
});
