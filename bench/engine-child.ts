import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configWith, mergeConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/schema.ts";
import { replayVenueOverrides } from "../src/replay/overrides.ts";
import type { Simulator } from "../src/replay/simulator.ts";
import type { StatsSnapshot, TypeStats } from "../src/http/stats-types.ts";
import { withAllocatorEnv } from "../src/setup/allocator.ts";
import { E2E_TUNING } from "./e2e-tuning.ts";
import { rssMb } from "./proc-sample.ts";

/**
 * The engine as a child process for the benches that run it whole (e2e, soak): started from a
 * config file through bench/e2e-engine.ts, watched through its /stats, drained and stopped on
 * SIGTERM, with its final counters and its log. Its RSS and per-thread CPU are its own, and its
 * chDB data path is the only one that process opens.
 */

export interface Sample {
  t_s: number;
  stats: StatsSnapshot;
  rss_mb: number | null;
}

export interface EngineChild {
  readonly url: string;
  readonly pid: number;
  readonly process: ReturnType<typeof Bun.spawn>;
  /** Every sample taken so far, oldest first. */
  readonly samples: Sample[];
  /** Reads /stats and RSS now and keeps the sample. */
  sample(): Promise<Sample>;
  /** Throws with the log's tail when the engine has exited. */
  assertRunning(during: string): void;
  /** SIGTERM, a graceful stop, and the counters the engine read after it. */
  stop(): Promise<{ stop_ms: number; stats: StatsSnapshot }>;
  /** The last 200 kB of the engine's stdout and stderr. */
  logTail(): string;
  /** SIGKILL if still running. */
  kill(): Promise<void>;
  /** Kills worker `id` inside the engine as a crash would (bench/e2e-engine.ts, SIGUSR2). */
  killWorker(id: string): void;
}

function isStats(value: unknown): value is StatsSnapshot {
  return typeof value === "object" && value !== null && "venues" in value && "data_types" in value && "workers" in value;
}

export async function fetchStats(url: string): Promise<StatsSnapshot> {
  const res = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(5000) });
  const body: unknown = await res.json();
  if (!isStats(body)) throw new Error(`bench: /stats answered something that is not a stats snapshot`);
  return body;
}

export const sum = (values: Iterable<number>): number => {
  let s = 0;
  for (const v of values) s += v;
  return s;
};
export const messagesIn = (s: StatsSnapshot): number => sum(Object.values(s.venues).map((v) => v.messages_in));
/** Bytes waiting in every ring (each ring is listed once, by the batch worker that reads it). */
export const ringBytes = (s: StatsSnapshot): number => sum(s.workers.filter((w) => w.kind === "batch").flatMap((w) => w.rings.map((r) => r.depth_bytes)));
export const typeTotal = (s: StatsSnapshot, key: "ingested" | "published" | "stored" | "dropped" | "overflow" | "duplicate_publishes"): number =>
  sum(Object.values(s.data_types).map((t) => t[key]));
/**
 * Records a type's engine took in and did not store: ingested - stored, less the records the
 * stream kept out as copies of records it already held (`duplicate_publishes`: records sent
 * again under natural keys already published, which ClickHouse would collapse anyway).
 */
export const unstored = (t: TypeStats): number => t.ingested - t.stored - t.duplicate_publishes;

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

/** RSS slope (MB/min) and its r2 over the samples that have an RSS reading. */
export function rssTrend(samples: readonly Sample[]): { slope_mb_per_min: number; r2: number } {
  const fit = linearFit(samples.flatMap((s) => (s.rss_mb === null ? [] : [{ x: s.t_s / 60, y: s.rss_mb }])));
  return { slope_mb_per_min: Math.round(fit.slope * 10) / 10, r2: Math.round(fit.r2 * 100) / 100 };
}

export async function waitUntil(what: string, deadline_ms: number, check: () => boolean | Promise<boolean>, every_ms = 100): Promise<void> {
  const until = Date.now() + deadline_ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`bench: timed out after ${deadline_ms} ms waiting for ${what}`);
    await Bun.sleep(every_ms);
  }
}

/**
 * The pino lines at warn level or above, one per kind (venue shard or else worker, and `msg`, the first `limit`
 * kinds): the first line's `msg` with its error's message and any `detail`, and how many more
 * lines of that kind followed. Kinds, not lines: a hundred symbols' timed-out requests are one
 * entry and leave room for the warnings that differ.
 */
export function engineWarnings(log: string, limit = 5): string[] {
  const kinds = new Map<string, { first: string; more: number }>();
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry: unknown = JSON.parse(line);
      if (typeof entry === "object" && entry !== null && "level" in entry && "msg" in entry && Number(entry.level) >= 40) {
        // A shared ingest thread's lines name their venue shard too: the shard says more.
        const who = "shard" in entry ? `${String(entry.shard)}: ` : "worker" in entry ? `${String(entry.worker)}: ` : "";
        const key = `${who}${String(entry.msg)}`;
        const kind = kinds.get(key);
        if (kind !== undefined) {
          kind.more++;
          continue;
        }
        if (kinds.size >= limit) continue;
        const err = "err" in entry && typeof entry.err === "object" && entry.err !== null && "message" in entry.err ? ` (${String(entry.err.message)})` : "";
        const error = "error" in entry ? ` (${String(entry.error)})` : "";
        const detail = "detail" in entry ? ` (${typeof entry.detail === "string" ? entry.detail : JSON.stringify(entry.detail)})` : "";
        kinds.set(key, { first: `${key}${err}${error}${detail}`, more: 0 });
      }
    } catch {
      // A partial last line while the log is still being written.
    }
  }
  return [...kinds.values()].map((k) => (k.more === 0 ? k.first : `${k.first} (and ${k.more} more like it)`));
}

/**
 * The config a bench engine runs with: E2E_TUNING and `overrides` over the defaults, every venue
 * pointed at `simulator`, data under `data_dir`, free ports, warnings only.
 */
export function benchEngineConfig(simulator: Simulator, data_dir: string, overrides: unknown = {}): Config {
  return configWith(
    mergeConfig(mergeConfig(E2E_TUNING, overrides), {
      ...replayVenueOverrides(simulator),
      engine: { data_dir },
      http: { port: 0 },
      nats: { embedded: { port: 0 } },
      log: { level: "warn" },
    }),
  );
}

/** Starts bench/e2e-engine.ts on `config` in `work` and waits until it serves /stats. */
export async function startEngineChild(config: Config, work: string): Promise<EngineChild> {
  const paths = {
    config: join(work, "config.json"),
    ready: join(work, "ready.json"),
    final: join(work, "final.json"),
    log: join(work, "engine.log"),
    kill_worker: join(work, "KILL-WORKER"),
    err: join(work, "engine.err.log"),
  };
  writeFileSync(paths.config, JSON.stringify(config));
  const spawned = Bun.spawn([process.execPath, join(import.meta.dir, "e2e-engine.ts"), paths.config, paths.ready, paths.final], {
    stdout: Bun.file(paths.log),
    stderr: Bun.file(paths.err),
    env: withAllocatorEnv(process.env),
  });
  const logTail = (): string => {
    const text = [paths.log, paths.err].map((p) => (existsSync(p) ? readFileSync(p, "utf8") : "")).join("\n");
    return text.slice(-200_000);
  };
  await waitUntil("the engine to start", 60_000, () => {
    if (spawned.exitCode !== null) throw new Error(`bench: engine exited with ${spawned.exitCode} while starting:\n${logTail().slice(-2000)}`);
    return existsSync(paths.ready);
  });
  const ready = JSON.parse(readFileSync(paths.ready, "utf8")) as { http: string | null; pid: number };
  if (ready.http === null) throw new Error("bench: the engine started without its HTTP server");
  const url = ready.http;
  const samples: Sample[] = [];
  const t0 = performance.now();
  return {
    url,
    pid: ready.pid,
    process: spawned,
    samples,
    async sample() {
      const s = { t_s: (performance.now() - t0) / 1000, stats: await fetchStats(url), rss_mb: rssMb(ready.pid) };
      samples.push(s);
      return s;
    },
    assertRunning(during) {
      if (spawned.exitCode !== null) throw new Error(`bench: engine exited with ${spawned.exitCode} ${during}:\n${logTail().slice(-2000)}`);
    },
    async stop() {
      spawned.kill("SIGTERM");
      const code = await spawned.exited;
      if (code !== 0 || !existsSync(paths.final)) throw new Error(`bench: engine stop exited with ${code}:\n${logTail().slice(-2000)}`);
      return JSON.parse(readFileSync(paths.final, "utf8")) as { stop_ms: number; stats: StatsSnapshot };
    },
    logTail,
    killWorker(id) {
      writeFileSync(paths.kill_worker, id);
      spawned.kill("SIGUSR2");
    },
    async kill() {
      if (spawned.exitCode === null) {
        spawned.kill("SIGKILL");
        await spawned.exited;
      }
    },
  };
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

/**
 * Waits, once the simulator has stopped sending, until rings, JetStream and ClickHouse have
 * caught up: everything ingested DRAIN_LAG_S ago is stored, the sockets are read out and the
 * rings are empty with nothing held outside them. Resolves with whether that happened before
 * the deadline and a line describing the last state.
 */
export async function drainEngine(engine: EngineChild, after: Sample, deadline_ms: number): Promise<{ drained: boolean; state: string; drain_s: number }> {
  const started = performance.now();
  let state = "";
  const drained = await waitUntil("the pipeline to drain", deadline_ms, async () => {
    const now = await engine.sample();
    const samples = engine.samples;
    const earlier = samples.findLast((x) => x.t_s <= now.t_s - DRAIN_LAG_S);
    const stored = typeTotal(now.stats, "stored") + typeTotal(now.stats, "dropped") + typeTotal(now.stats, "duplicate_publishes");
    const due = earlier === undefined || earlier.t_s < after.t_s ? Number.POSITIVE_INFINITY : typeTotal(earlier.stats, "ingested");
    // The simulator's sockets may still hold up to 4 MiB of frames sent before the skip:
    // wait until the engine has read them (frames in down to the trickle) before stopping it.
    const previous = samples[samples.length - 2];
    const readAll = previous !== undefined && previous.t_s > after.t_s && messagesIn(now.stats) - messagesIn(previous.stats) <= DRAIN_TRICKLE_FRAMES;
    // "ingested" counts records that entered a ring; records an ingest worker still holds
    // outside a full ring (`overflow`) count only once they get in, so the drain also waits
    // for empty rings and no overflow in two samples in a row.
    const idle = (x: StatsSnapshot) => ringBytes(x) === 0 && typeTotal(x, "overflow") === 0;
    const ringsEmpty = previous !== undefined && idle(previous.stats) && idle(now.stats);
    state = `stored ${stored} of ${typeTotal(now.stats, "ingested")} ingested, socket reads settled: ${readAll}, rings empty: ${ringsEmpty}`;
    return readAll && ringsEmpty && stored >= due;
  }, 500).then(
    () => true,
    () => false,
  );
  return { drained, state, drain_s: Math.round((performance.now() - started) / 100) / 10 };
}
