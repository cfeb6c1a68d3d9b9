import { afterAll, expect, test } from "bun:test";
import { canonicalLevels, rebuildBook } from "../../src/book/rebuild.ts";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import type { VenueKey } from "../../src/config/schema.ts";
import { createLogger } from "../../src/log/logger.ts";
import type { Exchange, MarketType } from "../../src/records/types.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { typeCounter } from "../../src/stats/layout.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { freshNatsStore, testClickHouse, testDataDir, uniqueDatabase, testRows } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Lossless book history end to end: the engine (real embedded nats-server, chDB) collects
 * orderbook and orderbook_delta on both Binance and both OKX venues from the simulator's
 * generator at live rates; a `sequence_gap` fault on one Binance and one OKX venue breaks their
 * update chains, so their books resync (a REST snapshot on Binance, a resubscribe on OKX) and
 * emit a new snapshot row set. Afterwards, at random instants that are stored `orderbooks`
 * timestamps, before and after the resyncs, the book rebuilt from `orderbook_deltas`
 * (src/book/rebuild.ts) equals the stored top-N row to its depth, level for level.
 */

const VENUES = ["binance_spot", "binance_derivatives", "okx_spot", "okx_derivatives"] as const satisfies readonly VenueKey[];
const FAULTED: readonly VenueKey[] = ["binance_spot", "okx_derivatives"];
const VENUE_OF: Record<(typeof VENUES)[number], [Exchange, MarketType]> = {
  binance_spot: ["binance", "spot"],
  binance_derivatives: ["binance", "perpetual"],
  okx_spot: ["okx", "spot"],
  okx_derivatives: ["okx", "perpetual"],
};
const DEPTH = 100;
const INSTANTS_PER_VENUE = 25;

let sim: Simulator | null = null;
let engine: Engine | null = null;
afterAll(async () => {
  await engine?.stop();
  await sim?.stop();
});

/** `n` of `items` drawn without replacement by a seeded generator (a failure names its seed). */
function sample<T>(items: readonly T[], n: number, seed: number): T[] {
  const pool = [...items];
  let s = seed >>> 0;
  const out: T[] = [];
  while (out.length < n && pool.length > 0) {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    out.push(pool.splice(s % pool.length, 1)[0] as T);
  }
  return out;
}

test("books rebuilt from orderbook_deltas at random stored instants equal the stored orderbooks rows, across forced resyncs on Binance and OKX", async () => {
  sim = await startSimulator({ source: generatorSource(2), rate: "live" });
  const s = sim;
  freshNatsStore();
  const hot = uniqueDatabase("deltas_hot");
  const off = { enabled: false };
  const both = ["orderbook", "orderbook_delta"];
  const config = configWith(
    mergeConfig(
      mergeConfig(
        configWith({
          engine: { data_dir: testDataDir() },
          http: off,
          tiering: off,
          nats: { embedded: { port: 0 } },
          clickhouse: { hot_database: hot, cold_database: uniqueDatabase("deltas_cold") },
          batch_workers: { trade: 0, orderbook_delta: 1 },
          batching: { orderbook: { linger_ms: 200 }, orderbook_delta: { linger_ms: 200 }, gap: { linger_ms: 200 } },
          // Five top-N rows a second per symbol: instants enough to draw from in a few seconds.
          orderbook: { depth: DEPTH, snapshot_interval_ms: 200 },
        }),
        replayVenueOverrides(s),
      ),
      {
        venues: {
          binance_spot: { enabled: true, data_types: both },
          binance_derivatives: { enabled: true, data_types: both },
          okx_spot: { enabled: true, data_types: both },
          okx_derivatives: { enabled: true, data_types: both },
          deribit_derivatives: off,
        },
      },
    ),
  );
  engine = new Engine(config, { log: createLogger("silent") });
  await engine.start();
  const e = engine;
  await waitFor("book deltas stored", () => e.counters.read(typeCounter("orderbook_delta", "stored")) > 0, 30_000);
  const synced = async (): Promise<Map<string, number>> => {
    const r = await testRows<{ venue: string; n: string }>(
      `SELECT concat(exchange, ':', market_type) AS venue, toString(uniqExact(symbol, update_id, timestamp)) AS n FROM ${hot}.orderbook_deltas WHERE is_snapshot GROUP BY venue`,
    );
    return new Map(r.map((x) => [x.venue, Number(x.n)]));
  };
  await waitFor("every venue's books synced and stored", async () => (await synced()).size === 4, 30_000, 250);
  const before = await synced();

  // Break the chains of one Binance and one OKX venue: a skipped update per symbol a second.
  for (const venue of FAULTED) s.fault({ venue, kind: "sequence_gap", seconds: 2 });
  await waitFor("the faults end", () => s.faults().length === 0, 10_000, 100);
  await waitFor(
    "the faulted books resynced: a new snapshot row set each",
    async () => {
      const now = await synced();
      return FAULTED.every((v) => {
        const key = VENUE_OF[v as (typeof VENUES)[number]].join(":");
        return (now.get(key) ?? 0) > (before.get(key) ?? 0);
      });
    },
    30_000,
    250,
  );
  // Changes after the resyncs, then stop: stopping flushes every batch. Each venue needs more
  // stored instants than are drawn from it, and three more seconds of them (2 symbols x 5 a second).
  const books_now = async (): Promise<Map<string, number>> =>
    new Map(
      (await testRows<{ venue: string; n: string }>(`SELECT concat(exchange, ':', market_type) AS venue, toString(count()) AS n FROM ${hot}.orderbooks FINAL GROUP BY venue`)).map((r) => [
        r.venue,
        Number(r.n),
      ]),
    );
  const at_resync = await books_now();
  await waitFor(
    "three more seconds of books on every venue",
    async () => {
      const now = await books_now();
      return VENUES.every((v) => {
        const key = VENUE_OF[v].join(":");
        const n = now.get(key) ?? 0;
        return n > INSTANTS_PER_VENUE && n >= (at_resync.get(key) ?? 0) + 2 * 5 * 3;
      });
    },
    30_000,
    250,
  );
  await e.stop();
  engine = null;

  const breaks = await testRows<{ venue: string; n: string }>(
    `SELECT concat(exchange, ':', market_type) AS venue, toString(count()) AS n FROM ${hot}.gaps WHERE data_type_affected = 'orderbook' AND cause = 'sequence_gap' GROUP BY venue ORDER BY venue`,
  );
  expect(breaks.map((b) => b.venue)).toEqual(["binance:spot", "okx:perpetual"]);

  const client = testClickHouse();
  const seed = Date.now() % 1_000_000;
  let compared = 0;
  // Rebuilds that started from a resync's snapshot row set, not a symbol's first one.
  const firstSync = new Map(
    (await testRows<{ key: string; ts: string | number }>(`SELECT concat(exchange, ':', market_type, ':', symbol) AS key, toUnixTimestamp64Milli(min(timestamp)) AS ts FROM ${hot}.orderbook_deltas WHERE is_snapshot GROUP BY key`)).map((r) => [r.key, Number(r.ts)]),
  );
  const fromResync = new Map<string, number>();
  for (const venue of VENUES) {
    const [exchange, market_type] = VENUE_OF[venue];
    type BookRow = { symbol: string; ts: string | number; uid: string; bids: string; asks: string };
    const stored = await testRows<BookRow>(
      `SELECT symbol, toUnixTimestamp64Milli(timestamp) AS ts, toString(last_update_id) AS uid, bids, asks FROM ${hot}.orderbooks FINAL WHERE exchange = '${exchange}' AND market_type = '${market_type}' ORDER BY timestamp`,
    );
    expect(stored.length).toBeGreaterThan(INSTANTS_PER_VENUE);
    // The last stored instant of each symbol too: it comes after any resync.
    const lasts = [...new Map(stored.map((r) => [r.symbol, r])).values()];
    for (const row of [...lasts, ...sample(stored, INSTANTS_PER_VENUE, seed + compared)]) {
      const at_ms = Number(row.ts);
      const book = await rebuildBook(client, [hot], { exchange, market_type, symbol: row.symbol, at_ms, depth: DEPTH });
      const what = { seed, venue, symbol: row.symbol, at_ms };
      expect({ ...what, update_id: book?.update_id, bids: book?.bids, asks: book?.asks }).toEqual({
        ...what,
        update_id: Number(row.uid),
        bids: canonicalLevels(JSON.parse(row.bids) as [string, string][]),
        asks: canonicalLevels(JSON.parse(row.asks) as [string, string][]),
      });
      compared++;
      if ((book?.snapshot_ts_ms ?? 0) > (firstSync.get(`${exchange}:${market_type}:${row.symbol}`) ?? Infinity)) fromResync.set(venue, (fromResync.get(venue) ?? 0) + 1);
    }
  }
  for (const venue of FAULTED) expect({ venue, from_resync: (fromResync.get(venue) ?? 0) > 0 }).toEqual({ venue, from_resync: true });
  expect(compared).toBeGreaterThanOrEqual(4 * INSTANTS_PER_VENUE);
  expect(s.violations.rules()).toEqual({});
}, 180_000);
