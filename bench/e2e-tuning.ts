/**
 * Config the e2e bench runs the engine with, merged over config/default.yaml.
 *
 * - orderbook.snapshot_interval_ms 15000: book snapshots are due by exchange event time, and
 *   the simulator at its maximum rate replays the recordings thousands of times faster than they
 *   were recorded (Binance spot: ~140 loops of 31 s each per wall second), so the interval sets
 *   how many 100-level book records (~5 KB each) ride along with the messages. A live deployment
 *   at the default 1 s cadence sees ~1 % of its messages as books at ~100 messages/s per symbol
 *   (10 depth diffs/s plus trades), ~0.5 % at 200/s; at 15 s here they are ~2.3 % (quick runs on
 *   this 2-core box: 57k msgs/s, 1,300 books/s stored, orderbook ring at most 48 %, p99 367 ms).
 *   Shorter intervals carry more books at a higher latency: at 10 s 45-55k msgs/s with
 *   1,300-1,700 books/s and p99 1.2-1.3 s, at 5 s 44k msgs/s with 2,050 books/s and p99 1.5 s,
 *   none lost, the orderbook ring filling in some runs. Replay loops continue the book chain
 *   (src/venues/binance/sim-replay.ts), so the interval alone sets how many books are stored.
 * - engine.shutdown_deadline_ms 60000: with the 10 s default, a quick run's graceful stop hit
 *   the deadline (stop took 10.9 s), the supervisor terminated a worker and 592 orderbook
 *   records that were ingested never reached ClickHouse; the bench measures a complete drain.
 * - tiering off: its windows close 10 minutes after the fact, so in a 60 s run it would only
 *   compete with the inserts for chDB and the CPU.
 * - batching linger_ms 150 for trades and 100 for order books (99.8 % of the rows), the default
 *   1000 ms for the rest: the default (about one insert per second per table, kind to a
 *   ClickHouse server) puts a ~1 s floor under receipt-to-commit latency. Shorter lingers make more
 *   inserts and merges than 2 cores absorb (15 s runs, code of 2026-11-22): 250 ms gave 91-131k
 *   msgs/s and p99 0.7-1.2 s, 150 ms 94k msgs/s and p99 1.04 s (books 1.4 s), 100 ms 103k msgs/s
 *   with the orderbook ring full and p99 2.9 s (books 3.9 s). With ingest at nice 10 and hot
 *   merges at base 20 (0204450, alternated 15 s runs), 250 ms gave 60-81k msgs/s and p99
 *   352-410 ms, 150 ms 56-70k and 297-438 ms, 100 ms 54-80k and 207-235 ms but filled the
 *   orderbook ring in one run of four (p99 1.4 s). With books merged in one pass (625ca61,
 *   three alternated pairs of 15 s runs on a slow hour), 250/250 gave 77-81k msgs/s and p99
 *   340-356 ms, trades 150 / books 100 gave 69-74k and p99 210-242 ms (trades 207-228, books
 *   212-249): chDB's merge threads went from ~5 % to ~9.5 % of a core with 2.3 times the book
 *   inserts, and intake lost what they took. Book rows cost chDB per row, not per insert
 *   (~1.7 ms an insert + ~85 µs a 100-level book, scratch chDB), trade rows per insert (~5.8 ms + ~3 µs a row),
 *   so books take the shorter linger. Every chDB INSERT costs 4-12 ms
 *   of CPU before its first row (measured alone; about half of it in the kernel, creating the
 *   new part's 13 files), so the tables that get a handful of rows a second (funding, open
 *   interest, liquidations, ratios, volatility, gaps) keep one insert a second instead of four.
 */
export const E2E_TUNING = {
  orderbook: { snapshot_interval_ms: 15_000 },
  engine: { shutdown_deadline_ms: 60_000 },
  tiering: { enabled: false },
  batching: { trade: { linger_ms: 150 }, orderbook: { linger_ms: 100 } },
};
