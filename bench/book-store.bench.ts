import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { canonicalDecimal } from "../src/book/rebuild.ts";
import { decodeFrameForStorage } from "../src/bus/frame-codec.ts";
import { rawFrame } from "../src/codec/raw-frame.ts";
import { RingEncoder } from "../src/codec/ring-encoder.ts";
import { eventPort } from "../src/pipeline/event-port.ts";
import type { StorageRecord } from "../src/codec/storage-record.ts";
import type { Level, OrderbookDeltaRecord, OrderbookRecord } from "../src/records/types.ts";
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
 *
 * The same path for the book's changes (`deltas`): orderbook_delta rows, a row per changed level
 * (src/records/types.ts), in frames of 500 rows of one symbol as the publisher sends them
 * (nats.publish.frame_max_records), batches of 20,000 rows: `rows_per_s` is the rows a second the
 * delta path stores, from message bodies to committed rows. Checked: every row stored once
 * under FINAL, and one row's price and amount read back exactly.
 */

export interface BookStoreBenchResult {
  books: number;
  batch_rows: number;
  books_per_s: number;
  js_us_per_book: number;
  chdb_us_per_book: number;
  rows_checked: boolean;
  deltas: DeltaStoreResult;
}

export interface DeltaStoreResult {
  rows: number;
  batch_rows: number;
  rows_per_s: number;
  js_us_per_row: number;
  chdb_us_per_row: number;
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

const DELTA_FRAME_ROWS = 500;
const DELTA_BATCH_ROWS = 20_000;
/** Levels a change touches: Binance's 100 ms diffs of a busy symbol carry about this many. */
const LEVELS_PER_UPDATE = 10;

/** Row `i`: update i / 10 of symbol S<frame % 200>, five bid and five ask levels a tick apart, every seventh a delete. */
function deltaRow(i: number): OrderbookDeltaRecord {
  const frame = Math.floor(i / DELTA_FRAME_ROWS);
  const k = i % LEVELS_PER_UPDATE;
  const bid = k < LEVELS_PER_UPDATE / 2;
  const mid = 30_000 + (frame % 997);
  const ts = BASE_MS + Math.floor(i / DELTA_BATCH_ROWS) * 1000;
  return {
    data_type: "orderbook_delta", exchange: "binance", market_type: "spot", symbol: `S${frame % 200}-USDT`,
    ts_ms: ts, recv_ts_ms: ts + 5, update_id: 1_000_000 + Math.floor(i / LEVELS_PER_UPDATE), is_snapshot: i % 50_000 < 200,
    side: bid ? "bid" : "ask", price: (mid + (bid ? -1 : 1) * ((k % 5) + 1) * 0.01).toFixed(8),
    amount: i % 7 === 0 ? "0.00000000" : (((i * 7919) % 9_999_999) / 1000 + 0.001).toFixed(8),
  };
}

/** Frames of DELTA_FRAME_ROWS rows, as the publisher sends them. */
function deltaFrames(n: number): Uint8Array[] {
  const encoder = new RingEncoder();
  const out: Uint8Array[] = [];
  for (let first = 0; first < n; first += DELTA_FRAME_ROWS) {
    const parts = [];
    for (let i = first; i < Math.min(n, first + DELTA_FRAME_ROWS); i++) {
      const ring = encoder.encode(deltaRow(i));
      parts.push({ data: ring, start: 0, end: ring.length });
    }
    out.push(rawFrame(parts));
  }
  return out;
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
  let stopServing = (): void => {};
  let closeSink = async (): Promise<void> => {};
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

    stopServing = stop;
    closeSink = () => sink.close();
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
      deltas: await storeDeltas(client, sink, opts.quick ? 200_000 : 1_000_000),
    };
  } finally {
    stopServing();
    await closeSink();
    port1.close();
    port2.close();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The delta path: `n` rows in frames, decoded and checked as the storage consumer does, inserted in batches through `sink`. */
async function storeDeltas(client: ReturnType<typeof createChdbClient>, sink: PortSink, n: number): Promise<DeltaStoreResult> {
  const input = deltaFrames(n);
  const js0 = threadCpuMs(process.pid);
  const all0 = processCpuMs();
  const started = performance.now();
  let batch: StorageRecord[] = [];
  let seen = 0;
  for (let f = 0; f < input.length; f++) {
    const decoded = decodeFrameForStorage(input[f] as Uint8Array, "orderbook_delta");
    if (!decoded.ok) throw new Error(`book-store bench: delta frame ${f} did not decode: ${decoded.error}`);
    for (const r of decoded.value) {
      const problem = validateRecord("orderbook_delta", r);
      if (problem !== null) throw new Error(`book-store bench: delta frame ${f}: ${problem}`);
      batch.push(r);
    }
    seen += decoded.value.length;
    if (batch.length >= DELTA_BATCH_ROWS || f === input.length - 1) {
      await sink.insert("orderbook_delta", batch, `bench-delta-${f}`, true);
      batch = [];
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const js_ms = threadCpuMs(process.pid) - js0;
  const all_ms = processCpuMs() - all0;
  const rs = await client.query({
    query: "SELECT count() AS rows, uniqExact(symbol, update_id, is_snapshot, side, price) AS distinct_rows FROM bench_hot.orderbook_deltas FINAL SETTINGS output_format_json_quote_64bit_integers = 0",
    format: "JSONEachRow",
  });
  const [row] = await rs.json<{ rows: number; distinct_rows: number }>();
  const want = deltaRow(12_345);
  const probe = await client.query({
    query: `SELECT toString(price) AS p, toString(amount) AS a FROM bench_hot.orderbook_deltas WHERE symbol = '${want.symbol}' AND update_id = ${want.update_id} AND side = '${want.side}' AND price = toDecimal128('${want.price}', 18)`,
    format: "JSONEachRow",
  });
  const [stored] = await probe.json<{ p: string; a: string }>();
  const exact = stored !== undefined && stored.p === canonicalDecimal(want.price) && stored.a === canonicalDecimal(want.amount);
  const rows_checked = seen === n && row?.rows === n && row.distinct_rows === n && exact;
  if (!rows_checked) throw new Error(`book-store bench: stored ${JSON.stringify(row)} delta rows of ${n} (${seen} decoded); row 12345 ${JSON.stringify(stored)} against ${want.price} ${want.amount}`);
  return {
    rows: n,
    batch_rows: DELTA_BATCH_ROWS,
    rows_per_s: Math.round(n / seconds),
    js_us_per_row: Math.round(((js_ms * 1000) / n) * 100) / 100,
    chdb_us_per_row: Math.round((((all_ms - js_ms) * 1000) / n) * 100) / 100,
    rows_checked,
  };
}

if (import.meta.main) {
  const result = await runBookStoreBench({ quick: process.argv.includes("--quick") });
  console.log(JSON.stringify(result));
  process.exit(0);
}
