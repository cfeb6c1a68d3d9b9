import { expect, test } from "bun:test";
import { RestBudget } from "../../src/venues/connection/rest-budget.ts";
import { duration, syncEstimate } from "../../src/venues/connection/sync-estimate.ts";
import { getVenue } from "../../src/venues/registry.ts";

/** A full budget of `venue` at a frozen time. */
function estimate(venue: "binance_spot" | "binance_derivatives" | "okx_spot", books: number, limit: number, depth = 100) {
  const limits = getVenue(venue).rest_limits;
  return syncEstimate(limits, new RestBudget(limits.buckets, undefined, () => 1_000_000), books, limit, depth);
}

test("1,500 spot books at limit 1000 take about 17 minutes of the budget, and limit 500 halves it", () => {
  const e = estimate("binance_spot", 1500, 1000);
  // 75,000 weight: 864 at once (a storm leaves 20 % of the 1,080 burst), the rest at 4,320 a minute.
  expect(e?.ms).toBe(Math.ceil(((75_000 - 864) * 60_000) / 4320));
  expect(e?.text).toBe("1,500 books × weight 50 at 72 % of 6,000/min: about 17 min; orderbook.snapshot_limit 500 halves it");
  expect(e?.suggestion).toMatchObject({ limit: 500, weight: 25 });
});

test("USDⓈ-M books price at their own weights and limit", () => {
  expect(estimate("binance_derivatives", 500, 1000)?.text).toBe("500 books × weight 20 at 72 % of 2,400/min: about 6 min; orderbook.snapshot_limit 500 halves it");
  expect(estimate("binance_derivatives", 500, 500)?.text).toBe("500 books × weight 10 at 72 % of 2,400/min: about 3 min; orderbook.snapshot_limit 100 halves it");
});

test("a smaller limit that does more than halve the weight says what it comes to", () => {
  // Spot at 500 weighs 25; the next tier down is 100, weight 5.
  expect(estimate("binance_spot", 1500, 500)?.text).toBe("1,500 books × weight 25 at 72 % of 6,000/min: about 8 min; orderbook.snapshot_limit 100 cuts it to about 2 min");
});

test("no suggestion when the books fit the budget's burst or no smaller limit keeps orderbook.depth", () => {
  expect(estimate("binance_spot", 10, 1000)?.text).toBe("10 books × weight 50 at 72 % of 6,000/min: at once, within the budget's burst");
  expect(estimate("binance_spot", 10, 1000)?.suggestion).toBeUndefined();
  // Records of 600 levels need snapshots of at least 600: 1000 is the only such limit.
  expect(estimate("binance_spot", 1500, 1000, 600)?.suggestion).toBeUndefined();
  expect(estimate("binance_spot", 1500, 1000, 600)?.text).toBe("1,500 books × weight 50 at 72 % of 6,000/min: about 17 min");
});

test("venues whose books sync from the socket have no estimate", () => {
  expect(estimate("okx_spot", 300, 1000)).toBeUndefined();
});

test("durations read as seconds, minutes or hours", () => {
  expect([duration(400), duration(40_000), duration(89_000), duration(840_000), duration(2 * 3_600_000 + 1_800_000)]).toEqual(["1 s", "40 s", "89 s", "14 min", "2.5 h"]);
});
