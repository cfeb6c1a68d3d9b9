import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VENUE_KEYS } from "../src/config/venue-keys.ts";
import { RECORD_TYPES } from "../src/records/types.ts";
import { replaySource } from "../src/replay/source.ts";
import { startSimulator } from "../src/replay/simulator.ts";
import { createChdbClient, embeddedPath } from "../src/storage/client.ts";
import { TABLES } from "../src/storage/types.ts";
import { benchEngineConfig, drainEngine, engineWarnings, waitUntil, messagesIn, rssTrend, startEngineChild, sum, typeTotal, unstored, type EngineChild, type Sample } from "./engine-child.ts";
import { childProcesses, cpuBetween, threadCpu, type ThreadCpu, type ThreadUse } from "./proc-sample.ts";

/**
 * Question: how many venue frames per second does the whole engine sustain, simulator at its
 * maximum rate -> ingest workers -> rings -> batch workers -> embedded JetStream -> embedded
 * ClickHouse (chDB), with nothing lost, and how long does a frame take to become a committed row?
 *
 * Layout: the simulator runs in this process; the engine runs in a child process
 * (bench/e2e-engine.ts) so its RSS and per-thread CPU are its own and its chDB path is the only
 * one that process opens. After the measured window the simulator stops sending (frames are
 * skipped, sockets stay open, so nothing in flight is cut off), the pipeline drains, the engine
 * stops gracefully on SIGTERM and reports its final counters; then this process opens the
 * engine's chDB path and counts rows and latencies in SQL.
 *
 * Checks before figures count: final stored == final ingested for every type (no loss, no
 * drops; records the stream kept out as copies of records it held, `duplicate_publishes`, are
 * not lost), rows in ClickHouse == stored, frames received <= frames sent. Latency is
 * created_at (DEFAULT now64(3), set when ClickHouse commits the insert) minus received_at
 * (recv_ts_ms, the ingest worker's receive time), over every stored row.
 */

export interface E2eStage {
  ingested_per_s: number;
  published_per_s: number;
  stored_per_s: number;
  /** Largest JetStream consumer backlog seen, messages. */
  max_consumer_pending: number;
  /** Fullest ring into this type's batch workers, percent of capacity. */
  max_ring_fill_pct: number;
}

export interface E2eBenchResult {
  /** What the simulator replayed: `recordings <dir>` or `generator (<n> symbols per venue)`. */
  source: string;
  msgs_per_s: number;
  records_per_s: number;
  stored_per_s: number;
  sent: number;
  received: number;
  ingested: number;
  stored: number;
  rows: number;
  lost: number;
  dropped: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  peak_rss_mb: number;
  rss_first_third_mb: number;
  rss_last_third_mb: number;
  /** Engine RSS every ~10 s of the measured window, MB: the trend the thirds summarize. */
  rss_series_mb: number[];
  /**
   * Least-squares slope of the engine's RSS over every sample of the measured window (~1 s
   * apart), MB per minute: a trend, where the thirds and the series also show the band that
   * garbage collections and ClickHouse's merges move RSS within.
   */
  rss_slope_mb_per_min: number;
  /** How much of the RSS samples' variance that slope explains (0..1): low means a band, not a trend. */
  rss_slope_r2: number;
  /** Slowest and fastest one-second frame rate inside the window. */
  min_1s_msgs_per_s: number;
  max_1s_msgs_per_s: number;
  duration_s: number;
  drain_s: number;
  stop_ms: number;
  checks_passed: boolean;
  checks: string[];
  /** The engine's own warnings and errors (first few), e.g. a worker terminated at stop. */
  engine_warnings: string[];
  /** Frames sent by the simulator that the engine never read (see `notes`). */
  undelivered: number;
  notes: string[];
  per_venue: Record<string, { sent: number; received: number; reconnects: number }>;
  stages: Record<string, E2eStage>;
  latency_by_table: Record<string, TableLatency>;
  threads: ThreadUse[];
}

export interface E2eOptions {
  quick: boolean;
  /** Measured seconds; default 60, quick 15. */
  duration_s?: number;
  /** Config overrides merged over E2E_TUNING. */
  overrides?: unknown;
}

function processThreads(enginePid: number): ThreadCpu[] {
  const out = [...threadCpu(enginePid, "engine"), ...threadCpu(process.pid, "bench+simulator")];
  for (const child of childProcesses(enginePid)) out.push(...threadCpu(child.pid, child.name));
  return out;
}

function stagesBetween(a: Sample, b: Sample): Record<string, E2eStage> {
  const seconds = b.t_s - a.t_s;
  const out: Record<string, E2eStage> = {};
  for (const type of RECORD_TYPES) {
    const x = a.stats.data_types[type];
    const y = b.stats.data_types[type];
    if (x === undefined || y === undefined || y.ingested === 0) continue;
    out[type] = {
      ingested_per_s: Math.round((y.ingested - x.ingested) / seconds),
      published_per_s: Math.round((y.published - x.published) / seconds),
      stored_per_s: Math.round((y.stored - x.stored) / seconds),
      max_consumer_pending: 0,
      max_ring_fill_pct: 0,
    };
  }
  return out;
}

interface LatencyRow {
  rows: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/**
 * A table's latency, and the same per insert: `inserts` counts the commits (rows of one INSERT
 * share `created_at`), `floor_*` are percentiles over the inserts of their freshest row's
 * latency, the part of the latency that is not batching (linger, or waiting for the insert
 * before to finish): ring, publish, delivery and the insert itself.
 */
export interface TableLatency extends LatencyRow {
  inserts: number;
  floor_p50_ms: number;
  floor_p99_ms: number;
}

function isLatencyRow(value: unknown): value is LatencyRow {
  return typeof value === "object" && value !== null && "rows" in value && "p50_ms" in value && "p99_ms" in value && "max_ms" in value;
}

/** Row counts and receipt -> commit latency per table, and over all rows, computed in ClickHouse. */
async function measureStore(data_dir: string, database: string): Promise<{ total: LatencyRow; tables: Record<string, TableLatency> }> {
  const client = createChdbClient(embeddedPath(data_dir));
  const latency = (from: string) =>
    `SELECT toUInt64(count()) AS rows, toFloat64(ifNotFinite(quantileExact(0.5)(d), 0)) AS p50_ms, ` +
    `toFloat64(ifNotFinite(quantileExact(0.99)(d), 0)) AS p99_ms, toFloat64(max(d)) AS max_ms FROM (${from}) ` +
    `SETTINGS output_format_json_quote_64bit_integers = 0`;
  const diff = (table: string) =>
    `SELECT toUnixTimestamp64Milli(created_at) - toUnixTimestamp64Milli(received_at) AS d FROM ${database}.${table}`;
  const query = async (sql: string): Promise<LatencyRow> => {
    const [row] = await (await client.query({ query: sql, format: "JSONEachRow" })).json<unknown>();
    if (!isLatencyRow(row)) throw new Error(`e2e: latency query returned ${JSON.stringify(row)}`);
    return { rows: Number(row.rows), p50_ms: Number(row.p50_ms), p99_ms: Number(row.p99_ms), max_ms: Number(row.max_ms) };
  };
  const floors = async (table: string): Promise<Pick<TableLatency, "inserts" | "floor_p50_ms" | "floor_p99_ms">> => {
    const sql =
      `SELECT toFloat64(count()) AS inserts, toFloat64(ifNotFinite(quantileExact(0.5)(f), 0)) AS floor_p50_ms, ` +
      `toFloat64(ifNotFinite(quantileExact(0.99)(f), 0)) AS floor_p99_ms FROM (SELECT min(toUnixTimestamp64Milli(created_at) - ` +
      `toUnixTimestamp64Milli(received_at)) AS f FROM ${database}.${table} GROUP BY created_at)`;
    const [row] = await (await client.query({ query: sql, format: "JSONEachRow" })).json<Record<string, unknown>>();
    return { inserts: Number(row?.inserts), floor_p50_ms: Number(row?.floor_p50_ms), floor_p99_ms: Number(row?.floor_p99_ms) };
  };
  try {
    const tables: Record<string, TableLatency> = {};
    for (const type of RECORD_TYPES) tables[TABLES[type]] = { ...(await query(latency(diff(TABLES[type])))), ...(await floors(TABLES[type])) };
    const total = await query(latency(RECORD_TYPES.map((t) => diff(TABLES[t])).join(" UNION ALL ")));
    return { total, tables };
  } finally {
    await client.close();
  }
}

export async function runE2eBench(opts: E2eOptions): Promise<E2eBenchResult> {
  const duration_s = opts.duration_s ?? (opts.quick ? 15 : 60);
  // Seconds of flow before the measured window. The engine's RSS climbs for the first ~15 s
  // (JIT, heaps, chDB's caches and first merges: 0.97-1.10 GB 5 s in, 1.12-1.14 GB 15 s in,
  // then a band of 1.11-1.24 GB in 60 s runs at 60ad866); a window that began at 5 s read that
  // climb as growth.
  const warmup_s = opts.quick ? 3 : 15;
  const work = mkdtempSync(join(tmpdir(), "spectra-e2e-bench-"));
  const data_dir = join(work, "data");
  // The recordings beside the checkout when present, the built-in generator otherwise.
  const source = replaySource(null, false);
  const simulator = await startSimulator({ source, rate: 0, host: "127.0.0.1", port: 0 });
  let engine: EngineChild | null = null;
  try {
    const config = benchEngineConfig(simulator, data_dir, opts.overrides ?? {});
    engine = await startEngineChild(config, work);
    const child = engine;
    const samples = child.samples;
    await waitUntil("the first venue frames", 30_000, async () => messagesIn((await child.sample()).stats) > 0, 250);
    await Bun.sleep(warmup_s * 1000);
    const first = await child.sample();
    const cpuStart = processThreads(child.pid);
    let last = first;
    while (last.t_s - first.t_s < duration_s) {
      await Bun.sleep(Math.min(1000, Math.max(0, (first.t_s + duration_s - last.t_s) * 1000)));
      last = await child.sample();
      child.assertRunning("during the run");
    }
    const window_s = last.t_s - first.t_s;
    const threads = cpuBetween(cpuStart, processThreads(child.pid), window_s);
    const windowSamples = samples.filter((s) => s.t_s >= first.t_s && s.t_s <= last.t_s);

    // Stop sending without closing sockets, then let rings, JetStream and ClickHouse catch up.
    // Data without a recording (mark price, DVOL, ...) keeps trickling in at ~1 record/s, so
    // "drained" means: everything ingested a few seconds ago is stored by now. The graceful stop
    // flushes the rest and the final counters must match exactly.
    for (const venue of VENUE_KEYS) simulator.skip(venue, Number.MAX_SAFE_INTEGER);
    const drain_deadline_ms = Math.max(opts.quick ? 60_000 : 120_000, duration_s * 2000);
    const drain = await drainEngine(child, first, drain_deadline_ms);
    const final = await child.stop();
    const stats = final.stats;
    const store = await measureStore(data_dir, config.clickhouse.hot_database);

    const per_venue: Record<string, { sent: number; received: number; reconnects: number }> = {};
    for (const venue of VENUE_KEYS)
      per_venue[venue] = { sent: simulator.sent[venue], received: stats.venues[venue]?.messages_in ?? 0, reconnects: stats.venues[venue]?.reconnects ?? 0 };
    const sent = sum(Object.values(per_venue).map((v) => v.sent));
    const received = messagesIn(stats);
    const ingested = typeTotal(stats, "ingested");
    const stored = typeTotal(stats, "stored");
    const dropped = typeTotal(stats, "dropped");

    const checks: string[] = [];
    if (!drain.drained) checks.push(`the pipeline had not drained ${drain_deadline_ms} ms after the simulator stopped sending (${drain.state})`);
    for (const type of RECORD_TYPES) {
      const t = stats.data_types[type];
      if (t !== undefined && unstored(t) !== 0) checks.push(`${type}: ingested ${t.ingested}, stored ${t.stored}, duplicate publishes ${t.duplicate_publishes}, dropped ${t.dropped}`);
      const rows = store.tables[TABLES[type]]?.rows ?? 0;
      if (t !== undefined && rows !== t.stored) checks.push(`${type}: ${t.stored} stored by the engine, ${rows} rows in ${TABLES[type]}`);
    }
    // messages_in also counts control frames (subscribe acks, RPC replies) that `sent` leaves
    // out, so received may exceed sent; fewer received than sent means frames went missing.
    // Frames the simulator wrote to a socket the engine closed (a reconnect, or the stop) are
    // counted as sent and never read; reported as `undelivered`, per venue beside the reconnect
    // count, and expected to be 0 once the drain waited for the socket reads to settle.
    const notes: string[] = [];
    for (const [venue, v] of Object.entries(per_venue)) if (v.received < v.sent) notes.push(`${venue}: sent ${v.sent}, received ${v.received}, reconnects ${v.reconnects}`);
    if (received === 0 || stored === 0) checks.push("nothing flowed end to end");
    // The simulator enforces the venues' rules; the engine breaks none of them.
    if (simulator.violations.total > 0) checks.push(`venue rules broken: ${JSON.stringify(simulator.violations.venues())} (${JSON.stringify(simulator.violations.details())})`);

    const stages = stagesBetween(first, last);
    for (const s of windowSamples)
      for (const [type, stage] of Object.entries(stages)) {
        stage.max_consumer_pending = Math.max(stage.max_consumer_pending, s.stats.data_types[type]?.consumer_pending ?? 0);
        for (const w of s.stats.workers)
          if (w.kind === "batch")
            for (const r of w.rings) if (r.type === type) stage.max_ring_fill_pct = Math.max(stage.max_ring_fill_pct, Math.round((r.depth_bytes / r.capacity_bytes) * 1000) / 10);
      }

    // Rates over spans of at least ~1 s: the window's last sample can come milliseconds after
    // the one before, and the frame counters move every 250 ms, so that span alone read as 0.
    const oneSecond: number[] = [];
    let anchor = windowSamples[0];
    for (const b of windowSamples) {
      if (anchor === undefined || b.t_s - anchor.t_s < 0.9) continue;
      oneSecond.push((messagesIn(b.stats) - messagesIn(anchor.stats)) / (b.t_s - anchor.t_s));
      anchor = b;
    }
    // Peak over every sample (start, window, drain); the trend over the measured window only, so
    // the engine's start (~0.5 GB before frames flow) does not read as growth.
    const rssOf = (xs: readonly Sample[]) => xs.map((s) => s.rss_mb).filter((v): v is number => v !== null);
    const rss = rssOf(windowSamples);
    const trend = rssTrend(windowSamples);
    const third = Math.max(1, Math.floor(rss.length / 3));
    const avg = (xs: number[]) => (xs.length === 0 ? 0 : sum(xs) / xs.length);
    const round1 = (x: number) => Math.round(x * 10) / 10;

    return {
      source: source.description,
      msgs_per_s: Math.round((messagesIn(last.stats) - messagesIn(first.stats)) / window_s),
      records_per_s: Math.round((typeTotal(last.stats, "ingested") - typeTotal(first.stats, "ingested")) / window_s),
      stored_per_s: Math.round((typeTotal(last.stats, "stored") - typeTotal(first.stats, "stored")) / window_s),
      sent,
      received,
      ingested,
      stored,
      rows: store.total.rows,
      lost: sum(Object.values(stats.data_types).map(unstored)),
      dropped,
      p50_ms: store.total.p50_ms,
      p99_ms: store.total.p99_ms,
      max_ms: store.total.max_ms,
      peak_rss_mb: round1(Math.max(0, ...rssOf(samples))),
      rss_first_third_mb: round1(avg(rss.slice(0, third))),
      rss_series_mb: rss.filter((_, i) => i % 10 === 0).map(round1),
      rss_last_third_mb: round1(avg(rss.slice(-third))),
      rss_slope_mb_per_min: trend.slope_mb_per_min,
      rss_slope_r2: trend.r2,
      min_1s_msgs_per_s: Math.round(Math.min(...oneSecond)),
      max_1s_msgs_per_s: Math.round(Math.max(...oneSecond)),
      duration_s: round1(window_s),
      drain_s: drain.drain_s,
      stop_ms: final.stop_ms,
      checks_passed: checks.length === 0,
      checks,
      undelivered: sum(Object.values(per_venue).map((v) => Math.max(0, v.sent - v.received))),
      notes,
      engine_warnings: engineWarnings(child.logTail()),
      per_venue,
      stages,
      latency_by_table: Object.fromEntries(Object.entries(store.tables).filter(([, r]) => r.rows > 0)),
      threads,
    };
  } finally {
    await engine?.kill();
    await simulator.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--duration");
  const duration_s = at >= 0 ? Number(args[at + 1]) : undefined;
  const over = args.indexOf("--overrides");
  const overrides: unknown = over >= 0 ? JSON.parse(args[over + 1] ?? "{}") : undefined;
  const result = await runE2eBench({ quick: args.includes("--quick"), ...(duration_s === undefined ? {} : { duration_s }), overrides });
  console.log(JSON.stringify(result, null, 2));
}
