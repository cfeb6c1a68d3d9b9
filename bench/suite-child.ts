import { writeFileSync } from "node:fs";
import { runBookBench } from "./book.bench.ts";
import { runBookStoreBench } from "./book-store.bench.ts";
import { runClickHouseBench } from "./clickhouse.bench.ts";
import { runE2eBench } from "./e2e.bench.ts";
import { runE2eSplitBench } from "./e2e-split.bench.ts";
import { runIngestBench } from "./ingest.bench.ts";
import { runLatencyObserveBench } from "./latency-observe.bench.ts";
import { runNatsBench } from "./nats.bench.ts";
import { runNormalizeBench } from "./normalize.bench.ts";
import { runRingBench } from "./ring.bench.ts";
import { runScaleBench } from "./scale.bench.ts";
import { runSoakBench } from "./soak.bench.ts";

/**
 * One round of one suite in a fresh process: `bun bench/suite-child.ts SUITE OUT.json [--quick] [--warmup] [--duration S]`.
 * run.ts starts one of these per round so that every chDB-using suite (clickhouse, e2e) gets a
 * process of its own (libchdb binds one data path per process) and no suite inherits another's
 * heap or JIT state. `--warmup` runs the suite once unrecorded first (default runs).
 */

export const SUITES = ["normalize", "book", "ring", "latency", "nats", "clickhouse", "book-store", "e2e", "e2e-split", "soak", "scale", "ingest"] as const;
export type SuiteName = (typeof SUITES)[number];
/**
 * Suites a run without suite names leaves out, run by name: the soak takes 30 minutes, the scale
 * bench up to half an hour (three points, each syncing its books and measuring 60 s), e2e-split
 * (`e2e --split`) two e2e runs, ingest about two minutes (2,000 books sync before it measures).
 */
export const BY_NAME_ONLY: ReadonlySet<SuiteName> = new Set(["e2e-split", "soak", "scale", "ingest"]);

export function isSuite(name: string): name is SuiteName {
  return (SUITES as readonly string[]).includes(name);
}

async function runSuite(suite: SuiteName, quick: boolean, duration_s: number | undefined): Promise<unknown> {
  switch (suite) {
    case "normalize":
      return runNormalizeBench({ quick });
    case "book":
      return runBookBench({ quick });
    case "ring":
      return runRingBench({ quick });
    case "latency":
      return runLatencyObserveBench({ quick });
    case "nats":
      return runNatsBench({ quick });
    case "clickhouse":
      return runClickHouseBench({ quick });
    case "book-store":
      return runBookStoreBench({ quick });
    case "e2e":
      return runE2eBench({ quick, ...(duration_s === undefined ? {} : { duration_s }) });
    case "e2e-split":
      return runE2eSplitBench({ quick, ...(duration_s === undefined ? {} : { duration_s }) });
    case "soak":
      return runSoakBench({ quick, ...(duration_s === undefined ? {} : { duration_s }) });
    case "scale":
      return runScaleBench({ quick, ...(duration_s === undefined ? {} : { duration_s }) });
    case "ingest":
      return runIngestBench({ quick });
  }
}

if (import.meta.main) {
  const [suite, out] = process.argv.slice(2);
  if (suite === undefined || out === undefined || !isSuite(suite)) {
    process.stderr.write(`usage: bun bench/suite-child.ts (${SUITES.join("|")}) OUT.json [--quick] [--warmup] [--duration S]\n`);
    process.exit(2);
  }
  const quick = process.argv.includes("--quick");
  const at = process.argv.indexOf("--duration");
  const duration_s = at >= 0 ? Number(process.argv[at + 1]) : undefined;
  if (process.argv.includes("--warmup")) await runSuite(suite, quick, duration_s);
  const started = performance.now();
  const result = await runSuite(suite, quick, duration_s);
  writeFileSync(out, JSON.stringify({ seconds: (performance.now() - started) / 1000, result }));
  // Suites leave no handles open on purpose, but a stray timer in a dependency must not hold the round.
  process.exit(0);
}
