import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configWith, mergeConfig } from "../src/config/load.ts";
import { VENUE_KEYS } from "../src/config/schema.ts";
import type { StatsSnapshot } from "../src/http/stats-types.ts";
import { RECORD_TYPES } from "../src/records/types.ts";
import { replayVenueOverrides } from "../src/replay/overrides.ts";
import { defaultRecordingsDir } from "../src/replay/recording.ts";
import { startSimulator } from "../src/replay/simulator.ts";
import { createChdbClient, embeddedPath } from "../src/storage/client.ts";
import { TABLES } from "../src/storage/types.ts";
import { withAllocatorEnv } from "../src/setup/allocator.ts";
import { childProcesses, cpuBetween, rssMb, threadCpu, type ThreadCpu, type ThreadUse } from "./proc-sample.ts";
import { E2E_TUNING } from "./e2e-tuning.ts";

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
 * drops), rows in ClickHouse == stored, frames received <= frames sent. Latency is
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

/** Seconds a record may take from ingest to commit while the pipeline idles (linger is 1 s). */
const DRAIN_LAG_S = 3;
/**
 * Frames the engine may read between two drain samples (500 ms) with its sockets counted as
 * read out: after the skip, the channels without a recording keep pushing a few frames a second,
 * while the backlog in the sockets is thousands of frames. Requiring no frame at all between two
 * samples failed a quick run's drain after 60 s (stored 244,625 of 244,631 ingested).
 */
const DRAIN_TRICKLE_FRAMES = 20;

interface Sample {
  t_s: number;
  stats: StatsSnapshot;
  rss_mb: number | null;
}

function isStats(value: unknown): value is StatsSnapshot {
  return typeof value === "object" && value !== null && "venues" in value && "data_types" in value && "workers" in value;
}

async function fetchStats(url: string): Promise<StatsSnapshot> {
  const res = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(5000) });
  const body: unknown = await res.json();
  if (!isStats(body)) throw new Error(`e2e: /stats answered something that is not a stats snapshot`);
  return body;
}

const sum = (values: Iterable<number>): number => {
  let s = 0;
  for (const v of values) s += v;
  return s;
};
const messagesIn = (s: StatsSnapshot): number => sum(Object.values(s.venues).map((v) => v.messages_in));
/** Bytes waiting in every ring (each ring is listed once, by the batch worker that reads it). */
const ringBytes = (s: StatsSnapshot): number => sum(s.workers.filter((w) => w.kind === "batch").flatMap((w) => w.rings.map((r) => r.depth_bytes)));
const typeTotal = (s: StatsSnapshot, key: "ingested" | "published" | "stored" | "dropped" | "overflow"): number =>
  sum(Object.values(s.data_types).map((t) => t[key]));

/**
 * Least-squares line through the points: its slope, and r2, the share of y's variance the line
 * explains (near 0: no trend, the points scatter in a band; near 1: a steady rise or fall).
 * Both are 0 with fewer than two distinct x, r2 is 0 when y is constant.
 */
export function linearFit(points: readonly { x: number; y: number }[]): { slope: number; r2: number } {
  const n = points.length;
  if (n < 2) return { slope: 0, r2: 0 };
  const mx = sum(points.map((p) => p.x)) / n;
  const my = sum(points.map((p) => p.y)) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
  }
  if (sxx === 0) return { slope: 0, r2: 0 };
  return { slope: sxy / sxx, r2: syy === 0 ? 0 : (sxy * sxy) / (sxx * syy) };
}

async function waitFor(what: string, deadline_ms: number, check: () => boolean | Promise<boolean>, every_ms = 100): Promise<void> {
  const until = Date.now() + deadline_ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`e2e: timed out after ${deadline_ms} ms waiting for ${what}`);
    await Bun.sleep(every_ms);
  }
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

/** `msg` (with the error's message) of the pino lines at warn level or above (first 5 distinct). */
function engineWarnings(log: string): string[] {
  const out = new Set<string>();
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry: unknown = JSON.parse(line);
      if (typeof entry === "object" && entry !== null && "level" in entry && "msg" in entry && Number(entry.level) >= 40) {
        const who = "worker" in entry ? `${String(entry.worker)}: ` : "";
        const err = "err" in entry && typeof entry.err === "object" && entry.err !== null && "message" in entry.err ? ` (${String(entry.err.message)})` : "";
        const error = "error" in entry ? ` (${String(entry.error)})` : "";
        out.add(`${who}${String(entry.msg)}${err}${error}`);
      }
    } catch {
      // A partial last line while the log is still being written.
    }
    if (out.size >= 5) break;
  }
  return [...out];
}

export async function runE2eBench(opts: E2eOptions): Promise<E2eBenchResult> {
  const duration_s = opts.duration_s ?? (opts.quick ? 15 : 60);
  // Seconds of flow before the measured window. The engine's RSS climbs for the first ~15 s
  // (JIT, heaps, chDB's caches and first merges: 0.97-1.10 GB 5 s in, 1.12-1.14 GB 15 s in,
  // then a band of 1.11-1.24 GB in 60 s runs at 60ad866); a window that began at 5 s read that
  // climb as growth.
  const warmup_s = opts.quick ? 3 : 15;
  const recordings = defaultRecordingsDir();
  if (!existsSync(recordings)) throw new Error(`e2e: exchange recordings not found at ${recordings}`);
  const work = mkdtempSync(join(tmpdir(), "spectra-e2e-bench-"));
  const data_dir = join(work, "data");
  const simulator = await startSimulator({ dir: recordings, rate: 0, host: "127.0.0.1", port: 0 });
  let child: ReturnType<typeof Bun.spawn> | null = null;
  try {
    const config = configWith(
      mergeConfig(mergeConfig(E2E_TUNING, opts.overrides ?? {}), {
        ...replayVenueOverrides(simulator),
        engine: { data_dir },
        http: { port: 0 },
        nats: { embedded: { port: 0 } },
        log: { level: "warn" },
      }),
    );
    const paths = { config: join(work, "config.json"), ready: join(work, "ready.json"), final: join(work, "final.json"), log: join(work, "engine.log") };
    writeFileSync(paths.config, JSON.stringify(config));
    const spawned = Bun.spawn([process.execPath, join(import.meta.dir, "e2e-engine.ts"), paths.config, paths.ready, paths.final], {
      stdout: Bun.file(paths.log),
      stderr: Bun.file(join(work, "engine.err.log")),
      env: withAllocatorEnv(process.env),
    });
    child = spawned;
    const logTail = (): string => {
      const text = [paths.log, join(work, "engine.err.log")].map((p) => (existsSync(p) ? readFileSync(p, "utf8") : "")).join("\n");
      return text.slice(-200_000);
    };
    await waitFor("the engine to start", 60_000, () => {
      if (spawned.exitCode !== null) throw new Error(`e2e: engine exited with ${spawned.exitCode} while starting:\n${logTail().slice(-2000)}`);
      return existsSync(paths.ready);
    });
    const ready = JSON.parse(readFileSync(paths.ready, "utf8")) as { http: string | null; pid: number };
    if (ready.http === null) throw new Error("e2e: the engine started without its HTTP server");
    const url = ready.http;

    const samples: Sample[] = [];
    const t0 = performance.now();
    const sample = async (): Promise<Sample> => {
      const s = { t_s: (performance.now() - t0) / 1000, stats: await fetchStats(url), rss_mb: rssMb(ready.pid) };
      samples.push(s);
      return s;
    };
    await waitFor("the first venue frames", 30_000, async () => messagesIn((await sample()).stats) > 0, 250);
    await Bun.sleep(warmup_s * 1000);
    const first = await sample();
    const cpuStart = processThreads(ready.pid);
    let last = first;
    while (last.t_s - first.t_s < duration_s) {
      await Bun.sleep(Math.min(1000, Math.max(0, (first.t_s + duration_s - last.t_s) * 1000)));
      last = await sample();
      if (spawned.exitCode !== null) throw new Error(`e2e: engine exited with ${spawned.exitCode} during the run:\n${logTail().slice(-2000)}`);
    }
    const window_s = last.t_s - first.t_s;
    const threads = cpuBetween(cpuStart, processThreads(ready.pid), window_s);
    const windowSamples = samples.filter((s) => s.t_s >= first.t_s && s.t_s <= last.t_s);

    // Stop sending without closing sockets, then let rings, JetStream and ClickHouse catch up.
    // Data without a recording (mark price, DVOL, ...) keeps trickling in at ~1 record/s, so
    // "drained" means: everything ingested DRAIN_LAG_S ago is stored by now. The graceful stop
    // flushes the rest and the final counters must match exactly.
    for (const venue of VENUE_KEYS) simulator.skip(venue, Number.MAX_SAFE_INTEGER);
    const drainStart = performance.now();
    const drain_deadline_ms = Math.max(opts.quick ? 60_000 : 120_000, duration_s * 2000);
    let drainState = "";
    const drained = await waitFor("the pipeline to drain", drain_deadline_ms, async () => {
      const now = await sample();
      const earlier = samples.findLast((x) => x.t_s <= now.t_s - DRAIN_LAG_S);
      const stored = typeTotal(now.stats, "stored") + typeTotal(now.stats, "dropped");
      const due = earlier === undefined || earlier.t_s < first.t_s ? Number.POSITIVE_INFINITY : typeTotal(earlier.stats, "ingested");
      // The simulator's sockets may still hold up to 4 MiB of frames sent before the skip:
      // wait until the engine has read them (frames in down to the trickle) before stopping it.
      const previous = samples[samples.length - 2];
      const readAll = previous !== undefined && previous.t_s > first.t_s && messagesIn(now.stats) - messagesIn(previous.stats) <= DRAIN_TRICKLE_FRAMES;
      // "ingested" counts records that entered a ring; records an ingest worker still holds
      // outside a full ring (`overflow`) count only once they get in, so the drain also waits
      // for empty rings and no overflow in two samples in a row.
      const idle = (x: StatsSnapshot) => ringBytes(x) === 0 && typeTotal(x, "overflow") === 0;
      const ringsEmpty = previous !== undefined && idle(previous.stats) && idle(now.stats);
      drainState = `stored ${stored} of ${typeTotal(now.stats, "ingested")} ingested, socket reads settled: ${readAll}, rings empty: ${ringsEmpty}`;
      return readAll && ringsEmpty && stored >= due;
    }, 500).then(
      () => true,
      () => false,
    );
    const drain_s = (performance.now() - drainStart) / 1000;

    spawned.kill("SIGTERM");
    const code = await spawned.exited;
    if (code !== 0 || !existsSync(paths.final)) throw new Error(`e2e: engine stop exited with ${code}:\n${logTail().slice(-2000)}`);
    const final = JSON.parse(readFileSync(paths.final, "utf8")) as { stop_ms: number; stats: StatsSnapshot };
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
    if (!drained) checks.push(`the pipeline had not drained ${drain_deadline_ms} ms after the simulator stopped sending (${drainState})`);
    for (const type of RECORD_TYPES) {
      const t = stats.data_types[type];
      if (t !== undefined && t.stored !== t.ingested) checks.push(`${type}: ingested ${t.ingested}, stored ${t.stored}, dropped ${t.dropped}`);
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
    if (simulator.violations.total > 0) checks.push(`venue rules broken: ${JSON.stringify(simulator.violations.venues())}`);

    const stages = stagesBetween(first, last);
    for (const s of windowSamples)
      for (const [type, stage] of Object.entries(stages)) {
        stage.max_consumer_pending = Math.max(stage.max_consumer_pending, s.stats.data_types[type]?.consumer_pending ?? 0);
        for (const w of s.stats.workers)
          if (w.kind === "batch" && w.id.startsWith(`batch:${type}:`))
            for (const r of w.rings) stage.max_ring_fill_pct = Math.max(stage.max_ring_fill_pct, Math.round((r.depth_bytes / r.capacity_bytes) * 1000) / 10);
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
    const rssFit = linearFit(windowSamples.flatMap((s) => (s.rss_mb === null ? [] : [{ x: s.t_s / 60, y: s.rss_mb }])));
    const third = Math.max(1, Math.floor(rss.length / 3));
    const avg = (xs: number[]) => (xs.length === 0 ? 0 : sum(xs) / xs.length);
    const round1 = (x: number) => Math.round(x * 10) / 10;

    return {
      msgs_per_s: Math.round((messagesIn(last.stats) - messagesIn(first.stats)) / window_s),
      records_per_s: Math.round((typeTotal(last.stats, "ingested") - typeTotal(first.stats, "ingested")) / window_s),
      stored_per_s: Math.round((typeTotal(last.stats, "stored") - typeTotal(first.stats, "stored")) / window_s),
      sent,
      received,
      ingested,
      stored,
      rows: store.total.rows,
      lost: ingested - stored,
      dropped,
      p50_ms: store.total.p50_ms,
      p99_ms: store.total.p99_ms,
      max_ms: store.total.max_ms,
      peak_rss_mb: round1(Math.max(0, ...rssOf(samples))),
      rss_first_third_mb: round1(avg(rss.slice(0, third))),
      rss_series_mb: rss.filter((_, i) => i % 10 === 0).map(round1),
      rss_last_third_mb: round1(avg(rss.slice(-third))),
      rss_slope_mb_per_min: round1(rssFit.slope),
      rss_slope_r2: Math.round(rssFit.r2 * 100) / 100,
      min_1s_msgs_per_s: Math.round(Math.min(...oneSecond)),
      max_1s_msgs_per_s: Math.round(Math.max(...oneSecond)),
      duration_s: round1(window_s),
      drain_s: round1(drain_s),
      stop_ms: final.stop_ms,
      checks_passed: checks.length === 0,
      checks,
      undelivered: sum(Object.values(per_venue).map((v) => Math.max(0, v.sent - v.received))),
      notes,
      engine_warnings: engineWarnings(logTail()),
      per_venue,
      stages,
      latency_by_table: Object.fromEntries(Object.entries(store.tables).filter(([, r]) => r.rows > 0)),
      threads,
    };
  } finally {
    if (child !== null && child.exitCode === null) {
      child.kill("SIGKILL");
      await child.exited;
    }
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
