import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedNats } from "../src/bus/embedded-nats.ts";
import { configWith } from "../src/config/load.ts";
import { VENUE_KEYS } from "../src/config/venue-keys.ts";
import { replaySource } from "../src/replay/source.ts";
import { startSimulator } from "../src/replay/simulator.ts";
import { TABLES } from "../src/storage/types.ts";
import { runE2eBench } from "./e2e.bench.ts";
import { benchEngineConfig, messagesIn, startEngineChild, typeTotal, waitUntil, type EngineChild } from "./engine-child.ts";
import { processCpuS, treeCpuBetween, treeCpuS } from "./proc-sample.ts";

/**
 * Question: how many venue frames a second does one core of a collector read and publish, and
 * how many rows a second does one core of a storer store, when the two run as separate processes
 * (`--role collect` and `--role store`, as a deployment runs them), beside the same figures of
 * the all-in-one engine? These are the figures README "Deployment" sizes N collectors and M
 * storers from.
 *
 * Layout: the simulator at its maximum rate in this process; one nats-server (JetStream, its own
 * store) as a child of this process; a collector and a storer engine, each a child process
 * (bench/e2e-engine.ts) with its own data directory, the storer's embedded ClickHouse its own.
 * CPU is each process tree's utime + stime over the measured window (/proc), so a collector's
 * figure excludes nats-server and the simulator, and a storer's excludes nats-server. After the
 * window the simulator stops sending, the storer catches up with everything the collector
 * published, and both stop gracefully. Then the all-in-one e2e run (bench/e2e.bench.ts) runs on
 * the same machine, and its engine's CPU (nats-server included, as it is its child) gives its
 * per-core figures.
 *
 * Checks: the storer stored exactly what the collector published (rows counted in its ClickHouse
 * through its /query), the collector published everything it ingested, and the all-in-one run's
 * own checks.
 */

export interface SplitFigures {
  frames_per_s: number;
  published_per_s: number;
  stored_per_s: number;
  /** Cores the collector process used (1.0 = one core busy all the window). */
  collector_cores: number;
  storer_cores: number;
  nats_cores: number;
  frames_per_collector_core: number;
  rows_per_storer_core: number;
  published: number;
  stored: number;
  rows: number;
}

export interface AllInOneFigures {
  frames_per_s: number;
  stored_per_s: number;
  /** Cores of the engine process with its embedded nats-server. */
  engine_cores: number;
  frames_per_engine_core: number;
  rows_per_engine_core: number;
  p99_ms: number;
}

export interface E2eSplitResult {
  source: string;
  duration_s: number;
  split: SplitFigures;
  all_in_one: AllInOneFigures;
  checks_passed: boolean;
  checks: string[];
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

async function runSplit(quick: boolean, duration_s: number, checks: string[]): Promise<{ source: string; figures: SplitFigures }> {
  const warmup_s = quick ? 3 : 15;
  const work = mkdtempSync(join(tmpdir(), "spectra-e2e-split-"));
  const source = replaySource(null, false);
  const simulator = await startSimulator({ source, rate: 0, host: "127.0.0.1", port: 0 });
  const nats = await startEmbeddedNats({ binary: configWith().nats.embedded.binary, host: "127.0.0.1", port: 0, store_dir: join(work, "nats") });
  const children: EngineChild[] = [];
  try {
    const role = (name: "collect" | "store") => benchEngineConfig(simulator, join(work, name, "data"), { engine: { role: name }, nats: { servers: [nats.url] } });
    for (const name of ["collect", "store"] as const) children.push(await startEngineChild(role(name), mkdtempSync(join(work, `${name}-run-`))));
    const [collector, storer] = children as [EngineChild, EngineChild];
    await waitUntil("the first venue frames", 30_000, async () => messagesIn((await collector.sample()).stats) > 0, 250);
    await Bun.sleep(warmup_s * 1000);
    const c0 = await collector.sample();
    const s0 = await storer.sample();
    const cpu0 = { c: treeCpuS(collector.pid), s: treeCpuS(storer.pid), n: processCpuS(nats.pid) ?? 0 };
    let c1 = c0;
    while (c1.t_s - c0.t_s < duration_s) {
      await Bun.sleep(1000);
      c1 = await collector.sample();
      collector.assertRunning("during the run");
      storer.assertRunning("during the run");
    }
    const s1 = await storer.sample();
    const cpu1 = { c: treeCpuS(collector.pid), s: treeCpuS(storer.pid), n: processCpuS(nats.pid) ?? 0 };
    const window_s = c1.t_s - c0.t_s;
    const storer_window_s = s1.t_s - s0.t_s;

    for (const venue of VENUE_KEYS) simulator.skip(venue, Number.MAX_SAFE_INTEGER);
    const drained = await waitUntil("the storer to store what the collector published", Math.max(60_000, duration_s * 2000), async () => {
      const [c, s] = [await collector.sample(), await storer.sample()];
      const previous = collector.samples[collector.samples.length - 2];
      const quiet = previous !== undefined && messagesIn(c.stats) - messagesIn(previous.stats) <= 20;
      return quiet && typeTotal(c.stats, "published") === typeTotal(c.stats, "ingested") && typeTotal(s.stats, "stored") >= typeTotal(c.stats, "published");
    }, 500).then(
      () => true,
      () => false,
    );
    if (!drained) checks.push("split: the storer had not caught up with the collector after the simulator stopped sending");
    const db = role("store").clickhouse.hot_database;
    const res = await fetch(`${storer.url}/query`, {
      method: "POST",
      body: `SELECT toUInt64(sum(c)) AS rows FROM (${Object.values(TABLES)
        .map((t) => `SELECT count() AS c FROM ${db}.${t}`)
        .join(" UNION ALL ")}) FORMAT JSONEachRow`,
    });
    const rowsText = await res.text();
    const rows = res.status === 200 ? Number((JSON.parse(rowsText) as { rows: string | number }).rows) : -1;
    if (res.status !== 200) checks.push(`split: counting the storer's rows failed: ${rowsText}`);
    const cFinal = (await collector.stop()).stats;
    const sFinal = (await storer.stop()).stats;
    const published = typeTotal(cFinal, "published");
    const stored = typeTotal(sFinal, "stored");
    if (typeTotal(cFinal, "ingested") !== published) checks.push(`split: collector ingested ${typeTotal(cFinal, "ingested")}, published ${published}`);
    if (stored !== published) checks.push(`split: collector published ${published}, storer stored ${stored}`);
    if (rows !== stored) checks.push(`split: storer stored ${stored}, its tables hold ${rows} rows before its stop`);

    const collector_cores = treeCpuBetween(cpu0.c, cpu1.c) / window_s;
    const storer_cores = treeCpuBetween(cpu0.s, cpu1.s) / window_s;
    const frames_per_s = (messagesIn(c1.stats) - messagesIn(c0.stats)) / window_s;
    const stored_per_s = (typeTotal(s1.stats, "stored") - typeTotal(s0.stats, "stored")) / storer_window_s;
    return {
      source: source.description,
      figures: {
        frames_per_s: Math.round(frames_per_s),
        published_per_s: Math.round((typeTotal(c1.stats, "published") - typeTotal(c0.stats, "published")) / window_s),
        stored_per_s: Math.round(stored_per_s),
        collector_cores: round2(collector_cores),
        storer_cores: round2(storer_cores),
        nats_cores: round2((cpu1.n - cpu0.n) / window_s),
        frames_per_collector_core: Math.round(frames_per_s / collector_cores),
        rows_per_storer_core: Math.round(stored_per_s / storer_cores),
        published,
        stored,
        rows,
      },
    };
  } finally {
    for (const c of children) await c.kill();
    await nats.stop();
    await simulator.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export async function runE2eSplitBench(opts: { quick: boolean; duration_s?: number }): Promise<E2eSplitResult> {
  const duration_s = opts.duration_s ?? (opts.quick ? 15 : 60);
  const checks: string[] = [];
  const split = await runSplit(opts.quick, duration_s, checks);
  const whole = await runE2eBench({ quick: opts.quick, duration_s });
  checks.push(...whole.checks.map((c) => `all-in-one: ${c}`));
  // The engine process and its children (the embedded nats-server), not the bench and simulator.
  const engine_cores = whole.threads.filter((t) => t.process !== "bench+simulator").reduce((s, t) => s + t.cpu_pct, 0) / 100;
  return {
    source: split.source,
    duration_s,
    split: split.figures,
    all_in_one: {
      frames_per_s: whole.msgs_per_s,
      stored_per_s: whole.stored_per_s,
      engine_cores: round2(engine_cores),
      frames_per_engine_core: Math.round(whole.msgs_per_s / engine_cores),
      rows_per_engine_core: Math.round(whole.stored_per_s / engine_cores),
      p99_ms: round1(whole.p99_ms),
    },
    checks_passed: checks.length === 0,
    checks,
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--duration");
  const duration_s = at >= 0 ? Number(args[at + 1]) : undefined;
  console.log(JSON.stringify(await runE2eSplitBench({ quick: args.includes("--quick"), ...(duration_s === undefined ? {} : { duration_s }) }), null, 2));
}
