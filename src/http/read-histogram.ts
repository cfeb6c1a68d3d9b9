import { Histogram } from "prom-client";
import { LATENCY_BOUNDS_MS, type HistogramReading } from "../stats/latency.ts";

interface SeriesLine {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/**
 * A Prometheus histogram (seconds) whose bucket counts come from the shared counters, read at
 * each scrape, instead of from `observe` calls in this thread: prom-client's Histogram has no
 * way to set bucket counts, so this renders the lines `set` gave it, in the shape Histogram
 * renders (cumulative `_bucket{le}` per LATENCY_BOUNDS_MS bound and `+Inf`, `_sum`, `_count`).
 * The registry reads `getForPromString`; `get` serves its JSON form.
 */
export class ReadHistogram<L extends string> extends Histogram<L> {
  private readonly metric: string;
  private readonly helpText: string;
  private lines: SeriesLine[] = [];

  constructor(name: string, help: string, labelNames: readonly L[], registers: ConstructorParameters<typeof Histogram<L>>[0]["registers"]) {
    super({ name, help, labelNames, buckets: LATENCY_BOUNDS_MS.map((ms) => ms / 1000), ...(registers === undefined ? {} : { registers }) });
    this.metric = name;
    this.helpText = help;
  }

  /** Adds one series: `reading`'s buckets under `labels`. */
  set(labels: Record<L, string>, reading: HistogramReading): void {
    let cumulative = 0;
    LATENCY_BOUNDS_MS.forEach((ms, i) => {
      cumulative += reading.buckets[i] ?? 0;
      this.lines.push({ metricName: `${this.metric}_bucket`, labels: { ...labels, le: ms / 1000 }, value: cumulative });
    });
    this.lines.push({ metricName: `${this.metric}_bucket`, labels: { ...labels, le: "+Inf" }, value: reading.count });
    this.lines.push({ metricName: `${this.metric}_sum`, labels, value: reading.sum_ms / 1000 });
    this.lines.push({ metricName: `${this.metric}_count`, labels, value: reading.count });
  }

  override reset(): void {
    this.lines = [];
  }

  getForPromString(): Promise<{ name: string; help: string; type: string; values: SeriesLine[]; aggregator: string }> {
    return Promise.resolve({ name: this.metric, help: this.helpText, type: "histogram", values: this.lines, aggregator: "sum" });
  }

  override get(): ReturnType<Histogram<L>["get"]> {
    return this.getForPromString() as unknown as ReturnType<Histogram<L>["get"]>;
  }
}
