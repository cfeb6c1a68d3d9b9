import { afterAll, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import { VENUE_KEYS, type VenueKey } from "../../src/config/venue-keys.ts";
import { createLogger } from "../../src/log/logger.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { resolveVenueSymbols } from "../../src/supervisor/symbol-resolution.ts";
import { RestBudget } from "../../src/venues/connection/rest-budget.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { binanceExchangeInfo } from "../connection/support.ts";

const requests: string[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) => {
    requests.push(new URL(req.url).pathname);
    return new Response(binanceExchangeInfo(["BTCUSDT", "ETHUSDT"]), { headers: { "content-type": "application/json" } });
  },
});

afterAll(() => server.stop(true));

test("an unexpected error while resolving one venue is thrown as it is, not turned into a config error", async () => {
  const rest_url = `http://127.0.0.1:${server.port}`;
  const venues = Object.fromEntries(VENUE_KEYS.map((v) => [v, { enabled: false }]));
  const config = configWith({
    venues: {
      ...venues,
      binance_spot: { enabled: true, workers: 1, rest_url, symbols: { quote: ["USDT"] }, instruments_refresh_s: 0 },
      binance_derivatives: { enabled: true, workers: 1, rest_url, symbols: ["BTCUSDT"], instruments_refresh_s: 0 },
    },
  });
  // A programming error inside binance_spot's metadata read (its budget's clock throws); binance_derivatives reads fine.
  const fault = new Error("budget clock broke");
  const budget = (venue: VenueKey) =>
    new RestBudget(getVenue(venue).rest_limits.buckets, undefined, () => {
      if (venue === "binance_spot") throw fault;
      return Date.now();
    });
  const changes: VenueKey[] = [];
  const resolving = resolveVenueSymbols({
    config,
    counters: new Counters(counterNames()),
    log: createLogger("silent"),
    budget,
    onChange: (venue) => changes.push(venue),
    record_dir: null,
  });
  await expect(resolving).rejects.toBe(fault);
  // binance_derivatives' read completed (one exchangeInfo request) and its result was not handed on.
  expect(requests).toEqual(["/fapi/v1/exchangeInfo"]);
  expect(changes).toEqual([]);
});
