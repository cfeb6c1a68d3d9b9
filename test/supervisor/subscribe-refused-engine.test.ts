import { afterAll, expect, test } from "bun:test";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { freshNatsStore, testDataDir, uniqueDatabase, testRows } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

/**
 * One OKX instrument whose subscribe the venue refuses (the simulator's `subscribe_refused`
 * fault: error 60018 for each of its args), end to end through the engine (real embedded
 * nats-server, chDB): /stats lists exactly that symbol as failing with kind `subscribe_refused`
 * and the venue's answer, the engine keeps asking for it (attempts grow) without reconnecting,
 * the venue's other symbols keep storing trades and books, and the refused one stores nothing.
 * That the symbol syncs once the venue serves it again is tested on the ingest runner
 * (test/connection/symbol-failures.test.ts).
 */

let sim: Simulator | null = null;
let engine: Engine | null = null;
afterAll(async () => {
  await engine?.stop();
  await sim?.stop();
});

test("a refused OKX instrument is the one failing symbol in /stats while the venue's other symbols keep storing trades and books", async () => {
  sim = await startSimulator({ source: generatorSource(3), rate: 300 });
  const s = sim;
  freshNatsStore();
  const hot = uniqueDatabase("refused_hot");
  const off = { enabled: false };
  const config = configWith(
    mergeConfig(
      mergeConfig(
        configWith({
          engine: { data_dir: testDataDir() },
          log: { level: "silent" },
          http: off,
          tiering: off,
          nats: { embedded: { port: 0 } },
          clickhouse: { hot_database: hot, cold_database: uniqueDatabase("refused_cold") },
          batching: { trade: { linger_ms: 200 }, orderbook: { linger_ms: 200 }, gap: { linger_ms: 200 } },
        }),
        replayVenueOverrides(s),
      ),
      {
        venues: {
          binance_spot: off,
          binance_derivatives: off,
          okx_spot: { enabled: true, data_types: ["trade", "orderbook"] },
          okx_derivatives: off,
          deribit_derivatives: off,
        },
      },
    ),
  );
  // Refused from the engine's first subscribe for longer than the test runs.
  s.fault({ venue: "okx_spot", kind: "subscribe_refused", symbol: "ETH-USDT", seconds: 120 });
  engine = new Engine(config, { log: createLogger("silent") });
  await engine.start();
  const e = engine;
  const failing = () => e.stats().venues.okx_spot?.failing_symbols ?? [];
  await waitFor("ETH-USDT listed as failing", () => failing().length > 0, 15_000, 50);
  expect(failing()).toEqual([
    {
      native: "ETH-USDT",
      kind: "subscribe_refused",
      detail:
        "books:ETH-USDT, trades:ETH-USDT: 60018 Wrong URL or channel:trades,instId:ETH-USDT doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
      attempts: 1,
      since_ms: expect.any(Number),
    },
  ]);

  type Count = { table: string; symbol: string; n: string };
  const counts = async (): Promise<Record<string, number>> => {
    const got = await testRows<Count>(
      `SELECT 'trades' AS table, symbol, toString(count()) AS n FROM ${hot}.trades GROUP BY symbol
       UNION ALL SELECT 'orderbooks' AS table, symbol, toString(count()) AS n FROM ${hot}.orderbooks GROUP BY symbol`,
    );
    return Object.fromEntries(got.map((r) => [`${r.table}:${r.symbol}`, Number(r.n)]));
  };
  const others = ["trades:BTC-USDT", "trades:SOL-USDT", "orderbooks:BTC-USDT", "orderbooks:SOL-USDT"];
  await waitFor(
    "trades and books of the other symbols stored",
    async () => {
      const now = await counts();
      return others.every((k) => (now[k] ?? 0) > 0);
    },
    20_000,
    250,
  );
  const before = await counts();
  await waitFor(
    "the other symbols' stored rows grow",
    async () => {
      const now = await counts();
      return others.every((k) => (now[k] ?? 0) > (before[k] ?? 0));
    },
    10_000,
    250,
  );
  // A retry round (1 s after the refusal) was refused again: still the one failing symbol.
  await waitFor("a refused retry", () => (failing()[0]?.attempts ?? 0) >= 2, 5000, 50);
  expect(failing().map((f) => [f.native, f.kind])).toEqual([["ETH-USDT", "subscribe_refused"]]);
  const after = await counts();
  expect(Object.keys(after).sort()).toEqual([...others].sort());
  expect(e.stats().venues.okx_spot?.reconnects).toBe(0);
  expect(e.stats().venues.okx_spot?.state).toBe("connected");
  expect(s.violations.rules()).toEqual({});
}, 30_000);
