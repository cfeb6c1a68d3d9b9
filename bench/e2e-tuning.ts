import { RECORD_TYPES } from "../src/records/types.ts";

/**
 * Config the e2e bench runs the engine with, merged over config/default.yaml.
 *
 * - orderbook.snapshot_interval_ms 10000: book snapshots are due by exchange event time, and the
 *   simulator at its maximum rate replays the recordings ~50x faster than they were recorded, so
 *   the default 1000 ms cadence turned 10 symbols into ~1,500 100-level book records per wall
 *   second (a live feed gives ~10). Measured on 2 cores, 15 s window: with 1000 ms the
 *   orderbook batch worker stored ~680 rows/s against ~1,500/s ingested, its rings sat at 100 %,
 *   RSS peaked at 3.1 GB (ingest overflow buffers) and 120 s were not enough to drain (p99
 *   59 s); with 10000 ms nothing backs up (ring fill < 3 %, p99 2.7 s, peak RSS ~1 GB) and the
 *   frame rate rose from 48k to 53k msgs/s.
 * - engine.shutdown_deadline_ms 60000: with the 10 s default, a quick run's graceful stop hit
 *   the deadline (stop took 10.9 s), the supervisor terminated a worker and 592 orderbook
 *   records that were ingested never reached ClickHouse; the bench measures a complete drain.
 * - tiering off: its windows close 10 minutes after the fact, so in a 60 s run it would only
 *   compete for the chDB session.
 * - batching linger_ms 250: the default 1000 ms (about one insert per second per table, kind to
 *   a ClickHouse server) puts a ~1 s floor under receipt-to-commit latency. 100 ms made chDB's
 *   background merges take ~33 % of the 2 cores (MergeMutate threads) and e2e fell to 41k
 *   msgs/s (p99 1,037 ms, 60 s run); 250 ms: merges ~10 %, 67k msgs/s, p99 790 ms (15 s run).
 */
export const E2E_TUNING = {
  orderbook: { snapshot_interval_ms: 10_000 },
  engine: { shutdown_deadline_ms: 60_000 },
  tiering: { enabled: false },
  batching: Object.fromEntries(RECORD_TYPES.map((t) => [t, { linger_ms: 250 }])),
};
