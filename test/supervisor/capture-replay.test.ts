import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { DATA_TYPES } from "../../src/records/types.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startReplay, type Replay } from "../../src/replay/replay-mode.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { recordingsSource } from "../../src/replay/source.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { VENUES } from "../../src/venues/registry.ts";
import { freshNatsStore, testClickHouse, testDataDir, uniqueDatabase } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

const log = createLogger("silent");
let engine: Engine | null = null;
let replay: Replay | null = null;
const capture = mkdtempSync(join(tmpdir(), "spectra-capture-"));
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

/** One engine run against the generator for `ms`, recording to `record`; returns its hot database. */
async function run(ms: number, record: string): Promise<string> {
  const base = {
    engine: { data_dir: testDataDir() },
    http: { enabled: false },
    tiering: { enabled: false },
    nats: { embedded: { port: 0 } },
    replay: { rate: "live" as const },
    clickhouse: { hot_database: uniqueDatabase("capture_hot"), cold_database: uniqueDatabase("capture_cold") },
    batching: Object.fromEntries(DATA_TYPES.map((t) => [t, { linger_ms: 200 }])),
  };
  freshNatsStore();
  replay = await startReplay(configWith(base), null, log, true);
  const config = configWith(mergeConfig(base, replay.overrides));
  engine = new Engine(config, { log, record_dir: record });
  await engine.start();
  await Bun.sleep(ms);
  await engine.stop();
  engine = null;
  await replay.stop();
  replay = null;
  return config.clickhouse.hot_database;
}

/** Trades as compared across runs: everything but the local receive time. */
interface TradeRow {
  exchange: string;
  market_type: string;
  symbol: string;
  trade_id: string;
  price: string;
  quantity: string;
  side: string;
  is_maker: boolean;
  ts: number;
  trade_time: number;
}

/** Book rows as compared across runs. */
interface BookRow {
  exchange: string;
  market_type: string;
  symbol: string;
  ts: number;
  last_update_id: number;
  bids: string;
  asks: string;
}

const RAW = "SETTINGS output_format_json_quote_64bit_integers = 0";

async function trades(db: string): Promise<TradeRow[]> {
  return (await rows(
    `SELECT exchange, market_type, symbol, trade_id, toString(price) AS price, toString(quantity) AS quantity, side, is_maker, ` +
      `toUnixTimestamp64Milli(timestamp) AS ts, toUnixTimestamp64Milli(trade_time) AS trade_time FROM ${db}.trades FINAL ${RAW}`,
  )) as unknown as TradeRow[];
}

async function books(db: string): Promise<BookRow[]> {
  return (await rows(
    `SELECT exchange, market_type, symbol, toUnixTimestamp64Milli(timestamp) AS ts, last_update_id, bids, asks FROM ${db}.orderbooks FINAL ` +
      `WHERE exchange != 'deribit' ORDER BY ts ${RAW}`,
  )) as unknown as BookRow[];
}

const venueOf = (r: { exchange: string; market_type: string }): string => `${r.exchange}_${r.market_type === "spot" ? "spot" : "derivatives"}`;
const bookKey = (r: BookRow): string => `${r.exchange}|${r.market_type}|${r.symbol}`;

/**
 * The replay's shifts of each stored symbol (`exchange|market_type|symbol`): the simulator
 * names symbols natively, the store in normal form (BTCUSDT, BTC-USDT-SWAP -> BTC-USDT).
 */
function shiftsBySymbol(sim: Simulator): Map<string, { time: number; update: number; trade: number }> {
  const out = new Map<string, { time: number; update: number; trade: number }>();
  for (const venue of Object.keys(VENUES) as (keyof typeof VENUES)[]) {
    const [exchange, market] = venue.split("_") as [string, string];
    for (const native of sim.symbols[venue]) {
      const symbol = exchange === "binance" ? native.replace(/USDT$/, "-USDT") : native.replace(/-SWAP$/, "");
      const shifts = sim.replayShifts(venue, native);
      if (shifts !== undefined) out.set(`${exchange}|${market === "spot" ? "spot" : "perpetual"}|${symbol}`, shifts);
    }
  }
  return out;
}

/** Per venue, how many streams the simulator's open connections are subscribed to. */
async function subscriptions(sim: Simulator): Promise<string> {
  const stats = (await (await fetch(`${sim.url}/simulator/stats`)).json()) as { subscriptions: Record<string, number[]> };
  return JSON.stringify(Object.entries(stats.subscriptions).map(([venue, subs]) => [venue, subs.reduce((a, b) => a + b, 0)]).sort());
}

test("a 30 s --record capture of the generator reads back as a capture and replays whole: the replay stores the recorded run's trades and books", async () => {
  try {
    const recorded_db = await run(30_000, capture);
    const recorded_trades = await trades(recorded_db);
    const recorded_books = await books(recorded_db);
    expect([...new Set(recorded_trades.map(venueOf))].sort()).toEqual(["binance_derivatives", "binance_spot", "okx_derivatives", "okx_spot"]);
    const source = recordingsSource(capture);
    expect(source.unclaimed).toEqual([]);
    for (const venue of Object.values(VENUES)) {
      expect({ file: venue.recording_file, ws: source.read(venue.recording_file).some((l) => l.source === "ws") }).toEqual({ file: venue.recording_file, ws: true });
      const reference = `reference/${venue.instruments.reference_file}`;
      expect({ reference, lines: source.read(reference).length > 0 }).toEqual({ reference, lines: true });
    }
    // Binance books sync from REST depth snapshots, which the capture holds beside the frames.
    expect(source.read("binance_spot.jsonl").some((l) => l.source === "http" && new URL(l.url).pathname.endsWith("/api/v3/depth"))).toBe(true);

    // The replay: the simulator holds the capture until the engine has subscribed everything, so
    // the first loop reaches it whole, then plays it as fast as the engine takes it.
    const sim = await startSimulator({ source, rate: 1000, hold: true });
    try {
      freshNatsStore();
      const config = configWith(
        mergeConfig(
          {
            engine: { data_dir: testDataDir() },
            http: { enabled: false },
            tiering: { enabled: false },
            nats: { embedded: { port: 0 } },
            clickhouse: { hot_database: uniqueDatabase("replayed_hot"), cold_database: uniqueDatabase("replayed_cold") },
            batching: Object.fromEntries(DATA_TYPES.map((t) => [t, { linger_ms: 200 }])),
          },
          replayVenueOverrides(sim),
        ),
      );
      const db = config.clickhouse.hot_database;
      engine = new Engine(config, { log });
      await engine.start();
      let last = "";
      let stable_since = performance.now();
      await waitFor(
        "the engine's subscriptions to settle",
        async () => {
          const now = await subscriptions(sim);
          if (now !== last) [last, stable_since] = [now, performance.now()];
          return last !== "[]" && performance.now() - stable_since > 1500;
        },
        30_000,
        100,
      );
      sim.release();

      // Every recorded record maps to the replay's first loop by the simulator's shifts.
      const shifts = shiftsBySymbol(sim);
      const shiftOf = (r: { exchange: string; market_type: string; symbol: string }) => {
        const found = shifts.get(`${r.exchange}|${r.market_type}|${r.symbol}`);
        if (found === undefined) throw new Error(`no replay shifts for ${venueOf(r)} ${r.symbol}`);
        return found;
      };
      const expected_trades = recorded_trades.map((t) => {
        const sh = shiftOf(t);
        const id = Number(t.trade_id) + sh.trade;
        return { ...t, trade_id: String(id), ts: t.ts + sh.time, trade_time: t.trade_time + sh.time };
      });
      const first_loop = (t: TradeRow): boolean => {
        const mapped = expected_trades.filter((e) => e.symbol === t.symbol && e.exchange === t.exchange && e.market_type === t.market_type);
        return mapped.length > 0 && Number(t.trade_id) <= Math.max(...mapped.map((e) => Number(e.trade_id)));
      };
      let replayed_trades: TradeRow[] = [];
      await waitFor(
        "the replay's first loop of trades stored",
        async () => {
          replayed_trades = (await trades(db)).filter(first_loop);
          return replayed_trades.length >= expected_trades.length;
        },
        90_000,
        500,
      );
      await engine.stop();
      engine = null;

      const order = (a: TradeRow, b: TradeRow) => venueOf(a).localeCompare(venueOf(b)) || a.symbol.localeCompare(b.symbol) || Number(a.trade_id) - Number(b.trade_id);
      replayed_trades = (await trades(db)).filter(first_loop).sort(order);
      expect(replayed_trades.length).toBe(expected_trades.length);
      expect(replayed_trades).toEqual(expected_trades.sort(order));

      // Books: from the first instant both runs sampled a book (each run's book becomes live at
      // its own point of the stream), every book the recorded run stored, shifted, is the replay's.
      const replayed_books = await books(db);
      const expected_books = recorded_books.map((b) => {
        const sh = shiftOf(b);
        return { ...b, ts: b.ts + sh.time, last_update_id: b.last_update_id + sh.update };
      });
      const keys = [...new Set(expected_books.map(bookKey))].sort();
      expect(new Set(expected_books.map(venueOf)).size).toBe(4);
      expect([...new Set(replayed_books.map(bookKey))].sort()).toEqual(keys);
      let compared = 0;
      for (const key of keys) {
        const want = expected_books.filter((b) => bookKey(b) === key);
        const got = replayed_books.filter((b) => bookKey(b) === key);
        const from = Math.max(want[0]!.ts, got[0]!.ts);
        const to = want.at(-1)!.ts;
        const window = (b: BookRow) => b.ts > from && b.ts <= to;
        expect({ key, books: got.filter(window) }).toEqual({ key, books: want.filter(window) });
        compared += want.filter(window).length;
      }
      expect(compared).toBeGreaterThan(keys.length * 10);
    } finally {
      await engine?.stop();
      engine = null;
      await sim.stop();
    }
  } finally {
    rmSync(capture, { recursive: true, force: true });
  }
}, 240_000);
