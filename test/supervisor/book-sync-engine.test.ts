import { afterAll, expect, test } from "bun:test";
import pino from "pino";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import type { HealthReport, StatsSnapshot } from "../../src/http/stats-types.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import type { RestLimitScale } from "../../src/venues/connection/rest-budget.ts";
import { freshNatsStore, testDataDir, uniqueDatabase } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The engine syncing 40 Binance spot books on two ingest threads through one REST budget,
 * against the simulator's generator with the venue's limit shrunk to 1,000 weight per 2 s
 * window (engine and simulator take the same scale): the start-up storm needs 2,000 weight, so
 * most books wait their turn. Meanwhile /health says the venue is syncing (200, not failed) and
 * /stats counts the books live, syncing and waiting with an ETA; then every book is live, /health
 * says connected, and the venue never answered 429.
 */

const SCALE: RestLimitScale = { limit: 1000 / 6000, window: 2000 / 60_000 };
const BOOKS = 40;

let sim: Simulator | null = null;
let engine: Engine | null = null;
afterAll(async () => {
  await engine?.stop();
  await sim?.stop();
});

test("a start-up storm of 40 books: logged estimate, /health syncing then connected, /stats books waiting with an ETA, no 429", async () => {
  sim = await startSimulator({ source: generatorSource(BOOKS), rate: 400, rest: { scale: { binance_spot: SCALE } } });
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  freshNatsStore();
  const off = { enabled: false };
  const base = configWith({
    engine: { data_dir: testDataDir(), restart_initial_ms: 50, restart_max_ms: 200 },
    http: { enabled: true, port: 0, clickhouse_port: 0 },
    tiering: off,
    nats: off,
    clickhouse: { hot_database: uniqueDatabase("sync_hot"), cold_database: uniqueDatabase("sync_cold") },
    batch_workers: { trade: 0, orderbook: 1, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0 },
  });
  const config = configWith(
    mergeConfig(mergeConfig(base, replayVenueOverrides(sim)), {
      venues: {
        binance_spot: { enabled: true, workers: 2, data_types: ["orderbook"] },
        binance_derivatives: off,
        okx_spot: off,
        okx_derivatives: off,
        deribit_derivatives: off,
      },
    }),
  );
  engine = new Engine(config, { log, rest_scale: { binance_spot: SCALE } });
  await engine.start();
  const http = engine.httpUrl as string;
  const health = async (): Promise<{ status: number; body: HealthReport }> => {
    const res = await fetch(`${http}/health`);
    return { status: res.status, body: (await res.json()) as HealthReport };
  };
  const stats = async (): Promise<StatsSnapshot> => (await (await fetch(`${http}/stats`)).json()) as StatsSnapshot;

  // One line per venue: 2,000 weight, 153 at once (a storm leaves 15 % of the 180 burst), the
  // rest at 720 per 2 s: about 5 s. Limit 500 weighs 25.
  const estimate = lines.filter((l) => typeof l.msg === "string" && l.msg.startsWith("binance_spot book sync:"));
  expect(estimate.map((l) => l.msg)).toEqual(["binance_spot book sync: 40 books × weight 50 at 72 % of 30,000/min: about 5 s; orderbook.snapshot_limit 500 halves it"]);
  expect(estimate[0]).toMatchObject({ venue: "binance_spot", books: 40, weight: 50, sync_s: 6, suggested_snapshot_limit: 500 });

  let syncing: { status: number; body: HealthReport } | undefined;
  let waitingStats: StatsSnapshot | undefined;
  await waitFor(
    "/health to say syncing",
    async () => {
      const h = await health();
      if (h.body.components["venue:binance_spot"]?.state !== "syncing") return false;
      syncing = h;
      waitingStats = await stats();
      return true;
    },
    20_000,
    50,
  );
  expect(syncing?.status).toBe(200);
  expect(syncing?.body.ok).toBe(true);
  expect(syncing?.body.components["venue:binance_spot"]?.detail).toMatch(/^\d+ of 40 books wait for the REST weight budget, about \d+ s to go$/);
  const during = waitingStats?.venues.binance_spot?.book_sync;
  expect(during?.total).toBe(BOOKS);
  expect(during?.waiting).toBeGreaterThan(0);
  expect(during?.eta_s).toBeGreaterThan(0);
  expect(during?.eta_s).toBeLessThanOrEqual(8);
  expect((during?.live ?? 0) + (during?.syncing ?? 0) + (during?.waiting ?? 0)).toBe(BOOKS);
  expect(waitingStats?.venues.binance_spot?.failing_symbols).toEqual([]);

  await waitFor(
    "every book live and /health connected",
    async () => (await stats()).venues.binance_spot?.book_sync.live === BOOKS && (await health()).body.components["venue:binance_spot"]?.state === "connected",
    30_000,
    100,
  );
  const after = await stats();
  expect(after.venues.binance_spot?.book_sync).toEqual({ total: BOOKS, live: BOOKS, syncing: 0, waiting: 0, eta_s: 0 });
  expect(after.venues.binance_spot?.failing_symbols).toEqual([]);
  expect(after.venues.binance_spot?.rate_limited).toBe(0);
  expect((await health()).status).toBe(200);
  expect(sim.rest_limits.peaks().binance_spot?.request_weight ?? 0).toBeLessThanOrEqual(1000);
  expect(sim.violations.rules()).toEqual({});
}, 90_000);
