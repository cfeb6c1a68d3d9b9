import { afterAll, expect, test } from "bun:test";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { DATA_TYPES } from "../../src/records/types.ts";
import { startReplay, type Replay } from "../../src/replay/replay-mode.ts";
import { typeCounter } from "../../src/stats/layout.ts";
import { Engine } from "../../src/supervisor/supervisor.ts";
import { freshNatsStore, testClickHouse, testDataDir, uniqueDatabase } from "../support/chdb.ts";

const log = createLogger("silent");
let engine: Engine | null = null;
let replay: Replay | null = null;
afterAll(async () => {
  await engine?.stop();
  await replay?.stop();
});

test("--replay: every data type flows from the simulator through rings, JetStream and into ClickHouse", async () => {
  const base = {
    engine: { data_dir: testDataDir() },
    http: { enabled: false },
    tiering: { enabled: false },
    nats: { embedded: { port: 0 } },
    replay: { rate: 2000 },
    clickhouse: { hot_database: uniqueDatabase("replay_hot"), cold_database: uniqueDatabase("replay_cold") },
    batching: Object.fromEntries(DATA_TYPES.map((t) => [t, { linger_ms: 200 }])),
  };
  freshNatsStore();
  replay = await startReplay(configWith(base), null, log);
  const config = configWith(mergeConfig(base, replay.overrides));
  engine = new Engine(config, { log });
  await engine.start();
  const e = engine;
  const stored = (t: (typeof DATA_TYPES)[number]) => e.counters.read(typeCounter(t, "stored"));
  const deadline = Date.now() + 30000;
  while (DATA_TYPES.some((t) => stored(t) === 0)) {
    if (Date.now() > deadline) throw new Error(`types not stored within 30 s: ${DATA_TYPES.filter((t) => stored(t) === 0).join(", ")}`);
    await Bun.sleep(100);
  }
  const stats = e.stats();
  for (const t of DATA_TYPES) {
    expect(stats.data_types[t]?.ingested).toBeGreaterThan(0);
    expect(stats.data_types[t]?.published).toBeGreaterThan(0);
  }
  for (const venue of ["binance_spot", "binance_derivatives", "okx_spot", "okx_derivatives", "deribit_derivatives"]) {
    expect(stats.venues[venue]?.state).toBe("connected");
    expect(stats.venues[venue]?.messages_in).toBeGreaterThan(0);
    expect(stats.venues[venue]?.unrecognized).toBe(0);
    expect(stats.venues[venue]?.error_events).toBe(0);
    // REST went through the venue's budget: weight was drawn, nothing refused.
    expect(stats.venues[venue]?.rest.weight_used).toBeGreaterThan(0);
    expect(stats.venues[venue]?.rate_limited).toBe(0);
  }
  // Spot streams ride one connection; USDⓈ-M books ride /public and the rest /market. Each
  // subscribed with requests paced under the venue's incoming-message limit (5 and 10 a second).
  expect([stats.venues.binance_spot?.open_connections, stats.venues.binance_derivatives?.open_connections]).toEqual([1, 2]);
  expect(stats.venues.binance_spot?.ws_requests).toBeGreaterThanOrEqual(1);
  expect(stats.venues.binance_spot?.ws_requests_peak_per_s).toBeLessThanOrEqual(3);
  expect(stats.venues.binance_derivatives?.ws_requests).toBeGreaterThanOrEqual(2);
  expect(stats.venues.binance_derivatives?.ws_requests_peak_per_s).toBeLessThanOrEqual(8);
  expect(Object.keys(replay.simulator.violations.rules()).filter((rule) => rule.startsWith("rest_"))).toEqual([]);
  expect(e.health().ok).toBe(true);
  await e.stop();
  // Every venue rule held: routes, message rates, stream caps, connection attempts, lifetimes.
  expect(replay.simulator.violations.rules()).toEqual({});
  const db = config.clickhouse.hot_database;
  const rs = await testClickHouse().query({
    query: `SELECT exchange, market_type, count() AS n FROM ${db}.funding_rates GROUP BY exchange, market_type ORDER BY exchange`,
    format: "JSONEachRow",
  });
  const rows = (await rs.json()) as { exchange: string; market_type: string; n: string }[];
  expect(rows.map((r) => [r.exchange, r.market_type])).toEqual([["binance", "perpetual"], ["okx", "perpetual"]]);
  const books = await testClickHouse().query({
    query: `SELECT count() AS n, countIf(best_bid_price >= best_ask_price) AS crossed, countIf(bids_count = 0 AND asks_count = 0) AS empty,
      countIf(JSONLength(bids) != bids_count OR JSONLength(asks) != asks_count) AS miscounted,
      countIf(bids_count > 0 AND toDecimal128(JSONExtractString(bids, 1, 1), 18) != best_bid_price) AS wrong_best_bid,
      countIf(asks_count > 0 AND toDecimal128(JSONExtractString(asks, 1, 2), 18) != best_ask_quantity) AS wrong_best_ask
      FROM ${db}.orderbooks`,
    format: "JSONEachRow",
  });
  const [b] = (await books.json()) as Record<string, string>[];
  expect(Number(b?.n)).toBeGreaterThan(0);
  expect(Number(b?.crossed)).toBe(0);
  // The stored level text is JSON whose levels match the counts and the best prices beside it.
  expect([b?.miscounted, b?.wrong_best_bid, b?.wrong_best_ask].map(Number)).toEqual([0, 0, 0]);
  // stopping drained everything that was ingested into storage
  for (const t of DATA_TYPES) expect(e.counters.read(typeCounter(t, "stored"))).toBe(e.counters.read(typeCounter(t, "ingested")));
});
