import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { configWith } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { createLogger } from "../../src/log/logger.ts";
import { typeCounter } from "../../src/stats/layout.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { SyntheticSource } from "../../src/pipeline/synthetic-source.ts";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import { subjectFor } from "../../src/records/subjects.ts";
import { freshNatsStore, testClickHouse, testDataDir, uniqueDatabase } from "../support/chdb.ts";
import { natsServerPid, processEnviron } from "../support/nats.ts";
import { waitFor } from "../support/wait.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";

const log = createLogger("silent");

/** Engine tests share the chDB path (and so the data dir); each starts with an empty NATS store. */
function engineConfig(overrides: Record<string, unknown>): Config {
  freshNatsStore();
  const off = { enabled: false };
  return configWith({
    engine: { data_dir: testDataDir(), shutdown_deadline_ms: 20000, restart_initial_ms: 50, restart_max_ms: 200 },
    http: { enabled: false },
    tiering: { enabled: false },
    ring: { capacity_bytes: 1 << 20 },
    nats: { embedded: { port: 0 } },
    clickhouse: { hot_database: uniqueDatabase("engine_hot"), cold_database: uniqueDatabase("engine_cold") },
    venues: {
      binance_spot: { enabled: true, symbols: ["A", "B"], workers: 2, data_types: ["trade"] },
      binance_derivatives: off,
      okx_spot: off,
      okx_derivatives: off,
      deribit_derivatives: off,
    },
    batch_workers: { orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0 },
    batching: { trade: { max_rows: 20000, linger_ms: 200 } },
    ...overrides,
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

/** Nice value of each worker thread of this process, by thread name (Linux /proc). */
function workerThreadNice(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync("/proc/self/task")) {
    const name = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
    if (!/^[ib]:/.test(name)) continue;
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    // Fields after the parenthesised name start at field 3 (state); nice is field 19.
    out[name] = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  }
  return out;
}

// Each test's engines stop after it, passed or failed: they share the data directory, which a running engine holds.
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

describe("engine skeleton", () => {
  test("synthetic trades cross ingest workers, rings and batch workers into ClickHouse (nats disabled), with the configured topology", async () => {
    const config = engineConfig({ nats: { enabled: false }, batch_workers: { trade: 3, orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0 } });
    const engine = new Engine(config, { log, synthetic: { records: 30000, rate: 0 } });
    engines.push(engine);
    await engine.start();
    expect(engine.workers.map((w) => w.id).sort()).toEqual(["batch:shared:0", "batch:trade:0", "batch:trade:1", "batch:trade:2", "ingest:binance_spot:0", "ingest:binance_spot:1"]);
    // engine.ingest_nice (default 10) lowers the ingest threads only.
    expect(config.engine.ingest_nice).toBe(10);
    expect(workerThreadNice()).toEqual({ "b:gap:0": 0, "b:trade:0": 0, "b:trade:1": 0, "b:trade:2": 0, "i:bn_spot:0": 10, "i:bn_spot:1": 10 });
    // Every thread reports its JavaScript heap from `ready` on, and the process its RSS.
    await waitFor("a heap report from every worker", () => engine.stats().workers.every((w) => (w.heap_bytes ?? 0) > 1 << 20), 60000);
    const proc = engine.stats().process;
    expect(proc.heap_bytes).toBeGreaterThan(1 << 20);
    expect(proc.rss_bytes).toBeGreaterThan(proc.heap_bytes);
    const stored = engine.counters.slot(typeCounter("trade", "stored"));
    await waitFor("60000 stored trades", () => engine.counters.get(stored) >= 60000, 60000);
    await engine.stop();
    // The `engine stopped` line's counts: both kinds in the all role (nothing published without NATS).
    expect(engine.finalCounts()).toEqual({ role: "all", published: { trade: 0, gap: 0 }, stored: { trade: 60000, gap: 0 } });
    const db = config.clickhouse.hot_database;
    // two ingest workers x 30000 sequence numbers, ids 0..59999
    expect(await storedTrades(db)).toEqual({ rows: 60000, unique: 60000, final: 60000, min: 0, max: 59999 });
    const rs = await testClickHouse().query({
      query: `SELECT symbol, toString(price) AS price, toString(quantity) AS quantity, side, is_maker, toString(toUnixTimestamp64Milli(timestamp)) AS ts FROM ${db}.trades WHERE trade_id = '12345'`,
      format: "JSONEachRow",
    });
    expect(await rs.json()).toEqual([{ symbol: "SYN-BTC", price: "445.45", quantity: "0.001", side: "sell", is_maker: true, ts: String(SyntheticSource.baseMs() + 12345) }]);
    const stats = engine.stats();
    expect(stats.data_types.trade?.ingested).toBe(60000);
    expect(stats.data_types.trade?.dropped).toBe(0);
    expect(stats.workers.find((w) => w.id === "batch:trade:1")?.rings.length).toBe(2);
    // Every trade's latencies: exchange -> receipt in the ingest workers, receipt -> commit in the batch workers.
    const latency = stats.venues.binance_spot?.latency.trade;
    expect(latency?.exchange_to_receive.count).toBe(60000);
    expect(latency?.receive_to_commit.count).toBe(60000);
    expect(latency?.receive_to_commit.p99_ms).toBeGreaterThan(0);
  });

  test("a batch worker killed mid-stream is restarted and every sequence number is stored exactly once", async () => {
    const config = engineConfig({ batch_workers: { trade: 2, orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0 } });
    const engine = new Engine(config, { log, synthetic: { records: 50000, rate: 0 } });
    engines.push(engine);
    await engine.start();
    expect(engine.natsServerUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    // The embedded server runs on nats.embedded.max_procs cores (default 1).
    expect(processEnviron(natsServerPid(join(config.engine.data_dir, "nats")))).toContain("GOMAXPROCS=1");
    const published = engine.counters.slot(typeCounter("trade", "published"));
    await waitFor("some trades published", () => engine.counters.get(published) > 10000, 60000);
    const victim = engine.workers.find((w) => w.id === "batch:trade:0");
    expect(victim).toBeDefined();
    await victim?.kill();
    await waitFor("the killed worker to run again", () => victim?.state === "running" && (victim?.restarts ?? 0) >= 1, 60000);
    const db = config.clickhouse.hot_database;
    await waitFor("100000 unique trades stored", async () => (await storedTrades(db)).unique === 100000, 120000);
    await engine.stop();
    const result = await storedTrades(db);
    expect(result.unique).toBe(100000);
    expect(result.final).toBe(100000);
    expect(result.min).toBe(0);
    expect(result.max).toBe(99999);
    expect(engine.stats().workers.find((w) => w.id === "batch:trade:0")?.restarts).toBeGreaterThanOrEqual(1);
  });
});

describe("records held outside full rings", () => {
  test("show in /stats per type and per ingest worker while a batch worker is down, drain to 0, and count as dropped when their thread dies", async () => {
    const config = engineConfig({
      engine: { data_dir: testDataDir(), shutdown_deadline_ms: 20000, restart_initial_ms: 3000, restart_max_ms: 3000 },
      ring: { capacity_bytes: 65536 },
      batch_workers: { trade: 1, orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0 },
    });
    const engine = new Engine(config, { log, synthetic: { records: 60000, rate: 20000 } });
    engines.push(engine);
    await engine.start();
    const batch = engine.workers.find((w) => w.id === "batch:trade:0");
    await batch?.kill();
    const held = () => engine.stats().data_types.trade?.overflow ?? 0;
    // The synthetic source pauses while its worker holds a backlog, so that is at most a tick's records.
    const ingestHolding = () => engine.stats().workers.filter((w) => w.kind === "ingest" && w.overflow_records > 0).length;
    await waitFor("both ingest workers to hold records outside their full rings", () => ingestHolding() === 2, 60000);
    const snapshot = engine.stats();
    const ingest = snapshot.workers.filter((w) => w.kind === "ingest");
    expect(ingest.reduce((n, w) => n + w.overflow_records, 0)).toBe(snapshot.data_types.trade?.overflow ?? -1);
    expect(snapshot.workers.find((w) => w.id === "batch:trade:0")?.overflow_records).toBe(0);
    const victim = engine.workers.find((w) => w.id === "ingest:binance_spot:1");
    const lost = ingest.find((w) => w.id === "ingest:binance_spot:1")?.overflow_records ?? 0;
    expect(lost).toBeGreaterThan(0);
    await victim?.kill();
    const dropped = engine.counters.slot(typeCounter("trade", "dropped"));
    await waitFor("the restarted ingest worker's lost overflow counted as dropped", () => engine.counters.get(dropped) >= lost, 60000);
    await waitFor("everything held to reach the ring once the batch worker is back", () => batch?.state === "running" && held() === 0 && engine.stats().workers.every((w) => w.overflow_records === 0), 60000);
    await engine.stop();
  });
});

describe("a venue that cannot be reached", () => {
  test("does not hold up start or stop, nor the venue beside it in the shared thread: it is tried again with backoff and /health says why", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("down", { status: 503 }) });
    const url = `http://127.0.0.1:${closed.port}`;
    closed.stop(true);
    const sim = await startSimulator({ source: generatorSource(2), rate: 200, synthetic_interval_ms: 100 });
    try {
      const okx = replayVenueOverrides(sim).venues.okx_spot;
      const config = engineConfig({
        nats: { enabled: false },
        venues: {
          binance_spot: { enabled: true, symbols: ["BTCUSDT"], workers: "shared", data_types: ["trade"], rest_url: url, ws_url: url.replace("http", "ws") },
          binance_derivatives: { enabled: false },
          okx_spot: { enabled: true, symbols: okx.symbols, workers: "shared", data_types: ["trade"], rest_url: okx.rest_url, ws_url: okx.ws_url },
          okx_derivatives: { enabled: false },
          deribit_derivatives: { enabled: false },
        },
      });
      const engine = new Engine(config, { log });
      engines.push(engine);
      await engine.start();
      expect(engine.workers.filter((w) => w.init.kind === "ingest").map((w) => w.id)).toEqual(["ingest:shared:0"]);
      await waitFor("Binance spot tried again", () => /\(([2-9]|\d\d+) failed starts/.test(engine.health().components["venue:binance_spot"]?.detail ?? ""), 60000);
      await waitFor("OKX spot trades stored", () => engine.counters.read(typeCounter("trade", "stored")) > 0, 60000);
      const health = engine.health();
      expect(health.ok).toBe(false);
      expect(health.components["venue:binance_spot"]?.state).toBe("disconnected");
      expect(health.components["venue:binance_spot"]?.detail).toContain("ingest:binance_spot:0: binance_spot: instrument metadata");
      expect(health.components["venue:okx_spot"]).toEqual({ state: "connected" });
      // The thread never went down: OKX spot kept its connection while Binance spot was retried.
      expect(health.components["worker:ingest:shared:0"]?.state).toBe("running");
      expect(engine.workers.find((w) => w.id === "ingest:shared:0")?.restarts).toBe(0);
      expect(engine.stats().venues.okx_spot?.reconnects).toBe(0);
      // Failed starts are counted for /stats and /metrics too.
      expect(engine.stats().venues.binance_spot?.start_failures).toBeGreaterThanOrEqual(2);
      expect(engine.stats().venues.okx_spot?.start_failures).toBe(0);
      // /stats lists the thread's two shards, the failing one with its error.
      const shards = engine.stats().workers.find((w) => w.id === "ingest:shared:0")?.shards ?? [];
      expect(shards.map((s) => s.id).sort()).toEqual(["ingest:binance_spot:0", "ingest:okx_spot:0"]);
      const binance = shards.find((s) => s.venue === "binance_spot");
      const okxShard = shards.find((s) => s.venue === "okx_spot");
      expect(binance).toMatchObject({ id: "ingest:binance_spot:0", venue: "binance_spot", symbols: 1 });
      expect(binance?.failed_starts).toBeGreaterThanOrEqual(2);
      expect(binance?.last_start_error).toContain("binance_spot: instrument metadata");
      expect(okxShard).toEqual({ id: "ingest:okx_spot:0", venue: "okx_spot", symbols: okx.symbols.length, failed_starts: 0, last_start_error: null });
      const t0 = Date.now();
      await engine.stop();
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await sim.stop();
    }
  });
});

describe("clickhouse.enabled: false", () => {
  test("publishes only: every record is in the stream, framed per subject, and nothing is stored", async () => {
    const config = engineConfig({ clickhouse: { enabled: false, hot_database: uniqueDatabase("nope"), cold_database: uniqueDatabase("nope") } });
    const engine = new Engine(config, { log, synthetic: { records: 4000, rate: 0 } });
    engines.push(engine);
    await engine.start();
    const published = engine.counters.slot(typeCounter("trade", "published"));
    await waitFor("8000 published", () => engine.counters.get(published) >= 8000, 60000);
    const url = engine.natsServerUrl;
    if (url === null) throw new Error("no NATS");
    const nc = await connect({ servers: url });
    try {
      const js = jetstream(nc);
      const consumer = await js.consumers.get(config.nats.stream.name);
      const codec = new RecordCodec();
      const ids = new Set<string>();
      const subjects = new Set<string>();
      while (ids.size < 8000) {
        const m = await consumer.next({ expires: 2000 });
        if (m === null) break;
        const frame = codec.tryDecodeFrame(m.data);
        if (!frame.ok) throw new Error(frame.error);
        for (const r of frame.value) {
          expect(subjectFor(r)).toBe(m.subject);
          if (r.data_type === "trade") ids.add(r.trade_id);
        }
        subjects.add(m.subject);
        expect(m.headers?.get("Nats-Msg-Id")).toMatch(/^trade\./);
      }
      expect(ids.size).toBe(8000);
      expect([...subjects].sort()).toEqual(SyntheticSource.SYMBOLS.map((s) => `trade.binance.spot.${s}`).sort());
    } finally {
      await nc.close();
    }
    expect(engine.counters.read(typeCounter("trade", "stored"))).toBe(0);
    expect(engine.health().components.clickhouse).toBeUndefined();
    await engine.stop();
  });
});
