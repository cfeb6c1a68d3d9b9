import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VENUE_KEYS, type VenueKey } from "../src/config/venue-keys.ts";
import type { StatsSnapshot } from "../src/http/stats-types.ts";
import { RECORD_TYPES, type RecordType } from "../src/records/types.ts";
import { replaySource } from "../src/replay/source.ts";
import { startSimulator, type Simulator } from "../src/replay/simulator.ts";
import { createChdbClient, embeddedPath } from "../src/storage/client.ts";
import { naturalIdColumns } from "../src/storage/schema.ts";
import { TABLES } from "../src/storage/types.ts";
import { benchEngineConfig, drainEngine, engineWarnings, messagesIn, rssTrend, startEngineChild, typeTotal, waitUntil, type EngineChild, type Sample } from "./engine-child.ts";
import { readHistory } from "./history.ts";
import { childProcesses } from "./proc-sample.ts";

/**
 * Question: does the engine lose or duplicate anything while the things it depends on fail on
 * a schedule, and does its memory stay flat over half an hour?
 *
 * `bun run bench soak [--duration S] [--quick]` runs the engine (a child process, as in e2e)
 * against the simulator at about half the frame rate e2e sustains, and on a fault schedule:
 * - every NATS_PERIOD_S it kills the embedded nats-server with SIGKILL (the supervisor starts
 *   it again on the same port and store);
 * - every VENUE_PERIOD_S it disconnects one venue for DISCONNECT_S seconds through the
 *   simulator's fault injection (`POST /simulator/faults`), the venues in turn;
 * - every WORKER_PERIOD_S it kills one batch worker thread, the workers in turn.
 * A fault counts as survived when the engine recovers from it within RECOVERY_DEADLINE_S: a new
 * nats-server serving and /health 200 again; the venue reconnected and delivering; the worker
 * restarted and running. Afterwards the simulator stops sending, the pipeline drains, the
 * engine stops, and the stored rows are counted: lost = records ingested - rows under FINAL
 * (must be 0), and duplicates under FINAL = rows whose natural id appears twice after FINAL
 * (must be 0). Rows beyond FINAL's are batches stored again after a crash or a lost ack (a
 * killed worker's last insert, redelivered in another batch): `redelivered_rows`, which merges
 * and FINAL collapse, and which the engine's `stored` counter counts twice.
 */

const SCHEDULES = {
  default: { duration_s: 1800, nats_period_s: 300, venue_period_s: 60, worker_period_s: 180 },
  quick: { duration_s: 150, nats_period_s: 50, venue_period_s: 20, worker_period_s: 35 },
};
const DISCONNECT_S = 5;
const RECOVERY_DEADLINE_S = 60;
/** Frame rate when the history has no e2e figure to halve, frames/s over all feeds. */
const FALLBACK_TOTAL_RATE = 50_000;
/** Simulator feeds the rate is spread over (Binance spot, Binance USDⓈ-M, OKX, Deribit). */
const FEEDS = 4;

export type SoakFaultKind = "nats_kill" | "venue_disconnect" | "batch_worker_kill";

export interface SoakFault {
  readonly kind: SoakFaultKind;
  readonly target: string;
  /** Seconds into the run. */
  readonly at_s: number;
  survived: boolean;
  /** Seconds from the fault until the engine had recovered; null while it has not. */
  recovered_s: number | null;
}

export interface SoakBenchResult {
  /** What the simulator replayed: `recordings <dir>` or `generator (<n> symbols per venue)`. */
  source: string;
  duration_s: number;
  target_msgs_per_s: number;
  msgs_per_s: number;
  ingested: number;
  stored: number;
  dropped: number;
  lost: number;
  rows: number;
  rows_final: number;
  redelivered_rows: number;
  duplicates_final: number;
  faults_injected: number;
  faults_survived: number;
  faults_by_kind: Record<string, { injected: number; survived: number }>;
  peak_rss_mb: number;
  rss_slope_mb_per_min: number;
  rss_slope_r2: number;
  drain_s: number;
  checks_passed: boolean;
  checks: string[];
  faults: SoakFault[];
  engine_warnings: string[];
}

export interface SoakOptions {
  quick: boolean;
  duration_s?: number;
  /** Simulator frames/s per feed; default half the latest e2e figure over FEEDS feeds. */
  rate_per_feed?: number;
}

/** Half the frame rate of the latest full e2e run in bench/results/history.jsonl. */
function defaultTotalRate(): number {
  const lines = readHistory(join(import.meta.dir, "results", "history.jsonl"));
  for (const line of lines.toReversed()) {
    const e2e = line.suites.e2e;
    if (line.quick || typeof e2e !== "object" || e2e === null || Array.isArray(e2e)) continue;
    const rate = e2e.msgs_per_s;
    if (typeof rate === "number" && rate > 0) return Math.round(rate / 2);
  }
  return FALLBACK_TOTAL_RATE;
}

interface Pending {
  readonly fault: SoakFault;
  /** True once the engine has recovered, judged on the newest sample. */
  readonly recovered: (now: Sample) => boolean | Promise<boolean>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

const natsPid = (engine: EngineChild): number | undefined => childProcesses(engine.pid).find((c) => c.name === "nats-server")?.pid;

function killNats(engine: EngineChild, at_s: number): Pending | null {
  const pid = natsPid(engine);
  if (pid === undefined) return null;
  process.kill(pid, "SIGKILL");
  const fault: SoakFault = { kind: "nats_kill", target: `nats-server ${pid}`, at_s, survived: false, recovered_s: null };
  const published = (s: StatsSnapshot) => typeTotal(s, "published");
  const before = published(engine.samples[engine.samples.length - 1]?.stats ?? ({ data_types: {} } as StatsSnapshot));
  return {
    fault,
    recovered: async (now) => {
      const next = natsPid(engine);
      return next !== undefined && next !== pid && published(now.stats) > before && (await healthy(engine.url));
    },
  };
}

async function disconnectVenue(sim: Simulator, engine: EngineChild, venue: VenueKey, at_s: number): Promise<Pending> {
  const res = await fetch(`${sim.url}/simulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ venue, kind: "disconnect", seconds: DISCONNECT_S }),
  });
  if (!res.ok) throw new Error(`soak: POST /simulator/faults answered ${res.status}: ${await res.text()}`);
  const last = engine.samples[engine.samples.length - 1]?.stats.venues[venue];
  const reconnects = last?.reconnects ?? 0;
  const fault: SoakFault = { kind: "venue_disconnect", target: venue, at_s, survived: false, recovered_s: null };
  let inAfter: number | null = null;
  return {
    fault,
    recovered: (now) => {
      const v = now.stats.venues[venue];
      if (v === undefined || v.reconnects <= reconnects || now.t_s < at_s + DISCONNECT_S) return false;
      // Delivering again: messages counted after the reconnect.
      inAfter ??= v.messages_in;
      return v.messages_in > inAfter;
    },
  };
}

function killWorker(engine: EngineChild, id: string, at_s: number): Pending {
  const restarts = engine.samples[engine.samples.length - 1]?.stats.workers.find((w) => w.id === id)?.restarts ?? 0;
  engine.killWorker(id);
  const fault: SoakFault = { kind: "batch_worker_kill", target: id, at_s, survived: false, recovered_s: null };
  return {
    fault,
    recovered: (now) => {
      const w = now.stats.workers.find((x) => x.id === id);
      return w !== undefined && w.restarts > restarts && w.state === "running";
    },
  };
}

/**
 * Types whose natural id names one record on its own (a trade id, a book's last update id), so
 * the same id under two timestamps is a duplicate that FINAL cannot collapse. The bucketed types'
 * keys include their bucket time (many funding records share one funding_time).
 */
const ID_KEYED: readonly RecordType[] = ["trade", "orderbook"];

/** Rows, rows under FINAL, and rows of ID_KEYED tables whose natural id appears more than once under FINAL. */
async function measureStore(data_dir: string, database: string): Promise<{ rows: number; rows_final: number; duplicates_final: number }> {
  const client = createChdbClient(embeddedPath(data_dir));
  const scalar = async (sql: string): Promise<number> => {
    const [row] = await (await client.query({ query: `${sql} SETTINGS output_format_json_quote_64bit_integers = 0`, format: "JSONEachRow" })).json<{ n: number }>();
    return Number(row?.n ?? 0);
  };
  try {
    let rows = 0;
    let rows_final = 0;
    let duplicates_final = 0;
    for (const type of RECORD_TYPES) {
      const table = `${database}.${TABLES[type]}`;
      rows += await scalar(`SELECT count() AS n FROM ${table}`);
      rows_final += await scalar(`SELECT count() AS n FROM ${table} FINAL`);
      if (!ID_KEYED.includes(type)) continue;
      const key = ["exchange", "market_type", "symbol", ...naturalIdColumns(type)].join(", ");
      duplicates_final += await scalar(`SELECT count() - uniqExact(${key}) AS n FROM ${table} FINAL`);
    }
    return { rows, rows_final, duplicates_final };
  } finally {
    await client.close();
  }
}

export async function runSoakBench(opts: SoakOptions): Promise<SoakBenchResult> {
  const schedule = opts.quick ? SCHEDULES.quick : SCHEDULES.default;
  const duration_s = opts.duration_s ?? schedule.duration_s;
  const target = opts.rate_per_feed === undefined ? defaultTotalRate() : opts.rate_per_feed * FEEDS;
  const work = mkdtempSync(join(tmpdir(), "spectra-soak-bench-"));
  const data_dir = join(work, "data");
  // The recordings beside the checkout when present, the built-in generator otherwise.
  const source = replaySource(null, false);
  const simulator = await startSimulator({ source, rate: Math.max(1, Math.round(target / FEEDS)), host: "127.0.0.1", port: 0 });
  let engine: EngineChild | null = null;
  try {
    const config = benchEngineConfig(simulator, data_dir);
    engine = await startEngineChild(config, work);
    const child = engine;
    await waitUntil("the first venue frames", 30_000, async () => messagesIn((await child.sample()).stats) > 0, 250);
    const first = await child.sample();
    const faults: SoakFault[] = [];
    const pending: Pending[] = [];
    const batchWorkers = first.stats.workers.filter((w) => w.kind === "batch").map((w) => w.id);
    const next = { nats: schedule.nats_period_s, venue: schedule.venue_period_s, worker: schedule.worker_period_s };
    let venueTurn = 0;
    let workerTurn = 0;
    let last = first;
    // Faults stop a recovery deadline before the end: the simulator stops sending then, and a
    // fault injected later could not be seen recovering.
    const last_fault_s = duration_s - RECOVERY_DEADLINE_S;
    while (last.t_s - first.t_s < duration_s) {
      await Bun.sleep(1000);
      last = await child.sample();
      child.assertRunning("during the soak");
      const at = last.t_s - first.t_s;
      if (at >= last_fault_s) next.venue = next.worker = next.nats = Number.POSITIVE_INFINITY;
      if (at >= next.venue) {
        next.venue += schedule.venue_period_s;
        const venue = VENUE_KEYS[venueTurn++ % VENUE_KEYS.length] ?? "binance_spot";
        pending.push(await disconnectVenue(simulator, child, venue, at));
      }
      if (at >= next.worker && batchWorkers.length > 0) {
        next.worker += schedule.worker_period_s;
        pending.push(killWorker(child, batchWorkers[workerTurn++ % batchWorkers.length] ?? "", at));
      }
      if (at >= next.nats) {
        next.nats += schedule.nats_period_s;
        const p = killNats(child, at);
        if (p === null) throw new Error("soak: the engine has no nats-server child to kill");
        pending.push(p);
      }
      for (const p of [...pending]) {
        if (!p.fault.survived && (await p.recovered(last))) {
          p.fault.survived = true;
          p.fault.recovered_s = Math.round((at - p.fault.at_s) * 10) / 10;
        }
        if (p.fault.survived || at - p.fault.at_s > RECOVERY_DEADLINE_S) {
          faults.push(p.fault);
          pending.splice(pending.indexOf(p), 1);
        }
      }
    }
    const window = child.samples.filter((s) => s.t_s >= first.t_s && s.t_s <= last.t_s);
    const msgs_per_s = Math.round((messagesIn(last.stats) - messagesIn(first.stats)) / (last.t_s - first.t_s));
    // Faults whose recovery is still open get the drain's time to finish it.
    for (const venue of VENUE_KEYS) simulator.skip(venue, Number.MAX_SAFE_INTEGER);
    const drain = await drainEngine(child, last, Math.max(120_000, RECOVERY_DEADLINE_S * 1000));
    const end = child.samples[child.samples.length - 1] ?? last;
    for (const p of pending) {
      if (await p.recovered(end)) {
        p.fault.survived = true;
        p.fault.recovered_s = Math.round((end.t_s - first.t_s - p.fault.at_s) * 10) / 10;
      }
      faults.push(p.fault);
    }
    const final = await child.stop();
    const stats = final.stats;
    const store = await measureStore(data_dir, config.clickhouse.hot_database);

    const ingested = typeTotal(stats, "ingested");
    const stored = typeTotal(stats, "stored");
    const dropped = typeTotal(stats, "dropped");
    const checks: string[] = [];
    if (!drain.drained) checks.push(`the pipeline had not drained after the simulator stopped sending (${drain.state})`);
    const lost = ingested - store.rows_final;
    if (lost !== 0) checks.push(`lost ${lost} records: ingested ${ingested}, ${store.rows_final} rows under FINAL, engine counted ${stored} stored and ${dropped} dropped`);
    if (store.duplicates_final !== 0) checks.push(`${store.duplicates_final} rows duplicated under FINAL`);
    const by_kind: Record<string, { injected: number; survived: number }> = {};
    for (const f of faults) {
      const k = (by_kind[f.kind] ??= { injected: 0, survived: 0 });
      k.injected++;
      if (f.survived) k.survived++;
      else checks.push(`${f.kind} of ${f.target} at ${Math.round(f.at_s)} s: no recovery within ${RECOVERY_DEADLINE_S} s`);
    }
    if (faults.length === 0) checks.push("no fault was injected");
    const trend = rssTrend(window);
    const rss = child.samples.map((s) => s.rss_mb).filter((v): v is number => v !== null);
    return {
      source: source.description,
      duration_s: Math.round(last.t_s - first.t_s),
      target_msgs_per_s: target,
      msgs_per_s,
      ingested,
      stored,
      dropped,
      lost,
      rows: store.rows,
      rows_final: store.rows_final,
      redelivered_rows: store.rows - store.rows_final,
      duplicates_final: store.duplicates_final,
      faults_injected: faults.length,
      faults_survived: faults.filter((f) => f.survived).length,
      faults_by_kind: by_kind,
      peak_rss_mb: Math.round(Math.max(0, ...rss) * 10) / 10,
      rss_slope_mb_per_min: trend.slope_mb_per_min,
      rss_slope_r2: trend.r2,
      drain_s: drain.drain_s,
      checks_passed: checks.length === 0,
      checks,
      faults,
      engine_warnings: engineWarnings(child.logTail(), 10),
    };
  } finally {
    await engine?.kill();
    await simulator.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
