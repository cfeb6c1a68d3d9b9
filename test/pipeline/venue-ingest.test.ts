import { afterEach, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startVenueIngest, type VenueIngest } from "../../src/pipeline/venue-ingest.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import type { MarketRecord } from "../../src/records/types.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames, venueCounter } from "../../src/stats/layout.ts";
import { RestBudget } from "../../src/venues/connection/rest-budget.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { waitFor } from "../support/wait.ts";

let sim: Simulator | undefined;
let ingest: VenueIngest | undefined;
afterEach(async () => {
  await ingest?.stop();
  await sim?.stop();
  ingest = undefined;
  sim = undefined;
});

test("a venue is connected in the shared counters from its first frame, before the first record it yields, and disconnected after stop", async () => {
  sim = await startSimulator({ source: generatorSource(2), rate: 200, synthetic_interval_ms: 100 });
  const okx = replayVenueOverrides(sim).venues.okx_spot;
  const config = configWith({
    venues: {
      binance_spot: { enabled: false },
      binance_derivatives: { enabled: false },
      okx_spot: { enabled: true, symbols: okx.symbols, data_types: ["trade"], rest_url: okx.rest_url, ws_url: okx.ws_url },
      okx_derivatives: { enabled: false },
      deribit_derivatives: { enabled: false },
    },
  });
  const counters = new Counters(counterNames());
  const connected = counters.slot(venueCounter("okx_spot", "connected"));
  // The gauge as each record arrives: the shard's stats tick (250 ms) cannot have set it yet for the first.
  const seen: number[] = [];
  const emit = (_record: MarketRecord): void => {
    seen.push(counters.get(connected));
  };
  const shard = {
    id: "ingest:okx_spot:0",
    venue: "okx_spot" as const,
    index: 0,
    symbols: okx.symbols,
    instruments: null,
    rest_budget: new RestBudget(getVenue("okx_spot").rest_limits.buckets).buffer,
    rest_scale: null,
    connect_shares: 1,
  };
  expect(counters.get(connected)).toBe(0);
  ingest = await startVenueIngest(shard, config, null, emit, counters, createLogger("silent"), null);
  await waitFor("OKX spot trades", () => seen.length >= 5, 30000);
  expect(seen.slice(0, 5)).toEqual([1, 1, 1, 1, 1]);
  await ingest.stop();
  ingest = undefined;
  expect(counters.get(connected)).toBe(0);
});
