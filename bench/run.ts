import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { aggregate, type Json, type Spread } from "./aggregate.ts";
import { appendHistory, compareWithHistory, readHistory, REGRESSION_PCT, type HistoryLine } from "./history.ts";
import { formatSuite } from "./report.ts";
import { BY_NAME_ONLY, isSuite, SUITES, type SuiteName } from "./suite-child.ts";
import { helpText, usageLine, type CommandHelp } from "../src/cli/help.ts";

/**
 * `bun run bench [--quick] [--duration S] [SUITE...] [--split]` (suites: normalize, book, ring,
 * latency, nats, clickhouse, book-store, e2e; soak and scale only when named). `--duration` sets
 * the measured seconds of e2e, soak and each scale point. `e2e --split` runs the e2e-split suite:
 * collector and storer as two processes beside the all-in-one engine (bench/e2e-split.bench.ts).
 *
 * Every round of every suite runs in a child process (bench/suite-child.ts): libchdb binds one
 * data path per process, so the clickhouse and e2e suites cannot share this one, and a fresh
 * process keeps one suite's heap and JIT state out of the next one's figures. A default run
 * repeats each suite ROUNDS times (each child warms up with one unrecorded pass first where the
 * suite has no warm-up of its own) and reports the median with min/max; --quick runs each suite
 * once, no warm-up, with the suites' own quick sizes (the whole quick run stays under 3 minutes
 * on 2 cores). Writes bench/results/latest.json, appends bench/results/history.jsonl and
 * compares with the previous run of the same suites and flag.
 */

const RESULTS = join(import.meta.dir, "results");
const LATEST = join(RESULTS, "latest.json");
const HISTORY = join(RESULTS, "history.jsonl");

/** Rounds of a default run. normalize, book and latency already keep the best of 3 interleaved
 *  rounds inside one call; e2e is one 60 s run whose per-second spread it reports itself. */
const ROUNDS: Record<SuiteName, number> = { normalize: 3, book: 3, ring: 5, latency: 3, nats: 3, clickhouse: 3, "book-store": 3, e2e: 1, "e2e-split": 1, soak: 1, scale: 1, ingest: 1 };
/** Suites whose functions time their first pass: a default run's child runs them once unrecorded first. */
const NEEDS_WARMUP: ReadonlySet<SuiteName> = new Set(["ring", "nats", "clickhouse", "book-store"]);
/** A round that takes longer than this is killed and the suite reported as failed. */
const ROUND_TIMEOUT_MS = { quick: 150_000, default: 900_000 };
/** The soak runs 30 minutes by default, plus its drain and stop. */
const SOAK_TIMEOUT_MS = { quick: 600_000, default: 3_000_000 };
/**
 * A scale point takes its generator's start, up to its sync deadline (bench/scale.bench.ts: 160 s
 * at 100 symbols, 920 s at 2,000), 60 s measured, a drain of up to 120 s and the stop: at most
 * ~7 minutes at 100 symbols, ~37 for all three points.
 */
const SCALE_TIMEOUT_MS = { quick: 600_000, default: 3_600_000 };

const BENCH_HELP: CommandHelp = {
  usage: `bun run bench [--quick] [--duration S] [${SUITES.join("|")} ...] [--split]`,
  about: `Runs the benchmark suites, each in its own process, prints their figures, writes bench/results/latest.json and appends to bench/results/history.jsonl with the change against the previous run. Without suite names: every suite but ${[...BY_NAME_ONLY].join(", ")}.`,
  flags: [
    ["--quick", "shorter runs (scale: the 100-symbol point only)"],
    ["--duration S", "measured seconds of e2e, soak and each scale point"],
    ["--split", "e2e runs as e2e-split: collector and storer as two processes, beside the all-in-one run"],
    ["--help, -h", "this text"],
  ],
  exits: [
    [0, "every suite ran and passed its checks"],
    [1, "a suite failed its checks"],
    [2, "bad arguments"],
  ],
};
const USAGE = usageLine(BENCH_HELP);

interface BenchArgs {
  readonly quick: boolean;
  readonly suites: SuiteName[];
  readonly duration_s: number | undefined;
}

function parseArgs(argv: readonly string[]): BenchArgs {
  const names: SuiteName[] = [];
  let quick = false;
  let duration_s: number | undefined;
  let split = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--quick") quick = true;
    else if (arg === "--split") split = true;
    else if (arg === "--duration") {
      duration_s = Number(argv[++i]);
      if (!Number.isFinite(duration_s) || duration_s <= 0) {
        process.stderr.write(`bench: --duration needs a positive number of seconds\n${USAGE}\n`);
        process.exit(2);
      }
    } else if (arg === "--help" || arg === "-h") {
      process.stdout.write(helpText(BENCH_HELP));
      process.exit(0);
    } else if (isSuite(arg)) names.push(arg);
    else {
      process.stderr.write(`bench: unknown argument '${arg}'\n${USAGE}\n`);
      process.exit(2);
    }
  }
  if (split) {
    if (!names.includes("e2e")) {
      process.stderr.write(`bench: --split goes with the e2e suite\n${USAGE}\n`);
      process.exit(2);
    }
    names.splice(names.indexOf("e2e"), 1, "e2e-split");
  }
  return { quick, duration_s, suites: names.length === 0 ? SUITES.filter((s) => !BY_NAME_ONLY.has(s)) : SUITES.filter((s) => names.includes(s)) };
}

function machine(): { [key: string]: Json } {
  const list = cpus();
  return {
    cpu_model: list[0]?.model ?? "unknown",
    cores: list.length,
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    bun: Bun.version,
    bun_revision: Bun.revision,
    platform: process.platform,
    arch: process.arch,
    kernel: release(),
  };
}

/**
 * The commit the run measures, `+dirty` when tracked files outside bench/results differ from it
 * (a run of uncommitted changes is not that commit's figure).
 */
function gitCommit(): string {
  const git = (args: string[]) => Bun.spawnSync(["git", ...args], { cwd: import.meta.dir, stdout: "pipe", stderr: "ignore" });
  const head = git(["rev-parse", "--short", "HEAD"]);
  if (head.exitCode !== 0) return "unknown";
  const changed = git(["status", "--porcelain", "--untracked-files=no", "--", ":/", ":(exclude,top)bench/results"]);
  return `${head.stdout.toString().trim()}${changed.exitCode === 0 && changed.stdout.toString().trim() !== "" ? "+dirty" : ""}`;
}

async function runRound(suite: SuiteName, bench: BenchArgs, dir: string, round: number): Promise<{ seconds: number; result: Json }> {
  const { quick, duration_s } = bench;
  const out = join(dir, `${suite}-${round}.json`);
  const args = [process.execPath, join(import.meta.dir, "suite-child.ts"), suite, out];
  if (quick) args.push("--quick");
  else if (NEEDS_WARMUP.has(suite)) args.push("--warmup");
  if (duration_s !== undefined) args.push("--duration", String(duration_s));
  const child = Bun.spawn(args, { stdout: "inherit", stderr: "inherit" });
  const timeouts = suite === "soak" || suite === "e2e-split" ? SOAK_TIMEOUT_MS : suite === "scale" ? SCALE_TIMEOUT_MS : ROUND_TIMEOUT_MS;
  const base_ms = quick ? timeouts.quick : timeouts.default;
  // A longer measured window than the suite's default gets its extra seconds on top.
  const limit_ms = base_ms + (duration_s === undefined ? 0 : duration_s * 1000);
  const timer = setTimeout(() => child.kill("SIGKILL"), limit_ms);
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${suite} round ${round + 1} exited with ${child.signalCode ?? code}${child.signalCode === "SIGKILL" ? ` (over ${limit_ms} ms)` : ""}`);
  return JSON.parse(readFileSync(out, "utf8")) as { seconds: number; result: Json };
}

/** Drops lists (per-thread CPU, check messages) so a history line holds figures only. */
function figuresOnly(value: Json): Json {
  if (Array.isArray(value)) return null;
  if (typeof value !== "object" || value === null) return value;
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(value)) if (!Array.isArray(v)) out[k] = figuresOnly(v);
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { quick, suites } = args;
  const started = performance.now();
  const timestamp = new Date().toISOString();
  const commit = gitCommit();
  const info = machine();
  process.stdout.write(`spectra bench ${quick ? "--quick " : ""}(${suites.join(", ")}) on ${info.cpu_model}, ${info.cores} cores, bun ${info.bun}, commit ${commit}\n\n`);

  const dir = mkdtempSync(join(tmpdir(), "spectra-bench-run-"));
  const figures: Record<string, Json> = {};
  const spreads: Record<string, Record<string, Spread>> = {};
  const seconds: Record<string, number> = {};
  const failures: string[] = [];
  try {
    for (const suite of suites) {
      const rounds = quick ? 1 : ROUNDS[suite];
      const suiteStart = performance.now();
      try {
        const results: Json[] = [];
        for (let i = 0; i < rounds; i++) {
          process.stderr.write(`bench: ${suite} round ${i + 1}/${rounds}\n`);
          results.push((await runRound(suite, args, dir, i)).result);
        }
        const folded = aggregate(results);
        figures[suite] = folded.figures;
        spreads[suite] = folded.spread;
        const f = folded.figures;
        if (typeof f === "object" && f !== null && !Array.isArray(f) && f.checks_passed === false) {
          failures.push(`${suite}: checks failed: ${JSON.stringify(f.checks)}`);
        }
        process.stdout.write(`${formatSuite(suite, folded.figures, folded.spread)}\n`);
      } catch (error) {
        failures.push(`${suite}: ${(error as Error).message}`);
        process.stdout.write(`== ${suite}: FAILED: ${(error as Error).message}\n\n`);
      }
      seconds[suite] = Math.round((performance.now() - suiteStart) / 100) / 10;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const total_s = Math.round((performance.now() - started) / 100) / 10;
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(LATEST, `${JSON.stringify({ timestamp, commit, quick, machine: info, suites: figures, spread: spreads, seconds: { ...seconds, total: total_s } }, null, 2)}\n`);

  const line: HistoryLine = { timestamp, commit, quick, machine: info, suites: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, figuresOnly(v)])) };
  const comparison = compareWithHistory(readHistory(HISTORY), line);
  if (Object.keys(figures).length > 0) appendHistory(HISTORY, line);
  process.stdout.write(`${comparison.text}\n\n`);
  process.stdout.write(`wall time per suite (s): ${Object.entries(seconds).map(([k, v]) => `${k} ${v}`).join(", ")}; total ${total_s}\n`);
  process.stdout.write(`wrote ${LATEST}; appended ${HISTORY}\n`);
  if (comparison.regressions > 0) {
    const drift = comparison.reference_drift_pct;
    const context = drift === null ? "" : ` (reference implementations moved ${drift >= 0 ? "+" : ""}${drift.toFixed(1)}% on the same code)`;
    process.stdout.write(`${comparison.regressions} figure(s) regressed by more than ${REGRESSION_PCT} %${context}\n`);
  }
  if (failures.length > 0) {
    process.stdout.write(`FAILED:\n${failures.map((f) => `  ${f}`).join("\n")}\n`);
    process.exit(1);
  }
}

await main();
