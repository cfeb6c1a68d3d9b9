import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { parse as parseYaml } from "yaml";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { DATA_TYPES } from "../../src/records/types.ts";
import { DEFAULT_COLLECTED } from "../support/collected.ts";
import { startReplay, type Replay } from "../../src/replay/replay-mode.ts";
import { typeCounter } from "../../src/stats/layout.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { freshNatsStore, testDataDir, uniqueDatabase } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The monitoring files ship with the engine (config/prometheus, config/grafana): Prometheus's
 * own tool checks the rules and runs their unit tests, and every metric the rules and the
 * dashboard name is one a running engine exports.
 */

const ROOT = join(import.meta.dir, "..", "..");
const PROMETHEUS_DIR = join(ROOT, "config", "prometheus");
const DASHBOARD = join(ROOT, "config", "grafana", "spectra.json");

/** promtool comes with Debian's `prometheus` package, which src/setup/install.sh installs as root. */
const promtool = Bun.which("promtool");
if (promtool === null && process.env.CI === "true") throw new Error("promtool is missing: src/setup/install.sh installs it (apt-get install -y prometheus)");
const withPromtool = promtool === null ? describe.skip : describe;
if (promtool === null) console.warn("skipping the promtool checks: promtool is not installed (as root: apt-get install -y prometheus)");

function promtoolRun(...args: string[]): { code: number; out: string } {
  const p = Bun.spawnSync([promtool as string, ...args], { cwd: PROMETHEUS_DIR });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

withPromtool("promtool", () => {
  test("the rules and the Prometheus config pass promtool check", () => {
    const rules = promtoolRun("check", "rules", "alerts.yml");
    expect(rules.out).toContain("SUCCESS: 22 rules found");
    expect(rules.code).toBe(0);
    const config = promtoolRun("check", "config", "prometheus.yml");
    expect(config.code).toBe(0);
  });

  test("the rules' unit tests pass on synthetic series", () => {
    const r = promtoolRun("test", "rules", "alerts.test.yml");
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });
});

interface AlertRule {
  alert: string;
  expr: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

function alertRules(): AlertRule[] {
  const doc = parseYaml(readFileSync(join(PROMETHEUS_DIR, "alerts.yml"), "utf8")) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

function dashboardPanels(): Panel[] {
  return (JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] }).panels;
}

/** Metric families named in PromQL: histogram series (`_bucket`, `_count`, `_sum`) name their family. */
function metricFamilies(exprs: readonly string[]): Set<string> {
  const names = exprs.flatMap((e) => e.match(/\bspectra_[a-z0-9_]+/g) ?? []);
  return new Set(names.map((n) => n.replace(/_(bucket|count|sum)$/, "")));
}

test("every alert fires on a Spectra metric with a severity, a summary and a description", () => {
  const rules = alertRules();
  expect(rules.map((r) => r.alert).sort()).toEqual([
    "SpectraBanned",
    "SpectraBooksOutOfSync",
    "SpectraClickHouseDown",
    "SpectraConsumerBacklogGrowing",
    "SpectraDeadLetters",
    "SpectraDown",
    "SpectraFailingSymbols",
    "SpectraInsertErrors",
    "SpectraNatsDown",
    "SpectraNoData",
    "SpectraNormalizerExceptions",
    "SpectraPollsOverloaded",
    "SpectraRateLimited",
    "SpectraRecordsDropped",
    "SpectraRingFilling",
    "SpectraRssGrowing",
    "SpectraTieringLag",
    "SpectraTieringVerifyFailed",
    "SpectraTradeBackfillFailing",
    "SpectraVenueDisconnected",
    "SpectraVenueStartFailing",
    "SpectraWorkerRestarting",
  ]);
  for (const r of rules) {
    expect(["warning", "critical"]).toContain(r.labels.severity);
    expect(r.annotations.summary.length).toBeGreaterThan(10);
    expect(r.annotations.description.length).toBeGreaterThan(20);
    // SpectraDown watches Prometheus's own `up` series of the scrape job.
    if (r.alert !== "SpectraDown") expect(metricFamilies([r.expr]).size).toBeGreaterThan(0);
  }
});

test("the dashboard shows every area the operations issue lists, each panel with a query", () => {
  const panels = dashboardPanels();
  const queries = panels.filter((p) => p.type !== "row");
  for (const p of queries) expect(p.targets?.length ?? 0).toBeGreaterThan(0);
  const named = metricFamilies(queries.flatMap((p) => p.targets?.map((t) => t.expr) ?? []));
  for (const family of [
    "spectra_exchange_to_receive_seconds",
    "spectra_records_published_total",
    "spectra_records_stored_total",
    "spectra_receive_to_commit_seconds",
    "spectra_venue_books",
    "spectra_book_live",
    "spectra_ring_depth_bytes",
    "spectra_venue_rest_weight_total",
    "spectra_process_resident_memory_bytes",
    "spectra_heap_bytes",
    "spectra_tiering_lag_seconds",
  ]) {
    expect(named).toContain(family);
  }
});

describe("a running engine exports every metric the rules and the dashboard name", () => {
  const log = createLogger("silent");
  let engine: Engine | null = null;
  let replay: Replay | null = null;
  afterAll(async () => {
    await engine?.stop();
    await replay?.stop();
  });

  test("with samples, after every data type was stored and a tiering pass ran", async () => {
    const base = {
      engine: { data_dir: testDataDir() },
      http: { port: 0, clickhouse_port: 0 },
      nats: { embedded: { port: 0 } },
      replay: { rate: 4 },
      tiering: { window_s: 60, lag_s: 0, interval_s: 1 },
      clickhouse: { hot_database: uniqueDatabase("ops_hot"), cold_database: uniqueDatabase("ops_cold") },
      batching: Object.fromEntries(DATA_TYPES.map((t) => [t, { linger_ms: 200 }])),
    };
    freshNatsStore();
    replay = await startReplay(configWith(base), null, log, true);
    engine = new Engine(configWith(mergeConfig(base, replay.overrides)), { log });
    await engine.start();
    const e = engine;
    await waitFor("every data type stored", () => DEFAULT_COLLECTED.every((t) => e.counters.read(typeCounter(t, "stored")) > 0), 60_000);
    const url = e.httpUrl;
    expect(url).not.toBeNull();
    const exported = async (): Promise<Map<string, number>> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const families = parsePrometheusTextFormat(text) as { name: string; metrics: unknown[] }[];
      return new Map(families.map((f) => [f.name, f.metrics.length]));
    };
    const named = metricFamilies([...alertRules().map((r) => r.expr), ...dashboardPanels().flatMap((p) => p.targets?.map((t) => t.expr) ?? [])]);
    expect(named.size).toBe(42);
    await waitFor("a tiering lag exported", async () => ((await exported()).get("spectra_tiering_lag_seconds") ?? 0) > 0, 60_000);
    const families = await exported();
    const missing = [...named].filter((n) => !families.has(n));
    expect(missing).toEqual([]);
    // Families labelled by what happened (a bad frame's channel, a recovery's data type, a limit
    // the polls overload) have a series only once it happened, which a clean run of a few
    // symbols never does; every other family has one.
    const withoutSamples = [...named].filter((n) => (families.get(n) ?? 0) === 0);
    expect(withoutSamples.sort()).toEqual(["spectra_recovered_records_total", "spectra_venue_bad_frames_total", "spectra_venue_poll_overload_ratio"]);
  }, 150_000);
});
