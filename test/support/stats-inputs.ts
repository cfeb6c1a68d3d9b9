import { configWith } from "../../src/config/load.ts";
import type { Counters } from "../../src/stats/counters.ts";
import type { StatsInputs } from "../../src/supervisor/stats.ts";

/**
 * What `buildStats` reads from an engine with no workers, rings, books or REST queues, NATS
 * and ClickHouse up and embedded: tests that look at one part of `/stats` override that part.
 */
export function idleStatsInputs(counters: Counters, overrides: Partial<StatsInputs> = {}): StatsInputs {
  return {
    config: configWith(),
    counters,
    rates: () => 0,
    uptime_s: 1,
    process: { rss_bytes: 1, heap_bytes: 1, full_collections: 0 },
    workers: [],
    rings: [],
    books: new Map(),
    bad_frames: new Map(),
    rest_queues: new Map(),
    rest_block: () => ({ blocked_ms: 0, status: 0 }),
    shard_failures: new Map(),
    overflow: new Map(),
    book_sync: new Map(),
    planned_books: new Map(),
    sync_eta_ms: () => 0,
    nats: { state: "up", mode: "embedded", url: "", latency_ms: null, last_error: null, restarts: 0 },
    clickhouse: { state: "up", mode: "embedded", url: "", latency_ms: null, last_error: null },
    tiering: {},
    synthetic: false,
    ...overrides,
  };
}
