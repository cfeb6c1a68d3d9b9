import { expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import { RestBudget } from "../../src/venues/connection/rest-budget.ts";
import { venuePollOverloads } from "../../src/supervisor/rest-estimates.ts";
import { getVenue } from "../../src/venues/registry.ts";

/** Binance USDⓈ-M's polls of `n` symbols as the engine reckons them (rest-estimates.ts), against a full budget. */
function overloads(n: number, poll_period = "5m", data_types = ["open_interest", "lsr_top_position", "lsr_all_account"]) {
  const venue = getVenue("binance_derivatives");
  const config = configWith({ venues: { binance_derivatives: { poll_period, data_types } } });
  const symbols = Array.from({ length: n }, (_, i) => `S${i}USDT`);
  return venuePollOverloads(config, "binance_derivatives", symbols, null, new RestBudget(venue.rest_limits.buckets, undefined, () => 1_000_000));
}

test("both ratios of 360 USDⓈ-M symbols fit futures_data at 5 min: they ask 720 a period, what the budget sustains of 1,000 per 5 min", () => {
  expect(overloads(360)).toEqual([]);
});

test("both ratios of 500 symbols ask 1,000 a period: the warning names the limit, the figures and what fits", () => {
  expect(overloads(500)).toEqual([
    {
      limit_name: "futures_data",
      asked: 1000,
      sustained: 720,
      symbols_fit: 360,
      text: "polls ask 1,000 of futures_data every 5 min, the budget sustains 720 (1,000 per 5 min): they fall behind and miss buckets; the polled types fit about 360 of the 500 symbols, or a longer poll_period",
    },
  ]);
  // Open interest draws on request weight (2,400 a minute): 500 a period is far inside it.
  expect(overloads(500, "5m", ["open_interest"])).toEqual([]);
});

test("a longer poll period or one ratio makes 500 symbols fit", () => {
  expect(overloads(500, "15m")).toEqual([]);
  expect(overloads(500, "5m", ["open_interest", "lsr_top_position"])).toEqual([]);
});
