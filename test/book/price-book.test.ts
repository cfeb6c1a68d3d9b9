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

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("a long update applies exactly as its levels one by one: inserts, replacements, deletes, absent deletes, respellings", () => {
  const next = random(7);
  for (const isBid of [true, false]) {
    const merged = new PriceBook();
    const single = new PriceBook();
    const side = (b: PriceBook) => (isBid ? b.bids : b.asks);
    // Snapshot: 400 levels on a 0.5 grid, best first.
    const snapshot = Array.from({ length: 400 }, (_, i) => [String(isBid ? 1000 - i * 0.5 : 1000.5 + i * 0.5), "1.5"] as [string, string]);
    expect(side(merged).apply(snapshot)).toBe(true);
    for (const [p, q] of snapshot) side(single).set(p, q);
    for (let round = 0; round < 300; round++) {
      // 8-60 distinct prices from a wider grid (some new, some existing, some beyond the ends),
      // sent best first as the venues do; a third are deletes, some of absent levels.
      const prices = new Set<number>();
      const count = 8 + Math.floor(next() * 53);
      while (prices.size < count) prices.add(Math.round((isBid ? 1010 - next() * 230 : 990.5 + next() * 230) * 4) / 4);
      const update = [...prices]
        .sort((a, b) => (isBid ? b - a : a - b))
        .map((p) => {
          const text = next() < 0.2 ? p.toFixed(3) : String(p);
          return [text, next() < 0.33 ? (next() < 0.5 ? "0" : "0.000") : (next() * 5).toFixed(4)] as [string, string];
        });
      expect(side(merged).apply(update)).toBe(true);
      for (const [p, q] of update) side(single).set(p, q);
      expect(side(merged).top(1000)).toEqual(side(single).top(1000));
    }
    expect(side(merged).size).toBeGreaterThan(100);
  }
});

test("a long update out of best-first order, or naming a price twice, applies level by level in the order sent", () => {
  const fresh = () => {
    const b = new PriceBook();
    b.bids.apply(Array.from({ length: 20 }, (_, i) => [String(100 - i), "1"] as [string, string]));
    return b;
  };
  const unordered = Array.from({ length: 10 }, (_, i) => [String(90 + ((i * 7) % 10) + 0.5), "2"] as [string, string]);
  const a = fresh();
  expect(a.bids.apply(unordered)).toBe(true);
  expect(a.bids.size).toBe(30);
  expect(a.bids.top(2)).toEqual([
    ["100", "1"],
    ["99.5", "2"],
  ]);
  // 95 is named twice, best first otherwise: the later quantity wins, as sent.
  const twice = [["98", "3"], ["97", "3"], ["96", "3"], ["95", "3"], ["95.0", "0"], ["94", "3"], ["93", "3"], ["92", "3"]] as [string, string][];
  const b = fresh();
  expect(b.bids.apply(twice)).toBe(true);
  expect(b.bids.size).toBe(19);
  expect(b.bids.top(5)).toEqual([
    ["100", "1"],
    ["99", "1"],
    ["98", "3"],
    ["97", "3"],
    ["96", "3"],
  ]);
  expect(b.bids.top(6)[5]).toEqual(["94", "3"]);
});

test("a long update with an invalid level is refused", () => {
  const b = new PriceBook();
  b.asks.apply(Array.from({ length: 20 }, (_, i) => [String(100 + i), "1"] as [string, string]));
  const update = Array.from({ length: 10 }, (_, i) => [String(100.5 + i), i === 6 ? "1e3" : "2"] as [string, string]);
  expect(b.asks.apply(update)).toBe(false);
  expect(b.asks.apply([...update.slice(0, 6), ["-3", "1"], ...update.slice(7)])).toBe(false);
});
