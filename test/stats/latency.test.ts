import { expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { createHttpHandler } from "../../src/http/server.ts";
import { IngestObserver } from "../../src/pipeline/ingest-observer.ts";
import type { GapRecord, MarketRecord, TradeRecord } from "../../src/records/types.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { LATENCY_BOUNDS_MS, latencySeries, quantileMs, readHistogram } from "../../src/stats/latency.ts";
import { CommitLatencySink } from "../../src/storage/commit-latency-sink.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import { buildStats } from "../../src/supervisor/stats.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { idleStatsInputs } from "../support/stats-inputs.ts";

const RECV = 1_700_000_000_000;

function trade(id: number, ts_ms: number, recv_ts_ms = RECV, exchange: TradeRecord["exchange"] = "okx", market_type: TradeRecord["market_type"] = "spot"): TradeRecord {
  return {
    data_type: "trade",
    exchange,
    market_type,
    symbol: "BTC-USDT",
    ts_ms,
    recv_ts_ms,
    trade_id: String(id),
    price: "100.5",
    quantity: "0.25",
    side: "buy",
    is_maker: false,
    trade_time: ts_ms,
  };
}

function recoveredGap(recovered_records: number): GapRecord {
  return {
    data_type: "gap",
    exchange: "okx",
    market_type: "spot",
    symbol: "BTC-USDT",
    ts_ms: RECV,
    recv_ts_ms: RECV,
    data_type_affected: "trade",
    start_ts_ms: RECV - 5000,
    end_ts_ms: RECV,
    cause: "reconnect",
    recovered_records,
    recovered_at_ms: RECV + 900,
  };
}

function statsOf(counters: Counters) {
  return () => buildStats(idleStatsInputs(counters));
}

test("a record stamped 250 ms before its receipt lands in the le=250 ms bucket of its venue and type, and only there", () => {
  const counters = new Counters(counterNames());
  const observer = new IngestObserver(counters, "okx_spot");
  observer.observe(trade(1, RECV - 250));
  // Nothing reaches the shared counters before the flush.
  expect(readHistogram(counters, "exchange_to_receive", "okx_spot", "trade").count).toBe(0);
  observer.flush();
  const r = readHistogram(counters, "exchange_to_receive", "okx_spot", "trade");
  const le250 = LATENCY_BOUNDS_MS.indexOf(250);
  expect(r.buckets.map((n, i) => (i === le250 ? n : 0))).toEqual([...r.buckets]);
  expect(r).toMatchObject({ count: 1, sum_ms: 250 });
  expect(r.buckets[le250]).toBe(1);
  // 251 ms is past the bound: the next bucket.
  observer.observe(trade(2, RECV - 251));
  observer.flush();
  expect(readHistogram(counters, "exchange_to_receive", "okx_spot", "trade").buckets[le250 + 1]).toBe(1);
  expect(readHistogram(counters, "exchange_to_receive", "binance_spot", "trade").count).toBe(0);
});

test("a record stamped after its receipt is counted as clock skew and observed as 0, not dropped", () => {
  const counters = new Counters(counterNames());
  const observer = new IngestObserver(counters, "okx_spot");
  observer.observe(trade(1, RECV + 40));
  observer.observe(trade(2, RECV - 10));
  observer.flush();
  const r = readHistogram(counters, "exchange_to_receive", "okx_spot", "trade");
  expect(r.count).toBe(2);
  expect(r.buckets[0]).toBe(1);
  expect(r.sum_ms).toBe(10);
  expect(counters.read("skew.okx_spot.trade.negative")).toBe(1);
  // The skew window holds the largest ts - recv of the interval: 40 ms.
  expect(counters.read("skew.okx_spot.window_max_ms")).toBe(40);
});

test("gaps written again with their recovery count what came back per venue and affected type; other gaps are not observed", () => {
  const counters = new Counters(counterNames());
  const observer = new IngestObserver(counters, "okx_spot");
  observer.observe({ ...recoveredGap(0), recovered_at_ms: 0 });
  observer.observe(recoveredGap(120));
  observer.observe(recoveredGap(3));
  observer.flush();
  expect(counters.read("recovered.okx_spot.trade")).toBe(123);
  expect(readHistogram(counters, "exchange_to_receive", "okx_spot", "trade").count).toBe(0);
});

test("p50 and p99 are estimated from the buckets, linearly within the bucket they fall in", () => {
  // 100 values: 98 in (50, 100], 2 in (1000, 2500].
  const r = { buckets: LATENCY_BOUNDS_MS.map((ms) => (ms === 100 ? 98 : ms === 2500 ? 2 : 0)).concat(0), count: 100, sum_ms: 0 };
  expect(quantileMs(r, 0.5)).toBeCloseTo(50 + (50 * 50) / 98, 6);
  expect(quantileMs(r, 0.99)).toBeCloseTo(1000 + 1500 * 0.5, 6);
  expect(quantileMs({ buckets: r.buckets.map(() => 0), count: 0, sum_ms: 0 }, 0.5)).toBeNull();
  // Beyond the last bound: the bound, a lower limit.
  expect(quantileMs({ buckets: r.buckets.map((_, i) => (i === LATENCY_BOUNDS_MS.length ? 5 : 0)), count: 5, sum_ms: 0 }, 0.99)).toBe(300_000);
});

test("/stats shows p50 and p99 of both latencies per venue and type, negatives and recoveries; /metrics the histograms and counters", async () => {
  const counters = new Counters(counterNames());
  const observer = new IngestObserver(counters, "okx_spot");
  // 1 negative (observed as 0), 97 at 80 ms, 2 at 2 s.
  for (let i = 0; i < 97; i++) observer.observe(trade(i, RECV - 80));
  observer.observe(trade(97, RECV - 2000));
  observer.observe(trade(98, RECV - 2000));
  observer.observe(trade(99, RECV + 5));
  observer.observe(recoveredGap(7));
  observer.flush();
  const stats = statsOf(counters);
  const handler = createHttpHandler({ stats, health: () => ({ ok: true, components: {} }), query: null, latency: () => latencySeries(counters) });
  const body = (await (await handler(new Request("http://x/stats"))).json()) as Record<string, any>;
  const okx = body.venues.okx_spot;
  expect(okx.latency.trade.exchange_to_receive).toEqual({ count: 100, negative: 1, p50_ms: 50 + (50 * (50 - 1)) / 97, p99_ms: 1000 + (1500 * (99 - 98)) / 2 });
  expect(okx.latency.trade.receive_to_commit).toEqual({ count: 0, p50_ms: null, p99_ms: null });
  // The venue's configured types are listed even before their first record.
  expect(Object.keys(okx.latency).sort()).toEqual(["orderbook", "trade"]);
  expect(okx.recovered).toEqual({ trade: 7 });
  expect(okx.clock_skew).toEqual({ max_clock_skew_ms: 1000, last_ms: null, in_incident: false, incidents: 0 });

  const text = await (await handler(new Request("http://x/metrics"))).text();
  expect(text).toContain("# TYPE spectra_exchange_to_receive_seconds histogram");
  const families = parsePrometheusTextFormat(text) as { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[] }[];
  const byName = new Map(families.map((f) => [f.name, f]));
  const h = byName.get("spectra_exchange_to_receive_seconds");
  expect(h?.type).toBe("HISTOGRAM");
  expect(h?.metrics).toHaveLength(1);
  const series = h?.metrics[0];
  // The parser keeps a histogram's buckets only; its labels, sum and count are read from the text.
  expect(text).toContain('spectra_exchange_to_receive_seconds_bucket{venue="okx_spot",data_type="trade",le="0.25"} 98\n');
  expect(text).toContain('spectra_exchange_to_receive_seconds_count{venue="okx_spot",data_type="trade"} 100\n');
  expect(text).toContain(`spectra_exchange_to_receive_seconds_sum{venue="okx_spot",data_type="trade"} ${(97 * 80 + 2 * 2000) / 1000}\n`);
  expect(series?.buckets?.["+Inf"]).toBe("100");
  expect(series?.buckets?.["0.001"]).toBe("1");
  expect(series?.buckets?.["0.05"]).toBe("1");
  expect(series?.buckets?.["0.1"]).toBe("98");
  expect(series?.buckets?.["1"]).toBe("98");
  expect(series?.buckets?.["2.5"]).toBe("100");
  expect(byName.get("spectra_receive_to_commit_seconds")?.metrics ?? []).toEqual([]);
  expect(byName.get("spectra_clock_skew_negative_total")?.metrics.find((m) => m.labels?.venue === "okx_spot" && m.labels.data_type === "trade")?.value).toBe("1");
  expect(byName.get("spectra_recovered_records_total")?.metrics).toEqual([{ value: "7", labels: { venue: "okx_spot", data_type: "trade" } }]);
});

test("receipt -> commit is observed per venue and type once ClickHouse has committed the insert", async () => {
  const client = testClickHouse();
  const hot = uniqueDatabase("commit_latency");
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("commit_latency_cold") });
  const counters = new Counters(counterNames());
  const sink = new CommitLatencySink(new ClickHouseSink(client, { database: hot, close_client: false }), counters);
  const now = Date.now();
  const records: MarketRecord[] = [trade(1, now - 4000, now - 3000, "binance", "perpetual"), trade(2, now - 4000, now - 3000, "binance", "perpetual"), trade(3, now - 100, now - 50, "okx", "spot")];
  const before = Date.now();
  await sink.insert("trade", records, "commit-latency");
  const after = Date.now();
  const binance = readHistogram(counters, "receive_to_commit", "binance_derivatives", "trade");
  expect(binance.count).toBe(2);
  // 3000 ms plus the insert's own time: the (2500, 5000] bucket.
  expect(binance.buckets[LATENCY_BOUNDS_MS.indexOf(5000)]).toBe(2);
  expect(binance.sum_ms).toBeGreaterThanOrEqual(2 * (before - (now - 3000)));
  expect(binance.sum_ms).toBeLessThanOrEqual(2 * (after - (now - 3000)));
  expect(readHistogram(counters, "receive_to_commit", "okx_spot", "trade").count).toBe(1);
  const rows = await (await client.query({ query: `SELECT count() AS n FROM ${hot}.trades`, format: "JSONEachRow" })).json<{ n: string }>();
  expect(Number(rows[0]?.n)).toBe(3);
});
