import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * What each worker thread's entry loads, from the bundler's module graph (`bun build
 * --metafile`): every module a thread loads costs it memory (README, "Threads and memory"), so
 * an ingest thread loads the venues but not the simulator (src/venues/sim-registry.ts) nor the
 * NATS and ClickHouse clients, and a batch thread loads neither the venues nor the simulator.
 */
const ROOT = join(import.meta.dir, "../..");
const out = mkdtempSync(join(tmpdir(), "spectra-seam-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Graph {
  /** The project's source files (`src/...`). */
  readonly sources: string[];
  /** Packages and built-in modules imported from them. */
  readonly packages: string[];
}

function moduleGraph(entry: string): Graph {
  const name = entry.replace(/\W+/g, "_");
  const metafile = join(out, `${name}.json`);
  const built = Bun.spawnSync([process.execPath, "build", entry, "--target=bun", "--packages=external", `--outdir=${join(out, name)}`, `--metafile=${metafile}`], { cwd: ROOT });
  expect(built.exitCode).toBe(0);
  const inputs = (JSON.parse(readFileSync(metafile, "utf8")) as { inputs: Record<string, { imports: { path: string; external?: boolean }[] }> }).inputs;
  const packages = new Set(Object.values(inputs).flatMap((input) => input.imports.filter((i) => i.external === true).map((i) => i.path)));
  return { sources: Object.keys(inputs).filter((path) => path.startsWith("src/")), packages: [...packages].sort() };
}

const simulatorCode = (path: string): boolean => /^src\/replay\//.test(path) || /\/sim-[^/]+\.ts$/.test(path);

test("the simulator's graph holds every venue's simulated server and generator (the check below sees them)", () => {
  const graph = moduleGraph("src/replay/simulator.ts").sources;
  for (const venue of ["binance", "okx", "deribit"]) {
    expect(graph).toContain(`src/venues/${venue}/sim-venue.ts`);
    expect(graph).toContain(`src/venues/${venue}/sim-generator.ts`);
  }
});

test("an ingest thread loads every venue's connection and normalizer, no simulator code but the capture writer, and no NATS or ClickHouse client", () => {
  const { sources: graph, packages } = moduleGraph("workers/ingest.worker.ts");
  for (const venue of ["binance", "okx", "deribit"]) {
    expect(graph).toContain(`src/venues/${venue}/definition.ts`);
    expect(graph).toContain(`src/venues/${venue}/normalizer.ts`);
  }
  // --record writes captures from the ingest thread (src/replay/capture.ts).
  expect(graph.filter(simulatorCode)).toEqual(["src/replay/capture.ts"]);
  expect(packages).toContain("msgpackr");
  expect(packages.filter((p) => /^@(nats-io|clickhouse)\/|chdb/.test(p))).toEqual([]);
});

test("a batch thread loads neither the venues nor the simulator", () => {
  const { sources: graph, packages } = moduleGraph("workers/batch.worker.ts");
  expect(graph).toContain("src/pipeline/batch-worker.ts");
  expect(packages).toContain("@nats-io/jetstream");
  expect(graph.filter((path) => path.startsWith("src/venues/") || simulatorCode(path))).toEqual([]);
});
