import { afterAll, expect, test } from "bun:test";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import type { VenueKey } from "../../src/config/schema.ts";
import { createLogger } from "../../src/log/logger.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { typeCounter } from "../../src/stats/layout.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { freshNatsStore, testDataDir, uniqueDatabase, testRows } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Trade backfill end to end (src/venues/trade-gaps.ts): the engine (real embedded nats-server,
 * chDB) collects trades of every venue that has them from the simulator's generator at live
 * rates, each venue's connections are cut for 5 s (`disconnect` fault), and afterwards:
 * - every symbol's stored trade ids are exactly the venue's own ids from the first stored to
 *   the last, hole included (the simulator's REST history is the venue's id sequence: spot
 *   Binance trade ids step by 4, and steps without trades skip ids);
 * - no trade is stored twice under FINAL;
 * - each symbol's trade gap row says what came back (`recovered_records`, `recovered_at`).
 * Deribit collects no trades (SPEC section 1), so it has no trade stream to cut.
 */

const VENUES = ["binance_spot", "binance_derivatives", "okx_spot", "okx_derivatives"] as const satisfies readonly VenueKey[];
const EXCHANGE: Record<(typeof VENUES)[number], [string, string]> = {
  binance_spot: ["binance", "spot"],
  binance_derivatives: ["binance", "perpetual"],
  okx_spot: ["okx", "spot"],
  okx_derivatives: ["okx", "perpetual"],
};

let sim: Simulator | null = null;
let engine: Engine | null = null;
afterAll(async () => {
  await engine?.stop();
  await sim?.stop();
});

/** The normalized symbol of a generated native id (BTCUSDT, BTC-USDT, BTC-USDT-SWAP -> BTC-USDT). */
function symbolOf(venue: VenueKey, native: string): string {
  return venue.startsWith("binance") ? native.replace(/USDT$/, "-USDT") : native.replace(/-SWAP$/, "");
}

/** Ms between the test's history pages: OKX allows 20 `history-trades` requests per 2 s. */
const PAGE_GAP_MS = 120;

/**
 * One REST history page from the simulator as a client pages it: paced, and a 429 (the venue's
 * window still holds the engine's own backfill pages) waited out and asked again, so a refused
 * page is never read as the end of the history.
 */
async function page<T>(url: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await Bun.sleep(PAGE_GAP_MS);
    const res = await fetch(url);
    if (res.status === 429 && attempt < 10) {
      await Bun.sleep(Math.max(1000, Number(res.headers.get("retry-after") ?? 0) * 1000));
      continue;
    }
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
}

/** The venue's trade ids of `native` from `lo` to `hi`, read from the simulator's REST history as a client pages it. */
async function venueIds(s: Simulator, venue: VenueKey, native: string, lo: number, hi: number): Promise<number[]> {
  const ids: number[] = [];
  if (venue.startsWith("binance")) {
    const path = venue === "binance_spot" ? "/api/v3/historicalTrades" : "/fapi/v1/aggTrades";
    for (let from = lo; from <= hi; ) {
      const got = (await page<{ id?: number; a?: number }[]>(`${s.url}/${venue}${path}?symbol=${native}&limit=1000&fromId=${from}`)).map((t) => Number(t.id ?? t.a));
      ids.push(...got.filter((id) => id <= hi));
      if (got.length < 1000) break;
      from = Math.max(...got) + 1;
    }
    return ids;
  }
  for (let after = hi + 1; after > lo; ) {
    const body = await page<{ data: { tradeId: string }[] }>(`${s.url}/${venue}/api/v5/market/history-trades?instId=${native}&type=1&limit=100&after=${after}`);
    const got = body.data.map((t) => Number(t.tradeId));
    ids.push(...got.filter((id) => id >= lo));
    if (got.length < 100) break;
    after = Math.min(...got);
  }
  return ids.sort((a, b) => a - b);
}

test("after a 5 s disconnect of each venue, stored trade ids run unbroken across the hole, none twice under FINAL, and the gaps say what came back", async () => {
  sim = await startSimulator({ source: generatorSource(2), rate: "live" });
  const s = sim;
  freshNatsStore();
  const hot = uniqueDatabase("backfill_hot");
  const off = { enabled: false };
  const config = configWith(
    mergeConfig(
      mergeConfig(
        configWith({
          engine: { data_dir: testDataDir() },
          http: off,
          tiering: off,
          nats: { embedded: { port: 0 } },
          clickhouse: { hot_database: hot, cold_database: uniqueDatabase("backfill_cold") },
          batching: { trade: { linger_ms: 200 }, gap: { linger_ms: 200 } },
        }),
        replayVenueOverrides(s),
      ),
      {
        venues: {
          binance_spot: { enabled: true, data_types: ["trade"] },
          binance_derivatives: { enabled: true, data_types: ["trade"] },
          okx_spot: { enabled: true, data_types: ["trade"] },
          okx_derivatives: { enabled: true, data_types: ["trade"] },
          deribit_derivatives: off,
        },
      },
    ),
  );
  engine = new Engine(config, { log: createLogger("silent") });
  await engine.start();
  const e = engine;
  await waitFor("trades stored", () => e.counters.read(typeCounter("trade", "stored")) > 0, 30_000);
  await waitFor(
    "every venue's trades stored",
    async () => (await testRows<{ n: number }>(`SELECT uniqExact(exchange, market_type) AS n FROM ${hot}.trades`))[0]?.n === 4,
    30_000,
    250,
  );

  for (const venue of VENUES) s.fault({ venue, kind: "disconnect", seconds: 5 });
  await waitFor("the faults end", () => s.faults().length === 0, 10_000, 100);

  // Each symbol's trade gap is stored again with its recovery once the backfill ended.
  const symbols = VENUES.flatMap((venue) => s.symbols[venue].map((native) => ({ venue, native, symbol: symbolOf(venue, native) })));
  type GapRow = { exchange: string; market_type: string; symbol: string; cause: string; recovered_records: number; recovered_at: number };
  let gaps: GapRow[] = [];
  await waitFor(
    "every symbol's trade gap recovered",
    async () => {
      gaps = await testRows<GapRow>(
        `SELECT exchange, market_type, symbol, cause, recovered_records, toUnixTimestamp64Milli(recovered_at) AS recovered_at FROM ${hot}.gaps FINAL ` +
          `WHERE data_type_affected = 'trade' SETTINGS output_format_json_quote_64bit_integers = 0`,
      );
      return symbols.every(({ venue, symbol }) => gaps.some((g) => [g.exchange, g.market_type].join() === EXCHANGE[venue].join() && g.symbol === symbol && g.recovered_at > 0));
    },
    90_000,
    500,
  );
  // Stopping flushes every batch: the trades after the hole are stored with the rest.
  await e.stop();
  engine = null;
  // The engine kept within every limit; the reads below are the test's own client.
  expect(s.violations.rules()).toEqual({});

  for (const { venue, native, symbol } of symbols) {
    const [exchange, market_type] = EXCHANGE[venue];
    const where = `exchange = '${exchange}' AND market_type = '${market_type}' AND symbol = '${symbol}'`;
    const stored = (await testRows<{ id: number }>(`SELECT toUInt64(trade_id) AS id FROM ${hot}.trades FINAL WHERE ${where} ORDER BY id SETTINGS output_format_json_quote_64bit_integers = 0`)).map((r) => r.id);
    const lo = stored[0] ?? 0;
    const hi = stored.at(-1) ?? 0;
    expect(stored.length).toBeGreaterThan(0);
    // Nothing twice: FINAL keeps one row per sort key, and a trade stored under two timestamps would be two.
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored).toEqual(await venueIds(s, venue, native, lo, hi));
    const own = gaps.filter((g) => g.symbol === symbol && [g.exchange, g.market_type].join() === EXCHANGE[venue].join());
    expect(own.every((g) => g.cause === "reconnect")).toBe(true);
  }
  // The holes were real: trades came back on every venue.
  for (const venue of VENUES) {
    const recovered = gaps.filter((g) => [g.exchange, g.market_type].join() === EXCHANGE[venue].join()).reduce((n, g) => n + g.recovered_records, 0);
    expect(recovered).toBeGreaterThan(0);
  }
}, 180_000);
