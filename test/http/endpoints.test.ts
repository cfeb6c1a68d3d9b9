import { describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { configWith } from "../../src/config/load.ts";
import { createHttpHandler, startHttpServer, HttpBindError } from "../../src/http/server.ts";
import type { HealthReport } from "../../src/http/stats-types.ts";
import { SpscRing } from "../../src/ring/spsc-ring.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames, typeCounter, venueCounter } from "../../src/stats/layout.ts";
import { buildStats } from "../../src/supervisor/stats.ts";
import type { BookSyncReport } from "../../src/venues/connection/sync-queue.ts";
import type { BookHealth } from "../../src/venues/types.ts";

interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

function book(native: string, state: BookHealth["state"]): BookHealth {
  return { symbol: `${native.slice(0, -4)}-USDT`, native, state, resyncs: 0, checksum_failures: 0, sequence_gaps: 0, last_update_ts_ms: 0 };
}

function fixture() {
  const config = configWith();
  const counters = new Counters(counterNames());
  counters.add(counters.slot(typeCounter("trade", "ingested")), 1200);
  counters.add(counters.slot(typeCounter("trade", "stored")), 1100);
  counters.add(counters.slot(venueCounter("okx_spot", "messages_in")), 77);
  counters.set(counters.slot(venueCounter("okx_spot", "connected")), 1);
  counters.set(counters.slot(venueCounter("okx_spot", "last_message_ms")), Date.now() - 1500);
  counters.add(counters.slot(venueCounter("binance_derivatives", "open_connections")), 2);
  counters.add(counters.slot(venueCounter("binance_derivatives", "ws_requests")), 4);
  counters.max(counters.slot(venueCounter("binance_derivatives", "ws_requests_peak_per_s")), 3);
  counters.add(counters.slot(venueCounter("binance_derivatives", "ws_incidents")), 1);
  counters.add(counters.slot(venueCounter("binance_spot", "rest_weight")), 2525);
  counters.add(counters.slot(venueCounter("binance_spot", "rest_429")), 2);
  counters.add(counters.slot(venueCounter("binance_spot", "rest_418")), 1);
  counters.add(counters.slot(venueCounter("binance_spot", "start_failures")), 6);
  counters.add(counters.slot(venueCounter("binance_spot", "normalizer_exceptions")), 3);
  counters.set(counters.slot(venueCounter("binance_derivatives", "symbols")), 212);
  counters.add(counters.slot(venueCounter("binance_derivatives", "symbols_added")), 3);
  counters.add(counters.slot(venueCounter("binance_derivatives", "symbols_removed")), 1);
  counters.add(counters.slot(venueCounter("binance_derivatives", "instrument_refreshes")), 4);
  counters.add(counters.slot(venueCounter("binance_derivatives", "instrument_refresh_failures")), 2);
  counters.set(counters.slot(venueCounter("binance_derivatives", "last_instrument_refresh_ms")), Date.now() - 60_000);
  const ring = SpscRing.create(65536);
  ring.tryWrite(new Uint8Array(100));
  const worker = { id: "batch:trade:0", init: { kind: "batch" as const }, state: "running" as const, restarts: 2, lastError: "killed", heap: { heap_bytes: 41_943_040, full_collections: 2 } };
  const starting = { id: "ingest:okx_spot:0", init: { kind: "ingest" as const, shards: [{ id: "ingest:okx_spot:0", venue: "okx_spot", symbols: ["BTC-USDT"] }] }, state: "starting" as const, restarts: 0, lastError: null, heap: null };
  const stats = () =>
    buildStats({
      config,
      counters,
      rates: (name) => (name === venueCounter("binance_spot", "rest_weight") ? 10 : 0),
      uptime_s: 12.5,
      process: { rss_bytes: 734_003_200, heap_bytes: 52_428_800, full_collections: 3 },
      workers: [worker as never, starting as never],
      rings: [{ from: "ingest:okx_spot:0", to: "batch:trade:0", type: "trade", ring }],
      bad_frames: new Map<string, Record<string, number>>([["ingest:okx_spot:0", { books: 2, unknown: 1 }], ["ingest:okx_spot:1", { books: 3 }]]),
      rest_queues: new Map([["ingest:binance_spot:0", 4], ["ingest:binance_spot:1", 3], ["ingest:okx_spot:0", 0]]),
      rest_block: (venue) => (venue === "binance_spot" ? { blocked_ms: 90_000, status: 418 } : { blocked_ms: 0, status: 0 }),
      overflow: new Map<string, Record<string, number>>([["ingest:okx_spot:0", { trade: 40, orderbook: 3 }], ["ingest:okx_spot:1", { trade: 2 }]]),
      shard_failures: new Map([["ingest:okx_spot:0", { message: "okx_spot: instrument metadata failed: 503", attempts: 2 }]]),
      books: new Map<string, BookHealth[]>([
        ["ingest:okx_spot:0", [{ symbol: "BTC-USDT", native: "BTC-USDT", state: "live", resyncs: 1, checksum_failures: 1, sequence_gaps: 0, last_update_ts_ms: 5 }]],
        ["ingest:binance_spot:0", ["AUSDT", "BUSDT", "CUSDT"].map((native, i) => book(native, i === 0 ? "live" : "syncing"))],
        ["ingest:binance_spot:1", ["DUSDT", "EUSDT", "FUSDT"].map((native, i) => book(native, i === 0 ? "live" : "syncing"))],
      ]),
      book_sync: new Map<string, BookSyncReport>([
        ["ingest:binance_spot:0", { waiting: 1, failures: [{ native: "CUSDT", kind: "snapshot_refused", detail: '400 {"code":-1121,"msg":"Invalid symbol."}', attempts: 3, since_ms: 7 }] }],
        ["ingest:binance_spot:1", { waiting: 2, failures: [{ native: "BUSDT", kind: "stream_silent", detail: "busdt@markprice@1s silent past its cadence", attempts: 0, since_ms: 9 }] }],
        ["ingest:okx_spot:0", { waiting: 0, failures: [] }],
      ]),
      // ingest:okx_spot:1 has not reported yet: its two books count as syncing.
      planned_books: new Map([["ingest:okx_spot:0", 1], ["ingest:okx_spot:1", 2], ["ingest:binance_spot:0", 3], ["ingest:binance_spot:1", 3]]),
      sync_eta_ms: (venue, waiting) => (venue === "binance_spot" ? waiting * 1500 : 0),
      nats: { state: "up", mode: "embedded", url: "nats://127.0.0.1:4222", latency_ms: 0.4, last_error: null, restarts: 1 },
      clickhouse: { state: "up", mode: "embedded", url: "", latency_ms: 1.2, last_error: null },
      tiering: { trades: { watermark_ms: 1_700_000_000_000, lag_ms: 3_600_000, windows_verified: 3, windows_failed: 0, last_error: null } },
      synthetic: false,
      symbol_changes: (venue) =>
        venue === "binance_derivatives"
          ? { last_refresh_error: "binance_derivatives: exchangeInfo failed: 0 timeout", changes: [{ symbol: "LUNAUSDT", change: "removed", at_ms: 1_700_000_000_000 }] }
          : undefined,
      poll_overloads: (venue) => (venue === "binance_derivatives" ? [{ limit_name: "futures_data", asked: 1000, sustained: 720, symbols_fit: 360, text: "polls ask 1,000 of futures_data" }] : []),
    });
  let health: HealthReport = { ok: true, components: { nats: { state: "up" } } };
  const handler = createHttpHandler({ stats, health: () => health, query: null });
  return { handler, setHealth: (h: HealthReport) => (health = h) };
}

describe("HTTP endpoints", () => {
  test("/stats reports counters, venue state, workers with ring depth and capacity, books and tiering", async () => {
    const { handler } = fixture();
    const res = await handler(new Request("http://x/stats"));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.uptime_s).toBe(12.5);
    expect(body.data_types.trade).toMatchObject({ ingested: 1200, stored: 1100, dropped: 0, overflow: 42 });
    expect(body.data_types.orderbook).toMatchObject({ overflow: 3 });
    expect(body.venues.okx_spot).toMatchObject({ state: "connected", messages_in: 77 });
    expect(body.venues.okx_spot.last_message_age_ms).toBeGreaterThanOrEqual(1500);
    expect(body.venues.binance_spot.state).toBe("disconnected");
    expect(body.venues.okx_spot.bad_by_channel).toEqual({ books: 5, unknown: 1 });
    expect(body.venues.binance_derivatives).toMatchObject({ open_connections: 2, ws_requests: 4, ws_requests_peak_per_s: 3, ws_incidents: 1 });
    expect(body.venues.binance_spot.rate_limited).toBe(3);
    expect(body.venues.binance_spot.start_failures).toBe(6);
    expect(body.venues.okx_spot.start_failures).toBe(0);
    expect(body.venues.binance_spot.normalizer_exceptions).toBe(3);
    expect(body.venues.okx_spot.normalizer_exceptions).toBe(0);
    expect(body.venues.binance_spot.rest).toEqual({ weight_used: 2525, weight_per_min: 600, queue: 7, responses_429: 2, responses_418: 1, blocked_ms: 90_000, block_status: 418, poll_overloads: [] });
    expect(body.venues.okx_spot.rest).toEqual({ weight_used: 0, weight_per_min: 0, queue: 0, responses_429: 0, responses_418: 0, blocked_ms: 0, block_status: 0, poll_overloads: [] });
    expect(body.venues.binance_derivatives.rest.poll_overloads).toEqual([{ limit: "futures_data", asked: 1000, sustained: 720, symbols_fit: 360 }]);
    expect(body.workers[0]).toMatchObject({ id: "batch:trade:0", state: "running", restarts: 2, overflow_records: 0 });
    expect(body.workers[0].rings[0]).toEqual({ peer: "ingest:okx_spot:0", type: "trade", depth_bytes: 104, capacity_bytes: 65536, high_water_bytes: 104 });
    expect(body.workers[0]).toMatchObject({ heap_bytes: 41_943_040, full_collections: 2 });
    expect(body.workers[1]).toMatchObject({ id: "ingest:okx_spot:0", heap_bytes: null, full_collections: 0 });
    // The venue shards each thread runs, with the failed starts of one that has not started yet.
    expect(body.workers[0].shards).toEqual([]);
    expect(body.workers[1].shards).toEqual([{ id: "ingest:okx_spot:0", venue: "okx_spot", symbols: 1, failed_starts: 2, last_start_error: "okx_spot: instrument metadata failed: 503" }]);
    expect(body.process).toEqual({ rss_bytes: 734_003_200, heap_bytes: 52_428_800, full_collections: 3 });
    expect(body.books.okx_spot[0]).toMatchObject({ symbol: "BTC-USDT", resyncs: 1, checksum_failures: 1 });
    // Books of both binance_spot workers: 2 live, 3 waiting for the REST budget (4.5 s), one failing on its own.
    expect(body.venues.binance_spot.book_sync).toEqual({ total: 6, live: 2, syncing: 1, waiting: 3, eta_s: 5 });
    expect(body.venues.binance_spot.failing_symbols).toEqual([
      { native: "BUSDT", kind: "stream_silent", detail: "busdt@markprice@1s silent past its cadence", attempts: 0, since_ms: 9 },
      { native: "CUSDT", kind: "snapshot_refused", detail: '400 {"code":-1121,"msg":"Invalid symbol."}', attempts: 3, since_ms: 7 },
    ]);
    expect(body.venues.okx_spot.book_sync).toEqual({ total: 3, live: 1, syncing: 2, waiting: 0, eta_s: 0 });
    expect(body.venues.okx_spot.failing_symbols).toEqual([]);
    expect(body.tiering.trades.windows_verified).toBe(3);
    expect(body.nats).toMatchObject({ state: "up", restarts: 1 });
    expect(body.venues.binance_derivatives.symbols).toMatchObject({
      resolved: 212,
      added: 3,
      removed: 1,
      refreshes: 4,
      refresh_failures: 2,
      last_refresh_error: "binance_derivatives: exchangeInfo failed: 0 timeout",
      changes: [{ symbol: "LUNAUSDT", change: "removed", at_ms: 1_700_000_000_000 }],
    });
    expect(Date.now() - body.venues.binance_derivatives.symbols.last_refresh_ms).toBeGreaterThanOrEqual(60_000);
    expect(body.venues.okx_spot.symbols).toEqual({ resolved: 0, last_refresh_ms: null, refreshes: 0, refresh_failures: 0, last_refresh_error: null, added: 0, removed: 0, changes: [] });
  });

  test("/metrics is Prometheus text with HELP and TYPE that a parser reads back", async () => {
    const { handler } = fixture();
    const res = await handler(new Request("http://x/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain("# HELP spectra_records_ingested_total");
    expect(text).toContain("# TYPE spectra_records_ingested_total counter");
    const families = parsePrometheusTextFormat(text) as PromFamily[];
    const byName = new Map(families.map((f) => [f.name, f]));
    const ingested = byName.get("spectra_records_ingested_total")?.metrics.find((m) => m.labels?.data_type === "trade");
    expect(ingested?.value).toBe("1200");
    const ring = byName.get("spectra_ring_depth_bytes")?.metrics[0];
    expect(ring).toEqual({ value: "104", labels: { worker: "batch:trade:0", peer: "ingest:okx_spot:0", data_type: "trade" } });
    expect(byName.get("spectra_worker_restarts_total")?.metrics[0]?.value).toBe("2");
    expect(byName.get("spectra_nats_restarts_total")?.metrics).toEqual([{ value: "1" }]);
    expect(byName.get("spectra_process_resident_memory_bytes")?.metrics).toEqual([{ value: "734003200" }]);
    // A worker that has not reported its heap yet has no heap figure rather than a 0.
    expect(byName.get("spectra_heap_bytes")?.metrics).toEqual([
      { value: "52428800", labels: { thread: "supervisor" } },
      { value: "41943040", labels: { thread: "batch:trade:0" } },
    ]);
    expect(byName.get("spectra_heap_full_collections_total")?.metrics).toEqual([
      { value: "3", labels: { thread: "supervisor" } },
      { value: "2", labels: { thread: "batch:trade:0" } },
      { value: "0", labels: { thread: "ingest:okx_spot:0" } },
    ]);
    expect(byName.get("spectra_venue_bad_frames_total")?.metrics).toEqual([
      { value: "5", labels: { venue: "okx_spot", channel: "books" } },
      { value: "1", labels: { venue: "okx_spot", channel: "unknown" } },
    ]);
    const binance = (name: string) => byName.get(name)?.metrics.filter((m) => m.labels?.venue === "binance_spot");
    expect(binance("spectra_venue_rest_weight_total")).toEqual([{ value: "2525", labels: { venue: "binance_spot" } }]);
    expect(binance("spectra_venue_rest_queue")).toEqual([{ value: "7", labels: { venue: "binance_spot" } }]);
    expect(binance("spectra_venue_start_failures_total")).toEqual([{ value: "6", labels: { venue: "binance_spot" } }]);
    expect(binance("spectra_venue_normalizer_exceptions_total")).toEqual([{ value: "3", labels: { venue: "binance_spot" } }]);
    expect(binance("spectra_venue_rest_blocked_seconds")).toEqual([{ value: "90", labels: { venue: "binance_spot" } }]);
    // Only the overloaded limit has a series: asked 1,000 over 720 sustained.
    expect(byName.get("spectra_venue_poll_overload_ratio")?.metrics).toEqual([{ value: String(1000 / 720), labels: { venue: "binance_derivatives", limit: "futures_data" } }]);
    expect(binance("spectra_venue_rest_rate_limited_total")).toEqual([
      { value: "2", labels: { venue: "binance_spot", status: "429" } },
      { value: "1", labels: { venue: "binance_spot", status: "418" } },
    ]);
    expect(byName.get("spectra_tiering_watermark_seconds")?.metrics[0]?.value).toBe("1700000000");
    const futures = (name: string) => byName.get(name)?.metrics.find((m) => m.labels?.venue === "binance_derivatives")?.value;
    expect(
      ["spectra_venue_open_connections", "spectra_venue_ws_requests_total", "spectra_venue_ws_requests_peak_per_second", "spectra_venue_ws_incidents_total"].map(futures),
    ).toEqual(["2", "4", "3", "1"]);
    expect(futures("spectra_venue_symbols")).toBe("212");
    expect(byName.get("spectra_venue_symbol_changes_total")?.metrics.filter((m) => m.labels?.venue === "binance_derivatives")).toEqual([
      { value: "3", labels: { venue: "binance_derivatives", change: "added" } },
      { value: "1", labels: { venue: "binance_derivatives", change: "removed" } },
    ]);
    expect(byName.get("spectra_venue_instrument_refreshes_total")?.metrics.filter((m) => m.labels?.venue === "binance_derivatives")).toEqual([
      { value: "4", labels: { venue: "binance_derivatives", result: "ok" } },
      { value: "2", labels: { venue: "binance_derivatives", result: "failed" } },
    ]);
    expect(Number(futures("spectra_venue_instrument_refresh_age_seconds"))).toBeGreaterThanOrEqual(60);
    // one label-name set per metric name
    for (const f of families) {
      const sets = new Set(f.metrics.map((m) => Object.keys(m.labels ?? {}).sort().join(",")));
      expect(sets.size).toBeLessThanOrEqual(1);
    }
  });

  test("/health is 200 when every component is up and 503 naming the one that is not", async () => {
    const { handler, setHealth } = fixture();
    expect((await handler(new Request("http://x/health"))).status).toBe(200);
    setHealth({ ok: false, components: { nats: { state: "down", detail: "connection refused" }, clickhouse: { state: "up" } } });
    const res = await handler(new Request("http://x/health"));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, components: { nats: { state: "down", detail: "connection refused" }, clickhouse: { state: "up" } } });
  });

  test("unknown paths are 404, wrong methods 405 with Allow, /query without embedded ClickHouse 501; each is counted", async () => {
    const { handler } = fixture();
    const missing = await handler(new Request("http://x/nope"));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("no such endpoint: /nope");
    const wrong = await handler(new Request("http://x/stats", { method: "POST", body: "x" }));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    expect((await handler(new Request("http://x/query", { method: "GET" }))).status).toBe(405);
    expect((await handler(new Request("http://x/query", { method: "POST", body: "SELECT 1" }))).status).toBe(501);
    const stats = (await (await handler(new Request("http://x/stats"))).json()) as { http: { refused_requests: Record<string, number> } };
    expect(stats.http.refused_requests).toEqual({ "404": 1, "405": 2, "501": 1 });
    const metrics = parsePrometheusTextFormat(await (await handler(new Request("http://x/metrics"))).text()) as PromFamily[];
    expect(metrics.find((f) => f.name === "spectra_http_refused_requests_total")?.metrics).toContainEqual({ value: "1", labels: { status: "404" } });
  });

  test("a port already in use is a clear bind error", () => {
    const { handler } = fixture();
    const first = startHttpServer("127.0.0.1", 0, handler);
    try {
      expect(() => startHttpServer("127.0.0.1", first.port as number, handler)).toThrow(HttpBindError);
      expect(() => startHttpServer("127.0.0.1", first.port as number, handler)).toThrow(`cannot listen on http://127.0.0.1:${first.port}`);
    } finally {
      first.stop(true);
    }
  });
});
