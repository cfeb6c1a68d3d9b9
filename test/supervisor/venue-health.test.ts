import { expect, test } from "bun:test";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames, venueCounter } from "../../src/stats/layout.ts";
import { buildStats } from "../../src/supervisor/stats.ts";
import { venueHealth } from "../../src/supervisor/venue-health.ts";
import { RestBudget } from "../../src/venues/connection/rest-budget.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { idleStatsInputs } from "../support/stats-inputs.ts";

/** binance_spot's /stats entry with its REST budget as `budget` holds it, `waiting` books waiting for that budget. */
function binanceSpot(budget: RestBudget, counters: Counters, waiting = 0) {
  const stats = buildStats(
    idleStatsInputs(counters, {
      rest_block: () => ({ blocked_ms: budget.blockedMs(), status: budget.blockStatus }),
      books: new Map([["ingest:binance_spot:0", ["AUSDT", "BUSDT", "CUSDT", "DUSDT"].map((native, i) => ({ symbol: native, native, state: i === 0 ? ("live" as const) : ("syncing" as const), resyncs: 0, checksum_failures: 0, sequence_gaps: 0, last_update_ts_ms: 0 }))]]),
      book_sync: new Map([["ingest:binance_spot:0", { waiting, failures: [] }]]),
      planned_books: new Map([["ingest:binance_spot:0", 4]]),
      sync_eta_ms: (_, w) => w * 1000,
    }),
  );
  const v = stats.venues.binance_spot;
  if (v === undefined) throw new Error("binance_spot missing from /stats");
  return v;
}

test("a 418 ban shows the venue as banned with its retry-after and count, a 429 as rate limited; syncing comes back after", () => {
  let now = 1_000_000;
  const budget = new RestBudget(getVenue("binance_spot").rest_limits.buckets, undefined, () => now);
  const counters = new Counters(counterNames());
  counters.add(counters.slot(venueCounter("binance_spot", "connected")), 1);
  counters.add(counters.slot(venueCounter("binance_spot", "rest_418")), 2);
  counters.add(counters.slot(venueCounter("binance_spot", "rest_429")), 1);

  budget.block(now + 30_000, 429);
  const limited = binanceSpot(budget, counters, 3);
  expect(limited.rest.block_status).toBe(429);
  expect(venueHealth(limited)).toEqual({ state: "rate_limited", detail: "rate limited (HTTP 429, 1 so far): REST stopped for another 30 s", retry_after_s: 30 });

  // A ban during the Retry-After turns the incident into a ban, even with books waiting their turn.
  budget.block(now + 120_000, 418);
  expect(venueHealth(binanceSpot(budget, counters, 3))).toEqual({ state: "banned", detail: "IP banned (HTTP 418, 2 so far): REST stopped for another 2 min", retry_after_s: 120 });

  now += 119_500;
  expect(venueHealth(binanceSpot(budget, counters, 3)).retry_after_s).toBe(1);

  // The ban over, books waiting for the budget are the venue syncing again.
  now += 1_000;
  const after = binanceSpot(budget, counters, 3);
  expect(after.rest.block_status).toBe(0);
  expect(venueHealth(after)).toEqual({ state: "syncing", detail: "3 of 4 books wait for the REST weight budget, about 3 s to go" });
});
