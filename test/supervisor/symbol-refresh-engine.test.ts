import { afterAll, beforeAll, expect, test } from "bun:test";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { RECORD_TYPES } from "../../src/records/types.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { ingestShards } from "../../src/supervisor/topology.ts";
import { testDataDir } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

const log = createLogger("silent");
let sim: Simulator;
let engine: Engine | null = null;

beforeAll(async () => {
  sim = await startSimulator({ source: generatorSource(3), rate: 300, synthetic_interval_ms: 100 });
});

afterAll(async () => {
  await engine?.stop();
  expect(sim.violations.rules()).toEqual({});
  await sim.stop();
});

/** Books the engine's ingest workers last reported for `venue`, by native id, with their state. */
function books(e: Engine, venue: string): Record<string, string> {
  return Object.fromEntries((e.stats().books[venue] ?? []).map((b) => [b.native, b.state]));
}

test("the supervisor shards a selector's symbols, sends listings to the least loaded worker and delistings to their owner, and a restarted worker keeps its new symbols", async () => {
  sim.listing.unlisted.add("SOLUSDT");
  const off = { enabled: false };
  const config = configWith(
    mergeConfig(replayVenueOverrides(sim), {
      engine: { data_dir: testDataDir() },
      http: off,
      nats: off,
      clickhouse: off,
      tiering: off,
      batch_workers: Object.fromEntries(RECORD_TYPES.map((t) => [t, 0])),
      venues: {
        binance_spot: { symbols: { quote: ["USDT"] }, workers: 2, data_types: ["trade", "orderbook"], instruments_refresh_s: 3600 },
        binance_derivatives: off,
        okx_spot: off,
        okx_derivatives: off,
        deribit_derivatives: off,
      },
    }),
  );
  const served = sim.listing.served;
  engine = new Engine(config, { log });
  await engine.start();
  const e = engine;
  expect(ingestShards(e.plan).map((i) => [i.id, i.symbols])).toEqual([
    ["ingest:binance_spot:0", ["BTCUSDT"]],
    ["ingest:binance_spot:1", ["ETHUSDT"]],
  ]);
  expect(e.stats().venues.binance_spot?.symbols).toMatchObject({ resolved: 2, refreshes: 1, refresh_failures: 0 });
  await waitFor("both books live", () => books(e, "binance_spot").BTCUSDT === "live" && books(e, "binance_spot").ETHUSDT === "live", 20_000);
  // The supervisor read the metadata once; its two workers started from what it read.
  expect(sim.listing.served - served).toBe(1);
  const connects = sim.connects.binance_spot;

  sim.listing.unlisted.delete("SOLUSDT");
  sim.listing.unlisted.add("BTCUSDT");
  await e.refreshInstruments();
  // BTCUSDT left worker 0, which then held the fewest symbols and took SOLUSDT.
  const ingest = e.workers.filter((w) => w.init.kind === "ingest");
  expect(ingest.map((w) => (w.init.kind === "ingest" ? w.init.shards.flatMap((s) => s.symbols) : []))).toEqual([["SOLUSDT"], ["ETHUSDT"]]);
  await waitFor("SOLUSDT live, BTCUSDT gone", () => books(e, "binance_spot").SOLUSDT === "live" && books(e, "binance_spot").BTCUSDT === undefined, 20_000);
  const stats = e.stats().venues.binance_spot?.symbols;
  expect(stats).toMatchObject({ resolved: 2, added: 1, removed: 1, refreshes: 2 });
  expect(stats?.changes.map((c) => [c.symbol, c.change])).toEqual([["SOLUSDT", "added"], ["BTCUSDT", "removed"]]);
  expect(ingest.map((w) => w.restarts)).toEqual([0, 0]);
  expect(e.stats().venues.binance_spot?.reconnects).toBe(0);
  expect(sim.connects.binance_spot).toBe(connects);

  // A worker thread that dies comes back with the symbols it holds now, not those it started with.
  await ingest[0]?.kill();
  await waitFor("worker 0 restarted", () => (ingest[0]?.restarts ?? 0) >= 1 && ingest[0]?.state === "running", 20_000);
  await waitFor("SOLUSDT live again", () => books(e, "binance_spot").SOLUSDT === "live", 20_000);
  expect(Object.keys(books(e, "binance_spot")).sort()).toEqual(["ETHUSDT", "SOLUSDT"]);
  // Start and the refresh read the metadata; the restarted worker did not (SOLUSDT's came with the refresh).
  expect(sim.listing.served - served).toBe(2);
}, 90_000);
