import { expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { MetricsExporter } from "../../src/http/metrics.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { buildStats } from "../../src/supervisor/stats.ts";
import { idleStatsInputs } from "../support/stats-inputs.ts";

async function componentUp(clickhouse: "up" | "down" | "disabled"): Promise<{ labels: Record<string, string>; value: string }[]> {
  const stats = buildStats(idleStatsInputs(new Counters(counterNames()), { clickhouse: { state: clickhouse, mode: "", url: "", latency_ms: null, last_error: null } }));
  const text = await new MetricsExporter().render(stats, new Map());
  const families = parsePrometheusTextFormat(text) as { name: string; metrics: { labels: Record<string, string>; value: string }[] }[];
  return families.find((f) => f.name === "spectra_component_up")?.metrics ?? [];
}

test("spectra_component_up is 1 up, 0 down, and absent for a component the engine does not use (a collector's ClickHouse)", async () => {
  expect(await componentUp("up")).toEqual([
    { labels: { component: "nats" }, value: "1" },
    { labels: { component: "clickhouse" }, value: "1" },
  ]);
  expect((await componentUp("down")).find((m) => m.labels.component === "clickhouse")?.value).toBe("0");
  expect(await componentUp("disabled")).toEqual([{ labels: { component: "nats" }, value: "1" }]);
});
