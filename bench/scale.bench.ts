import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configWith, mergeConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/schema.ts";
import { VENUE_KEYS, type VenueKey } from "../src/config/venue-keys.ts";
import type { StatsSnapshot } from "../src/http/stats-types.ts";
import { RECORD_TYPES } from "../src/records/types.ts";
import { replayVenueOverrides } from "../src/replay/overrides.ts";
import { TABLES } from "../src/storage/types.ts";
import { drainEngine, engineWarnings, messagesIn, rssTrend, startEngineChild, sum, typeTotal, unstored, type EngineChild, type Sample } from "./engine-child.ts";
import { processCpuS, treeCpuBetween, treeCpuS } from "./proc-sample.ts";
import { SimulatorThread } from "./sim-thread.ts";
import { generatedAssets, pointChecks, SCALE_POINTS, scalePoint, spreadSymbols, venueSymbols, type ScalePoint } from "./scale-plan.ts";

/**
 * Question: what does a symbol cost? CPU, memory, throughput, latency and time to sync of the
 * whole engine at 100, 500 and 2,000 symbols, at live rates, with the default config.
 *
 * `bun run bench scale [--quick] [--duration S]` (run by name only; `--quick` runs the 100 point).
 *
 * Each point spreads its symbols over the five venues: 2 on Deribit (it carries only the DVOL
 * indices, BTC and ETH), the rest evenly over Binance spot, Binance USDⓈ-M, OKX spot and OKX
 * swaps (bench/scale-plan.ts `spreadSymbols`: 100 = 25/25/24/24 + 2, 500 = 125/125/124/124 + 2,
 * 2,000 = 500/500/499/499 + 2). The simulator serves its built-in generator with that many
 * symbols per venue at its live rate (`rate: "live"`: every book 10 updates a second, bursty
 * trades, a few hot symbols much busier, mark price, liquidations and DVOL at their venue
 * cadence; src/replay/live-feed.ts). The engine runs as a child process
 * (bench/e2e-engine.ts) on config/default.yaml: 100-level books once a second, every trade
 * stored, every venue a shard of the one shared ingest thread (`venues.<v>.workers: shared`, the
 * default: on the machine's two cores a thread per venue added switching, not intake), with
 * the venues pointed at the simulator and given explicit symbol lists, tiering off (its windows
 * close 10 minutes after the fact, so in a short run it only competes with the inserts) and a
 * 60 s stop deadline (the bench measures a complete drain).
 *
 * A point: start the simulator and the engine, wait until every book is live (`sync_s`, at most
 * `syncDeadlineS`; a point whose books do not all get there reports books_live < books_total
 * and is measured anyway), and until the engine has run WARM_UP_S, then measure for 60 s: the CPU of the engine's process tree (engine
 * and its embedded nats-server, % of one core: 200 % is the whole machine), the engine's peak
 * RSS and its slope (a steady rise of RSS_RISE_MB_PER_MIN or more fails the point), frames read
 * and records stored per second, and the fewest books live. Then the simulator
 * stops sending, the pipeline drains, the p99 of receipt -> commit over the rows received in the
 * window is read through the engine's `POST /query`, and the engine stops; its final counters
 * give the records lost (must be 0) and the simulator's stats the venue rules broken over the
 * whole point (must be 0). The simulator runs on a thread of this process (bench/sim-thread.ts)
 * at the engine's `ingest_nice` (10): it stands in for venues on other machines, so it takes the
 * CPU the engine leaves, as the engine's intake does, and never shares the cores evenly with the
 * engine's storing threads. Its CPU is printed beside the point, not counted in the engine's.
 */

/**
 * Seconds a point may take to get every book live: 120 s plus 0.4 s a symbol (100: 160 s, 2,000:
 * 920 s). The snapshots' weight sets the floor: at limit 1000 a spot snapshot weighs 50 of
 * Binance's 6,000 a minute and a USDⓈ-M one 20 of 2,400, so 500 books on either take about
 * 6 minutes at the budget's sustained 72 % of the limit (5.5 after its 18 % burst); the deadline
 * leaves three times that.
 */
const syncDeadlineS = (symbols: number): number => 120 + 0.4 * symbols;
const MEASURED_S = 60;
/**
 * Seconds the engine runs before a window opens, however soon its books are live. The
 * 100-symbol point syncs in ~8 s, and its RSS rises while heaps, allocator pages and chDB fill up
 * for the first time: 65 MB a minute (r2 0.57) over a window opened at sync, 44 MB a minute
 * (r2 0.4) over one opened at 60 s, 7.5 MB a minute (r2 0.2) over a 240 s window from 60 s.
 */
const WARM_UP_S = 120;
const DRAIN_DEADLINE_MS = 120_000;
const SAMPLE_EVERY_MS = 1000;

export interface ScaleOptions {
  quick: boolean;
  /** Measured seconds per point; default MEASURED_S. */
  duration_s?: number;
  /** Total symbols of each point; default SCALE_POINTS (quick: the first). */
  points?: readonly number[];
}

/** `suites.scale`: one ScalePoint per point, keyed by its total symbols, and the checks. */
export type ScaleBenchResult = Record<string, ScalePoint | boolean | string[]>;

const say = (line: string): void => {
  process.stderr.write(`bench: scale ${line}\n`);
};

/** Per record type with records unstored, what the engine counted on the way. */
function unstoredTypes(symbols: number, stats: StatsSnapshot): string[] {
  return RECORD_TYPES.flatMap((type) => {
    const t = stats.data_types[type];
    if (t === undefined || unstored(t) === 0) return [];
    const { ingested, published, stored, dropped, dead_lettered, duplicate_publishes, duplicate_deliveries, publish_errors, insert_errors } = t;
    const counts = { ingested, published, stored, dropped, dead_lettered, duplicate_publishes, duplicate_deliveries, publish_errors, insert_errors };
    return [`${symbols}: ${type}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")}`];
  });
}

/** The default config with every venue pointed at the simulator, on `symbols`. */
function scaleEngineConfig(simulator: SimulatorThread, symbols: Readonly<Record<VenueKey, string[]>>, data_dir: string): Config {
  const venues = Object.fromEntries(VENUE_KEYS.map((v) => [v, { symbols: symbols[v] }]));
  return configWith(
    mergeConfig(replayVenueOverrides(simulator), {
      venues,
      engine: { data_dir, shutdown_deadline_ms: 60_000 },
      tiering: { enabled: false },
      http: { port: 0 },
      nats: { embedded: { port: 0 } },
      log: { level: "warn" },
    }),
  );
}

/** Books the config asks for: one per symbol of every venue that collects order books. */
function booksTotal(config: Config): number {
  return sum(VENUE_KEYS.map((v) => (config.venues[v].data_types.includes("orderbook") ? config.venues[v].symbols.length : 0)));
}

const booksLive = (s: StatsSnapshot): number => sum(Object.values(s.books).map((list) => list.filter((b) => b.state === "live").length));

/** `binance_spot 97 live, 28 syncing; ...`: each venue's books by state, for a point whose books were not all live. */
function booksByState(s: StatsSnapshot): string {
  const venues = Object.entries(s.books).filter(([, list]) => list.length > 0);
  return venues
    .map(([venue, list]) => {
      const states = new Map<string, number>();
      for (const b of list) states.set(b.state, (states.get(b.state) ?? 0) + 1);
      return `${venue} ${[...states].map(([state, n]) => `${n} ${state}`).join(", ")}`;
    })
    .join("; ");
}

function isRow(value: unknown): value is { t: string; rows: number; p99_ms: number } {
  return typeof value === "object" && value !== null && "t" in value && "rows" in value && "p99_ms" in value;
}

/**
 * p99 of created_at - received_at over every table's rows received in [from_ms, to_ms), and per
 * table that has rows (for the point's log line), through the engine's POST /query.
 */
async function p99ReceiptToCommit(
  url: string,
  database: string,
  from_ms: number,
  to_ms: number,
): Promise<{ rows: number; p99_ms: number; tables: Record<string, number> }> {
  const window = `received_at >= fromUnixTimestamp64Milli(toInt64(${Math.floor(from_ms)})) AND received_at < fromUnixTimestamp64Milli(toInt64(${Math.ceil(to_ms)}))`;
  const diffs = RECORD_TYPES.map(
    (t) => `SELECT '${TABLES[t]}' AS t, toUnixTimestamp64Milli(created_at) - toUnixTimestamp64Milli(received_at) AS d FROM ${database}.${TABLES[t]} WHERE ${window}`,
  );
  const sql =
    `SELECT t, toFloat64(count()) AS rows, toFloat64(ifNotFinite(quantileExact(0.99)(d), 0)) AS p99_ms ` +
    `FROM (${diffs.join(" UNION ALL ")}) GROUP BY t WITH ROLLUP FORMAT JSONEachRow`;
  const res = await fetch(`${url}/query`, { method: "POST", body: sql, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`scale: POST /query answered ${res.status}: ${text.slice(0, 500)}`);
  const rows: unknown[] = text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line) as unknown);
  if (!rows.every(isRow)) throw new Error(`scale: the latency query returned ${text.slice(0, 200)}`);
  // ROLLUP's total row has the empty table name.
  const all = rows.find((r) => r.t === "");
  const tables = Object.fromEntries(rows.filter((r) => r.t !== "").map((r) => [r.t, Number(r.p99_ms)]));
  return { rows: Number(all?.rows ?? 0), p99_ms: Number(all?.p99_ms ?? 0), tables };
}

async function runPoint(symbols: number, duration_s: number): Promise<{ point: ScalePoint; problems: string[] }> {
  const counts = spreadSymbols(symbols);
  const assets = generatedAssets(counts);
  const generating = performance.now();
  const simulator = await SimulatorThread.start(assets, configWith().engine.ingest_nice);
  say(`${symbols}: simulator up in ${((performance.now() - generating) / 1000).toFixed(1)} s (${simulator.description}, live rate)`);
  const work = mkdtempSync(join(tmpdir(), "spectra-scale-bench-"));
  let engine: EngineChild | null = null;
  try {
    const config = scaleEngineConfig(simulator, venueSymbols(simulator.symbols, counts), join(work, "data"));
    const books_total = booksTotal(config);
    const starting = performance.now();
    engine = await startEngineChild(config, work);
    const child = engine;

    // Sync: every book live, or the deadline.
    const deadline_s = syncDeadlineS(symbols);
    let live = 0;
    let reported = 0;
    while (true) {
      const s = await child.sample();
      child.assertRunning("while its books synced");
      live = booksLive(s.stats);
      const elapsed_s = (performance.now() - starting) / 1000;
      if (live >= books_total || elapsed_s >= deadline_s) break;
      if (elapsed_s - reported >= 15) {
        reported = elapsed_s;
        say(`${symbols}: ${live} of ${books_total} books live after ${Math.round(elapsed_s)} s (${booksByState(s.stats)})`);
      }
      await Bun.sleep(SAMPLE_EVERY_MS);
    }
    const sync_s = (performance.now() - starting) / 1000;
    say(`${symbols}: ${live} of ${books_total} books live after ${sync_s.toFixed(1)} s; measuring ${duration_s} s${sync_s < WARM_UP_S ? ` from ${WARM_UP_S} s` : ""}`);
    if (sync_s < WARM_UP_S) await Bun.sleep((WARM_UP_S - sync_s) * 1000);

    // The measured window.
    const cpuStart = treeCpuS(child.pid);
    const simStart = processCpuS(process.pid) ?? 0;
    const first = await child.sample();
    const from_ms = Date.now();
    let last: Sample = first;
    let fewestLive = booksLive(first.stats);
    while (last.t_s - first.t_s < duration_s) {
      await Bun.sleep(Math.min(SAMPLE_EVERY_MS, Math.max(0, (first.t_s + duration_s - last.t_s) * 1000)));
      last = await child.sample();
      child.assertRunning("during the measured window");
      fewestLive = Math.min(fewestLive, booksLive(last.stats));
    }
    const to_ms = Date.now();
    const window_s = last.t_s - first.t_s;
    const engine_cpu_s = treeCpuBetween(cpuStart, treeCpuS(child.pid));
    const sim_cpu_pct = Math.round((((processCpuS(process.pid) ?? 0) - simStart) / window_s) * 1000) / 10;
    const windowSamples = child.samples.filter((s) => s.t_s >= first.t_s && s.t_s <= last.t_s && s.rss_mb !== null);
    const rss = windowSamples.map((s) => s.rss_mb ?? 0);

    // Stop sending without closing sockets, let the pipeline catch up, read the latency, stop.
    for (const venue of VENUE_KEYS) simulator.skip(venue, Number.MAX_SAFE_INTEGER);
    const drain = await drainEngine(child, last, DRAIN_DEADLINE_MS);
    const latency = await p99ReceiptToCommit(child.url, config.clickhouse.hot_database, from_ms, to_ms);
    const final = (await child.stop()).stats;
    const violations = await simulator.violations();
    const ingested = typeTotal(final, "ingested");
    const stored = typeTotal(final, "stored");
    const dropped = typeTotal(final, "dropped");

    const point = scalePoint({
      window_s,
      engine_cpu_s,
      peak_rss_mb: Math.max(0, ...rss),
      messages: messagesIn(last.stats) - messagesIn(first.stats),
      stored: typeTotal(last.stats, "stored") - typeTotal(first.stats, "stored"),
      lost: sum(Object.values(final.data_types).map(unstored)) + dropped,
      p99_ms: latency.p99_ms,
      rate_limited: violations.total,
      books_live: fewestLive,
      books_total,
      sync_s: Math.min(sync_s, deadline_s),
      rss_trend: rssTrend(windowSamples),
    });
    // What went wrong, with the venue rules and the engine's own warnings beside it.
    const problems = pointChecks(symbols, point);
    if (point.lost !== 0) problems.push(...unstoredTypes(symbols, final));
    if (!drain.drained) problems.push(`${symbols}: the pipeline had not drained ${DRAIN_DEADLINE_MS} ms after the simulator stopped sending (${drain.state})`);
    if (point.books_live < books_total) problems.push(`${symbols}: books at the end of the window: ${booksByState(last.stats)}`);
    if (violations.total > 0) problems.push(`${symbols}: venue rules broken: ${JSON.stringify(violations.venues)} (${JSON.stringify(violations.details)})`);
    if (problems.length > 0) problems.push(...engineWarnings(child.logTail()).map((w) => `${symbols}: engine warning: ${w}`));
    say(
      `${symbols}: engine ${point.cpu_pct} % CPU, RSS ${point.rss_mb} MB, ${point.msgs_per_s} frames/s, ${point.stored_per_s} stored/s, ` +
        `p99 ${point.p99_ms} ms over ${latency.rows} rows (${Object.entries(latency.tables).map(([t, ms]) => `${t} ${ms}`).join(", ")}), lost ${point.lost} (ingested ${ingested}, stored ${stored}, duplicate publishes ${typeTotal(final, "duplicate_publishes")}, dropped ${dropped}); ` +
        `simulator (this process) ${sim_cpu_pct} % CPU`,
    );
    return { point, problems };
  } finally {
    await engine?.kill();
    await simulator.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export async function runScaleBench(opts: ScaleOptions): Promise<ScaleBenchResult> {
  const points = opts.points ?? (opts.quick ? SCALE_POINTS.slice(0, 1) : SCALE_POINTS);
  const duration_s = opts.duration_s ?? MEASURED_S;
  const result: ScaleBenchResult = {};
  const checks: string[] = [];
  for (const symbols of points) {
    try {
      const { point, problems } = await runPoint(symbols, duration_s);
      result[String(symbols)] = point;
      checks.push(...problems);
    } catch (error) {
      checks.push(`${symbols}: ${(error as Error).message.slice(0, 2000)}`);
      say(`${symbols}: FAILED: ${(error as Error).message.slice(0, 2000)}`);
    }
  }
  result.checks_passed = checks.length === 0;
  result.checks = checks;
  return result;
}

/**
 * `bun bench/scale.bench.ts [--points 500,2000] [--duration S]`: the chosen points alone, printed
 * as JSON and written nowhere (bench/results stays for full `bun run bench scale` runs).
 */
if (import.meta.main) {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const points = value("--points")?.split(",").map(Number);
  const duration = value("--duration");
  const duration_s = duration === undefined ? undefined : Number(duration);
  try {
    points?.forEach(spreadSymbols);
  } catch (error) {
    process.stderr.write(`bench: --points ${value("--points")}: ${(error as Error).message}\n`);
    process.exit(2);
  }
  if (duration_s !== undefined && (!Number.isFinite(duration_s) || duration_s <= 0)) {
    process.stderr.write("bench: --duration needs a positive number of seconds\n");
    process.exit(2);
  }
  const result = await runScaleBench({ quick: args.includes("--quick"), ...(points === undefined ? {} : { points }), ...(duration_s === undefined ? {} : { duration_s }) });
  console.log(JSON.stringify(result, null, 2));
  process.exit(result.checks_passed === true ? 0 : 1);
}
