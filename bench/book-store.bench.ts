import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { decodeFrameForStorage } from "../src/bus/frame-codec.ts";
import { rawFrame } from "../src/codec/raw-frame.ts";
import { RingEncoder } from "../src/codec/ring-encoder.ts";
import { eventPort } from "../src/pipeline/event-port.ts";
import type { StorageRecord } from "../src/codec/storage-record.ts";
import type { Level, OrderbookRecord } from "../src/records/types.ts";
import { ClickHouseSink } from "../src/storage/clickhouse-sink.ts";
import { createChdbClient } from "../src/storage/client.ts";
import type { InsertReply, InsertRequest } from "../src/storage/insert-messages.ts";
import { serveInserts } from "../src/storage/insert-server.ts";
import { PortSink } from "../src/storage/port-sink.ts";
import { ensureSchema } from "../src/storage/schema.ts";
import { validateRecord } from "../src/storage/validate-record.ts";

/**
 * Question: what does the storing side cost per 100-level order book, and how many books a
 * second does it carry, from JetStream message bodies to committed chDB rows? One book per
 * message, as at thousands of symbols (frames are per symbol), in batches of 2,000 (2,000 books
 * a second at the default 1 s linger). Each message is decoded and checked as the storage
 * consumer does (decodeMessage, src/bus/message-decode.ts), each batch goes through PortSink, a MessageChannel and
 * serveInserts to a ClickHouseSink on embedded chDB, as between a batch worker and the
 * supervisor.
 *
 * CPU is read per thread from /proc: `js_us_per_book` is the JavaScript thread (decode, checks,
 * document, hand-over, statement; in the engine split between the batch worker and the
 * supervisor), `chdb_us_per_book` every other thread of the process (chDB parsing, writing and
 * merging parts). Checked before reporting: the table holds every book once, the stored level
 * text is the JSON of the levels, byte for byte.
 */

export interface BookStoreBenchResult {
  books: number;
  batch_rows: number;
  books_per_s: number;
  js_us_per_book: number;
  chdb_us_per_book: number;
  rows_checked: boolean;
}

const LEVELS = 100;
const BATCH_ROWS = 2_000;
const BASE_MS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** Binance-like text: 8-decimal prices a tick apart, 8-decimal quantities that vary per book. */
function side(mid: number, dir: 1 | -1, seed: number): Level[] {
  const out: Level[] = [];
  for (let i = 0; i < LEVELS; i++) {
    const price = (mid + dir * (i + 1) * 0.01).toFixed(8);
    const qty = (((seed * 7919 + i * 104729) % 9_999_999) / 1000 + 0.001).toFixed(8);
    out.push([price, qty]);
  }
  return out;
}

function book(i: number): OrderbookRecord {
  const mid = 30_000 + (i % 997);
  const bids = side(mid, -1, i);
  const asks = side(mid, 1, i + 1);
  const ts = BASE_MS + Math.floor(i / BATCH_ROWS) * 1000;
  return {
    data_type: "orderbook", exchange: "binance", market_type: "spot", symbol: `S${i % BATCH_ROWS}-USDT`,
    ts_ms: ts, recv_ts_ms: ts + 5, last_update_id: 1_000_000 + i, bids, asks,
    best_bid_price: bids[0]?.[0] ?? "0", best_bid_quantity: bids[0]?.[1] ?? "0", best_ask_price: asks[0]?.[0] ?? "0", best_ask_quantity: asks[0]?.[1] ?? "0",
    bids_count: bids.length, asks_count: asks.length,
  };
}

/** One frame per book, as the publisher sends them (raw-frame.ts). */
function frames(n: number): { frames: Uint8Array[]; text_bytes: number } {
  const encoder = new RingEncoder();
  const out: Uint8Array[] = [];
  let text_bytes = 0;
  for (let i = 0; i < n; i++) {
    const b = book(i);
    text_bytes += JSON.stringify(b.bids).length + JSON.stringify(b.asks).length;
    const ring = encoder.encode(b);
    out.push(rawFrame([{ data: ring, start: 0, end: ring.length }]));
  }
  return { frames: out, text_bytes };
}

/** CPU ms of this process's thread `tid` (/proc/self/task/<tid>/stat: utime + stime, in clock ticks of 10 ms). */
function threadCpuMs(tid: number): number {
  const fields = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export async function runBookStoreBench(opts: { quick: boolean }): Promise<BookStoreBenchResult> {
  const n = opts.quick ? 10_000 : 30_000;
  const input = frames(n);
  const dir = mkdtempSync(join(tmpdir(), "spectra-bench-book-store-"));
  const client = createChdbClient(dir);
  const { port1, port2 } = new MessageChannel();
  try {
    await ensureSchema(client, { hot_database: "bench_hot", cold_database: "bench_cold" });
    const stop = serveInserts(eventPort<InsertReply>(port2 as MessagePort), new ClickHouseSink(client, { database: "bench_hot", close_client: false }));
    const sink = new PortSink(eventPort<InsertRequest>(port1 as MessagePort));
    const js0 = threadCpuMs(process.pid);
    const all0 = processCpuMs();
    const started = performance.now();
    let batch: StorageRecord[] = [];
    for (let i = 0; i < n; i++) {
      const decoded = decodeFrameForStorage(input.frames[i] as Uint8Array, "orderbook");
      if (!decoded.ok) throw new Error(`book-store bench: frame ${i} did not decode: ${decoded.error}`);
      for (const r of decoded.value) {
        const problem = validateRecord("orderbook", r);
        if (problem !== null) throw new Error(`book-store bench: frame ${i}: ${problem}`);
        batch.push(r);
      }
      if (batch.length === BATCH_ROWS || i === n - 1) {
        await sink.insert("orderbook", batch, `bench-${i}`, true);
        batch = [];
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const js_ms = threadCpuMs(process.pid) - js0;
    const all_ms = processCpuMs() - all0;
    stop();
    await sink.close();

    const rs = await client.query({
      query: "SELECT count() AS rows, uniqExact(last_update_id) AS ids, sum(length(bids) + length(asks)) AS text_bytes FROM bench_hot.orderbooks SETTINGS output_format_json_quote_64bit_integers = 0",
      format: "JSONEachRow",
    });
    const [row] = await rs.json<{ rows: number; ids: number; text_bytes: number }>();
    const probe = await client.query({ query: "SELECT bids FROM bench_hot.orderbooks WHERE last_update_id = 1000007", format: "JSONEachRow" });
    const [stored] = await probe.json<{ bids: string }>();
    const rows_checked = row?.rows === n && row.ids === n && row.text_bytes === input.text_bytes && stored?.bids === JSON.stringify(book(7).bids);
    if (!rows_checked) throw new Error(`book-store bench: stored ${JSON.stringify(row)}, expected ${n} books and ${input.text_bytes} bytes of level text; book 7's bids ${stored?.bids === JSON.stringify(book(7).bids) ? "match" : "differ"}`);
    return {
      books: n,
      batch_rows: BATCH_ROWS,
      books_per_s: Math.round(n / seconds),
      js_us_per_book: Math.round((js_ms * 1000) / n),
      chdb_us_per_book: Math.round(((all_ms - js_ms) * 1000) / n),
      rows_checked,
    };
  } finally {
    port1.close();
    port2.close();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const result = await runBookStoreBench({ quick: process.argv.includes("--quick") });
  console.log(JSON.stringify(result));
  process.exit(0);
}
