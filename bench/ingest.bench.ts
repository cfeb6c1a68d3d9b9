import { configWith, mergeConfig } from "../src/config/load.ts";
import { VENUE_KEYS } from "../src/config/venue-keys.ts";
import { RecordCodec } from "../src/codec/record-codec.ts";
import type { MarketRecord } from "../src/records/types.ts";
import { replayVenueOverrides } from "../src/replay/overrides.ts";
import { IngestRunner } from "../src/venues/ingest.ts";
import { threadCpu } from "./proc-sample.ts";
import { generatedAssets, spreadSymbols, venueSymbols } from "./scale-plan.ts";
import { SimulatorThread } from "./sim-thread.ts";

/**
 * Question: what does the ingest thread's own work cost per frame at live rates, and how much
 * of it is encoding records for the rings?
 *
 * `bun run bench ingest [--quick]` (run by name only). The five venues' intake (IngestRunner:
 * connections, frame parser, normalizer, books, REST) runs on this bench's main thread, as the
 * engine's shared ingest thread runs it, against the simulator's generator at live rates on a
 * thread of its own (bench/sim-thread.ts), with the scale bench's spread of symbols over the
 * venues: 2,000 (`--quick` 500). Every record is encoded as the ring encodes it
 * (RecordCodec.encodeRecord, timed per record); the copy into the ring and everything after it
 * are left out (the scale bench measures the whole engine). Books sync from 100-level REST
 * snapshots, which weigh a tenth of the default 1,000-level ones on Binance spot, so 2,000 books
 * are live in about a minute and a half instead of six; a book record is the top 100 levels
 * either way.
 *
 * Once every book is live it measures MEASURED_S seconds: this thread's CPU (Linux
 * /proc/self/task), frames read and records emitted per second, CPU µs per frame, and the
 * encoding time per book record with its share of the thread's CPU. A frame the normalizer
 * counts as bad fails the run: the generator sends only well-formed frames.
 */

const MEASURED_S = 30;
const QUICK_MEASURED_S = 15;
const SYNC_DEADLINE_MS = 600_000;
const SNAPSHOT_LIMIT = 100;

export interface IngestBenchResult {
  symbols: number;
  frames_per_s: number;
  records_per_s: number;
  /** This thread's CPU, % of one core. */
  cpu_pct: number;
  cpu_us_per_frame: number;
  book_records_per_s: number;
  /** Wall time per 100-level book record in RecordCodec.encodeRecord. */
  book_encode_us: number;
  /** Share of the thread's CPU spent encoding records, %. */
  encode_pct: number;
  sync_s: number;
}

const say = (line: string): void => {
  process.stderr.write(`bench: ingest ${line}\n`);
};

/** CPU seconds of this process's main thread so far (its tid is the pid). */
function mainThreadCpuS(): number {
  const main = threadCpu(process.pid, "bench").find((t) => t.key === `${process.pid}/${process.pid}`);
  if (main === undefined) throw new Error("ingest bench: /proc/self/task has no main thread (Linux only)");
  return main.cpu_s;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

export async function runIngestBench(opts: { quick: boolean }): Promise<IngestBenchResult> {
  const symbols = opts.quick ? 500 : 2000;
  const measured_s = opts.quick ? QUICK_MEASURED_S : MEASURED_S;
  const counts = spreadSymbols(symbols);
  const simulator = await SimulatorThread.start(generatedAssets(counts), 0);
  const runners: IngestRunner[] = [];
  try {
    const listed = venueSymbols(simulator.symbols, counts);
    const config = configWith(mergeConfig(replayVenueOverrides(simulator), { orderbook: { snapshot_limit: SNAPSHOT_LIMIT } }));
    const codec = new RecordCodec();
    const tally = { frames: 0, records: 0, books: 0, book_encode_ms: 0, encode_ms: 0, bad: [] as string[] };
    const emit = (record: MarketRecord): void => {
      const t0 = performance.now();
      codec.encodeRecord(record);
      const ms = performance.now() - t0;
      tally.records++;
      tally.encode_ms += ms;
      if (record.data_type === "orderbook") {
        tally.books++;
        tally.book_encode_ms += ms;
      }
    };
    for (const venue of VENUE_KEYS) {
      const runner = new IngestRunner({
        venue,
        config: { ...config.venues[venue], symbols: listed[venue] },
        symbols: listed[venue],
        orderbook: config.orderbook,
        emit,
        stats: {
          messagesIn: (n) => {
            tally.frames += n;
          },
          reconnect: () => tally.bad.push(`${venue}: a connection was lost`),
          error: (channel, detail) => tally.bad.push(`${venue} ${channel}: ${detail ?? "error"}`),
        },
      });
      runners.push(runner);
      await runner.start();
    }
    const total = VENUE_KEYS.reduce((n, v) => n + (config.venues[v].data_types.includes("orderbook") ? listed[v].length : 0), 0);
    const live = (): number => runners.reduce((n, r) => n + (r.normalizer?.bookHealth() ?? []).filter((b) => b.state === "live").length, 0);
    const started = performance.now();
    while (live() < total) {
      if (performance.now() - started > SYNC_DEADLINE_MS) throw new Error(`ingest bench: ${live()} of ${total} books live after ${SYNC_DEADLINE_MS / 1000} s`);
      await Bun.sleep(1000);
    }
    const sync_s = (performance.now() - started) / 1000;
    say(`${symbols} symbols: ${total} books live after ${sync_s.toFixed(1)} s; measuring ${measured_s} s`);

    const before = { ...tally, cpu_s: mainThreadCpuS(), t: performance.now() };
    await Bun.sleep(measured_s * 1000);
    const cpu_s = mainThreadCpuS() - before.cpu_s;
    const window_s = (performance.now() - before.t) / 1000;
    const bad = runners.reduce((n, r) => n + (r.normalizer === undefined ? 0 : r.normalizer.stats.errors + r.normalizer.stats.unrecognized), 0);
    if (bad > 0 || tally.bad.length > 0) throw new Error(`ingest bench: ${bad} frames counted bad; ${tally.bad.slice(0, 5).join("; ")}`);
    const frames = tally.frames - before.frames;
    const books = tally.books - before.books;
    if (frames === 0 || books === 0) throw new Error(`ingest bench: ${frames} frames and ${books} book records in the window`);
    const result: IngestBenchResult = {
      symbols,
      frames_per_s: Math.round(frames / window_s),
      records_per_s: Math.round((tally.records - before.records) / window_s),
      cpu_pct: round((cpu_s / window_s) * 100, 1),
      cpu_us_per_frame: round((cpu_s * 1e6) / frames, 2),
      book_records_per_s: Math.round(books / window_s),
      book_encode_us: round(((tally.book_encode_ms - before.book_encode_ms) * 1000) / books, 1),
      encode_pct: round(((tally.encode_ms - before.encode_ms) / 1000 / cpu_s) * 100, 1),
      sync_s: round(sync_s, 1),
    };
    say(JSON.stringify(result));
    return result;
  } finally {
    for (const runner of runners) await runner.stop();
    await simulator.stop();
  }
}
