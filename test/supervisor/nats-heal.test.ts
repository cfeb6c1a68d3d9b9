import { afterAll, describe, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { createLogger } from "../../src/log/logger.ts";
import { typeCounter } from "../../src/stats/layout.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { freshNatsStore, testClickHouse, testDataDir, uniqueDatabase } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

const log = createLogger("silent");

function healConfig(): Config {
  freshNatsStore();
  const off = { enabled: false };
  return configWith({
    engine: { data_dir: testDataDir(), shutdown_deadline_ms: 20000, restart_initial_ms: 50, restart_max_ms: 200 },
    http: { enabled: true, port: 0, clickhouse_port: 0 },
    tiering: { enabled: false },
    ring: { capacity_bytes: 1 << 20 },
    // Acks the killed server had not stored come back after ack_wait: 2 s keeps the test short.
    nats: { embedded: { port: 0 }, consumer: { ack_wait_ms: 2000 } },
    clickhouse: { hot_database: uniqueDatabase("heal_hot"), cold_database: uniqueDatabase("heal_cold") },
    venues: {
      binance_spot: { enabled: true, symbols: ["A", "B"], workers: 2, data_types: ["trade"] },
      binance_derivatives: off,
      okx_spot: off,
      okx_derivatives: off,
      deribit_derivatives: off,
    },
    batch_workers: { trade: 2, orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0 },
    batching: { trade: { max_rows: 20000, linger_ms: 200 } },
  });
}

async function storedTrades(db: string): Promise<{ rows: number; unique: number; final: number; min: number; max: number }> {
  const rs = await testClickHouse().query({
    query: `SELECT count() AS rows, uniqExact(trade_id) AS unique, (SELECT count() FROM ${db}.trades FINAL) AS final,
                   min(toUInt64(trade_id)) AS min, max(toUInt64(trade_id)) AS max FROM ${db}.trades`,
    format: "JSONEachRow",
  });
  const [row] = (await rs.json()) as Record<string, string | number>[];
  return { rows: Number(row?.rows), unique: Number(row?.unique), final: Number(row?.final), min: Number(row?.min), max: Number(row?.max) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const engines: Engine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop()));
});

describe("the embedded nats-server killed mid-stream", () => {
  test("is started again on the same port twice, /health comes back to 200, and every sequence number is stored exactly once", async () => {
    const config = healConfig();
    const per_worker = 30000;
    const engine = new Engine(config, { log, synthetic: { records: per_worker, rate: 8000 } });
    engines.push(engine);
    await engine.start();
    const http = engine.httpUrl;
    const url = engine.natsServerUrl;
    if (http === null || url === null) throw new Error("engine without HTTP or NATS");
    const health = async () => (await fetch(`${http}/health`)).status;
    expect(await health()).toBe(200);
    const ingested = engine.counters.slot(typeCounter("trade", "ingested"));

    const ingestedAtKill: number[] = [];
    for (const [kill, after] of [[1, 10000], [2, 30000]] as const) {
      await waitFor(`${after} trades ingested`, () => engine.counters.get(ingested) >= after, 60000);
      const pid = engine.natsServerPid;
      if (pid === null) throw new Error("no embedded nats-server");
      process.kill(pid, "SIGKILL");
      ingestedAtKill.push(engine.counters.get(ingested));
      await waitFor("the killed nats-server to be gone", () => !alive(pid), 10000);
      // The records on their way meanwhile wait in rings and publish windows.
      await waitFor(`nats-server restart ${kill}`, () => engine.stats().nats.restarts === kill && engine.natsServerPid !== pid, 30000);
      expect(engine.natsServerUrl).toBe(url);
      await waitFor("/health to be 200 again", async () => (await health()) === 200, 30000, 50);
    }
    // Both kills came mid-stream.
    for (const n of ingestedAtKill) expect(n).toBeLessThan(2 * per_worker);

    const db = config.clickhouse.hot_database;
    await waitFor("every trade stored", async () => (await storedTrades(db)).unique === 2 * per_worker, 90000, 100);
    const stats = engine.stats();
    expect(stats.nats.restarts).toBe(2);
    expect(stats.data_types.trade?.dropped).toBe(0);
    expect(stats.data_types.trade?.publish_errors).toBeGreaterThan(0);
    const metrics = parsePrometheusTextFormat(await (await fetch(`${http}/metrics`)).text()) as { name: string; metrics: { value: string }[] }[];
    expect(metrics.find((f) => f.name === "spectra_nats_restarts_total")?.metrics).toEqual([{ value: "2" }]);
    await engine.stop();
    expect(await storedTrades(db)).toEqual({ rows: 2 * per_worker, unique: 2 * per_worker, final: 2 * per_worker, min: 0, max: 2 * per_worker - 1 });
  });
});
