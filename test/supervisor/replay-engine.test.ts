import { afterEach, expect, test } from "bun:test";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { createLogger } from "../../src/log/logger.ts";
import { DATA_TYPES } from "../../src/records/types.ts";
import { generatedAssets } from "../../src/replay/generator.ts";
import { startReplay, type Replay } from "../../src/replay/replay-mode.ts";
import { typeCounter } from "../../src/stats/layout.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { freshNatsStore, testClickHouse, testDataDir, uniqueDatabase } from "../support/chdb.ts";
import { recordingTest } from "../support/recordings.ts";
import { waitFor } from "../support/wait.ts";

const log = createLogger("silent");
let engine: Engine | null = null;
let replay: Replay | null = null;
afterEach(async () => {
  await engine?.stop();
  await replay?.stop();
  engine = null;
  replay = null;
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const rs = await testClickHouse().query({ query: sql, format: "JSONEachRow" });
  return (await rs.json()) as Record<string, unknown>[];
}

const DERIVATIVES = ["trade", "orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"];

/** Runs `--replay` (recordings, or the generator) until every data type is stored, stops the engine, returns the hot database. */
async function replayUntilStored(generate: boolean, rate: number, books_of = 0): Promise<{ config: Config; db: string }> {
  const base = {
    engine: { data_dir: testDataDir() },
    http: { enabled: false },
    tiering: { enabled: false },
    nats: { embedded: { port: 0 } },
    replay: { rate },
    clickhouse: { hot_database: uniqueDatabase("replay_hot"), cold_database: uniqueDatabase("replay_cold") },
    batching: Object.fromEntries(DATA_TYPES.map((t) => [t, { linger_ms: 200 }])),
    // Every data type, book deltas included: a row per changed level, in a thread of its own.
    venues: {
      binance_spot: { data_types: ["trade", "orderbook", "orderbook_delta"] },
      okx_spot: { data_types: ["trade", "orderbook", "orderbook_delta"] },
      binance_derivatives: { data_types: [...DERIVATIVES, "orderbook_delta"] },
      okx_derivatives: { data_types: [...DERIVATIVES, "orderbook_delta"] },
    },
    batch_workers: { orderbook_delta: 1 },
  };
  freshNatsStore();
  replay = await startReplay(configWith(base), null, log, generate);
  if (generate) expect(replay.simulator.source).toBe("generator (4 symbols per venue)");
  const config = configWith(mergeConfig(base, replay.overrides));
  engine = new Engine(config, { log });
  await engine.start();
  const e = engine;
  const stored = (t: (typeof DATA_TYPES)[number]) => e.counters.read(typeCounter(t, "stored"));
  await waitFor("every data type stored", () => DATA_TYPES.every((t) => stored(t) > 0), 30_000);
  // An OKX book starts with the next snapshot push, so a symbol's first book can come after every type's first row.
  const db = config.clickhouse.hot_database;
  const booked = async (): Promise<boolean> => Number((await rows(`SELECT uniqExact(exchange, market_type, symbol) AS n FROM ${db}.orderbooks`))[0]?.n) >= books_of;
  await waitFor(`books of ${books_of} symbols stored`, booked, 30_000);
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
  // stopping drained everything that was ingested into storage
  for (const t of DATA_TYPES) expect(e.counters.read(typeCounter(t, "stored"))).toBe(e.counters.read(typeCounter(t, "ingested")));
  // Every venue rule held: routes, message rates, stream caps, connection attempts, lifetimes.
  expect(replay?.simulator.violations.rules()).toEqual({});
  const funding = await rows(`SELECT exchange, market_type, count() AS n FROM ${db}.funding_rates GROUP BY exchange, market_type ORDER BY exchange`);
  expect(funding.map((r) => [r.exchange, r.market_type])).toEqual([["binance", "perpetual"], ["okx", "perpetual"]]);
  const [b] = await rows(`SELECT count() AS n, countIf(best_bid_price >= best_ask_price) AS crossed, countIf(bids_count = 0 AND asks_count = 0) AS empty,
      countIf(JSONLength(bids) != bids_count OR JSONLength(asks) != asks_count) AS miscounted,
      countIf(bids_count > 0 AND toDecimal128(JSONExtractString(bids, 1, 1), 18) != best_bid_price) AS wrong_best_bid,
      countIf(asks_count > 0 AND toDecimal128(JSONExtractString(asks, 1, 2), 18) != best_ask_quantity) AS wrong_best_ask
      FROM ${db}.orderbooks`);
  expect(Number(b?.n)).toBeGreaterThan(0);
  expect(Number(b?.crossed)).toBe(0);
  // The stored level text is JSON whose levels match the counts and the best prices beside it.
  expect([b?.miscounted, b?.wrong_best_bid, b?.wrong_best_ask].map(Number)).toEqual([0, 0, 0]);
  // No trade id stored with two timestamps: ids never repeat with other content (FINAL would keep both).
  const [dup] = await rows(`SELECT count() AS n FROM (SELECT exchange, market_type, symbol, trade_id FROM ${db}.trades GROUP BY exchange, market_type, symbol, trade_id HAVING uniqExact(timestamp, price, quantity) > 1)`);
  expect(Number(dup?.n)).toBe(0);
  return { config, db };
}

recordingTest("--replay on the recordings: every data type flows from the simulator through rings, JetStream and into ClickHouse", async () => {
  await replayUntilStored(false, 2000);
}, 90_000);

test("--replay --generate: the generator fills all nine tables with its symbols and values in their documented ranges", async () => {
  // 400 frames/s per feed: the generator's books are deeper and its symbols busier than the recordings'.
  const { db } = await replayUntilStored(true, 400, 16);
  const assets = generatedAssets(4);
  const symbols = assets.map((a) => `${a.base}-USDT`).sort();
  const ref = `transform(splitByChar('-', symbol)[1], [${assets.map((a) => `'${a.base}'`).join(",")}], [${assets.map((a) => a.price).join(",")}], 0)`;
  const bySource = await rows(`SELECT exchange, market_type, arraySort(groupUniqArray(symbol)) AS symbols FROM ${db}.orderbooks GROUP BY exchange, market_type ORDER BY exchange, market_type`);
  expect(bySource.map((r) => [r.exchange, r.market_type, r.symbols])).toEqual([
    ["binance", "perpetual", symbols],
    ["binance", "spot", symbols],
    ["okx", "perpetual", symbols],
    ["okx", "spot", symbols],
  ]);
  const checks: [string, string][] = [
    // Trades at the generated books' best prices, within 20 ticks of each asset's reference price.
    ["trades", `abs(toFloat64(price) / ${ref} - 1) > 0.001 OR quantity <= 0 OR side NOT IN ('buy', 'sell')`],
    ["orderbooks", `abs(toFloat64(best_bid_price) / ${ref} - 1) > 0.001 OR abs(toFloat64(best_ask_price) / ${ref} - 1) > 0.001`],
    // Funding rates 0.0001 × (1 ± 1) (src/venues/okx/sim-synthetic.ts), mark prices within 0.2 % of the books'.
    ["funding_rates", `funding_rate < 0 OR funding_rate > 0.0002 OR abs(toFloat64(mark_price) / ${ref} - 1) > 0.003 OR next_funding_time <= timestamp`],
    ["open_interests", `NOT ((exchange = 'binance' AND open_interest BETWEEN 95000 AND 105000) OR (exchange = 'okx' AND open_interest BETWEEN 48000 AND 52000))`],
    ["liquidations", `abs(toFloat64(price) / ${ref} - 1) > 0.011 OR quantity <= 0 OR side NOT IN ('buy', 'sell')`],
    // Long and short shares sum to 1 (Binance's four-decimal strings within 0.0002) and give the ratio.
    ["lsr_top_positions", `abs(long_position_ratio + short_position_ratio - 1) > 0.0002 OR abs(toFloat64(long_short_ratio) - toFloat64(long_position_ratio) / toFloat64(short_position_ratio)) > 0.01`],
    ["lsr_all_accounts", `abs(long_account_ratio + short_account_ratio - 1) > 0.0002 OR abs(toFloat64(long_short_ratio) - toFloat64(long_account_ratio) / toFloat64(short_account_ratio)) > 0.01`],
    // DVOL 60 ± 8 for BTC and ETH.
    ["volatility_indices", `index_value < 52 OR index_value > 68 OR symbol NOT IN ('BTC', 'ETH')`],
  ];
  // Book deltas: each book's synced state and its changes, at the generated books' prices (a delete's too).
  const deltaSources = await rows(`SELECT exchange, market_type, arraySort(groupUniqArrayIf(symbol, is_snapshot)) AS synced FROM ${db}.orderbook_deltas GROUP BY exchange, market_type ORDER BY exchange, market_type`);
  expect(deltaSources.map((r) => [r.exchange, r.market_type, r.synced])).toEqual(bySource.map((r) => [r.exchange, r.market_type, r.symbols]));
  checks.push(["orderbook_deltas", `abs(toFloat64(price) / ${ref} - 1) > 0.01 OR amount < 0 OR (is_snapshot AND amount = 0) OR side NOT IN ('bid', 'ask')`]);
  for (const [table, bad] of checks) {
    const [r] = await rows(`SELECT count() AS n, countIf(${bad}) AS bad FROM ${db}.${table}`);
    expect({ table, stored: Number(r?.n) > 0, bad: Number(r?.bad) }).toEqual({ table, stored: true, bad: 0 });
  }
}, 90_000);
