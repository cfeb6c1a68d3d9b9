import { beforeAll, describe, expect, test } from "bun:test";
import { canonicalDecimal, canonicalLevels, compareDecimal, rebuildBook, ReplayedBook } from "../../src/book/rebuild.ts";
import { runBook, type BookStore } from "../../src/cli/book.ts";
import type { VenueKey } from "../../src/config/schema.ts";
import type { BookSide, MarketRecord, OrderbookDeltaRecord } from "../../src/records/types.ts";
import { recordedFrame } from "../../src/replay/recorded-frame.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import { parseInstrumentBodies } from "../../src/venues/instruments.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";

/**
 * The rebuild of a book from its orderbook_delta rows (src/book/rebuild.ts): folded in memory it
 * is the engine's own book after every update; read back from ClickHouse it starts at the newest
 * snapshot row set at or before the instant; `bun run book` prints it or says there is none.
 */

test("decimals are compared and spelled canonically, exactly", () => {
  expect(["0.35130000", "30189.0", "00", "0.0", "007.50", "12", "0.000000000000000001"].map(canonicalDecimal)).toEqual(["0.3513", "30189", "0", "0", "7.5", "12", "0.000000000000000001"]);
  const sorted = ["10", "9.99", "0.5", "0.49", "0.51", "100.000000000000000001", "100"].map(canonicalDecimal).sort(compareDecimal);
  expect(sorted).toEqual(["0.49", "0.5", "0.51", "9.99", "10", "100", "100.000000000000000001"]);
});

const FEEDS: [VenueKey, string, string][] = [
  ["binance_spot", "binance_spot.jsonl", "reference/binance_spot_exchangeInfo.jsonl"],
  ["binance_derivatives", "binance_derivatives.jsonl", "reference/binance_derivatives_exchangeInfo.jsonl"],
  ["okx_spot", "okx.jsonl", "reference/okx_instruments.jsonl"],
  ["okx_derivatives", "okx.jsonl", "reference/okx_instruments.jsonl"],
];

for (const [venue, file, reference] of FEEDS) {
  test(`${venue}: the rows folded in order equal the engine's whole book after every update`, () => {
    const source = generatorSource(3);
    const instruments = parseInstrumentBodies(venue, source.read(reference).map((l) => l.raw));
    const records: MarketRecord[] = [];
    const normalizer = getVenue(venue).createNormalizer({
      symbols: [],
      data_types: ["orderbook", "orderbook_delta"],
      depth: 5000,
      snapshot_interval_ms: 0,
      instruments,
      emit: (r) => records.push(r),
    });
    for (const line of source.read(file)) normalizer.push(recordedFrame(line));
    const books = new Map<string, ReplayedBook>();
    let compared = 0;
    for (const r of records) {
      if (r.data_type === "orderbook_delta") {
        let book = books.get(r.symbol);
        if (book === undefined) books.set(r.symbol, (book = new ReplayedBook()));
        book.apply(r);
      } else if (r.data_type === "orderbook") {
        const book = books.get(r.symbol);
        expect({ symbol: r.symbol, update: r.last_update_id, bids: book?.levels("bid"), asks: book?.levels("ask") }).toEqual({
          symbol: r.symbol,
          update: r.last_update_id,
          bids: canonicalLevels(r.bids),
          asks: canonicalLevels(r.asks),
        });
        expect(book?.update_id).toBe(r.last_update_id);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(300);
  });
}

const T = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;

function row(ts_ms: number, update_id: number, is_snapshot: boolean, side: BookSide, price: string, amount: string): OrderbookDeltaRecord {
  return { data_type: "orderbook_delta", exchange: "binance", market_type: "spot", symbol: "BTC-USDT", ts_ms, recv_ts_ms: ts_ms + 5, update_id, is_snapshot, side, price, amount };
}

/** Two syncs of one book, the second after a chain break at update 104. */
const ROWS: OrderbookDeltaRecord[] = [
  row(T + 100, 102, true, "bid", "100.00000000", "3.00000000"),
  row(T + 100, 102, true, "bid", "99.00000000", "2.00000000"),
  row(T + 100, 102, true, "ask", "101.00000000", "1.00000000"),
  row(T + 100, 102, true, "ask", "102.00000000", "5.00000000"),
  row(T + 200, 104, false, "bid", "99.00000000", "0.00000000"),
  row(T + 200, 104, false, "bid", "98.50000000", "4.00000000"),
  row(T + 300, 105, false, "ask", "101.00000000", "0.00000000"),
  row(T + 300, 105, false, "ask", "101.50000000", "0.25000000"),
  row(T + 900, 120, true, "bid", "98.50000000", "4.00000000"),
  row(T + 900, 120, true, "ask", "103.00000000", "2.50000000"),
  row(T + 1000, 121, false, "bid", "98.75000000", "1.00000000"),
];

describe("from ClickHouse", () => {
  const client = testClickHouse();
  const hot = uniqueDatabase("rebuild_hot");
  const cold = uniqueDatabase("rebuild_cold");
  const store: BookStore = { client, databases: [hot, cold], close: async () => {} };
  const query = (at_ms: number, depth = 0) => rebuildBook(client, [hot, cold], { exchange: "binance", market_type: "spot", symbol: "BTC-USDT", at_ms, depth });

  beforeAll(async () => {
    await ensureSchema(client, { hot_database: hot, cold_database: cold });
    const sink = new ClickHouseSink(client, { database: hot, close_client: false });
    await sink.insert("orderbook_delta", ROWS, "rebuild-test-1");
    // Redelivered in another batch, and tiered to cold before hot dropped it: the same book.
    await sink.insert("orderbook_delta", ROWS.slice(3, 7), "rebuild-test-2");
    await new ClickHouseSink(client, { database: cold, close_client: false }).insert("orderbook_delta", ROWS.slice(0, 6), "rebuild-test-3");
  });

  test("the newest snapshot at or before the instant, then every change up to it; nothing before any snapshot", async () => {
    expect(await query(T + 99)).toBeUndefined();
    expect(await query(T + 100)).toMatchObject({ snapshot_update_id: 102, update_id: 102, changes: 0, bids: [["100", "3"], ["99", "2"]], asks: [["101", "1"], ["102", "5"]] });
    expect(await query(T + 250)).toMatchObject({ snapshot_ts_ms: T + 100, update_id: 104, ts_ms: T + 200, bids: [["100", "3"], ["98.5", "4"]], asks: [["101", "1"], ["102", "5"]] });
    expect(await query(T + 899)).toMatchObject({ update_id: 105, changes: 4, bids: [["100", "3"], ["98.5", "4"]], asks: [["101.5", "0.25"], ["102", "5"]] });
    expect(await query(T + 900)).toMatchObject({ snapshot_update_id: 120, changes: 0, bids: [["98.5", "4"]], asks: [["103", "2.5"]] });
    expect(await query(T + 60_000, 1)).toMatchObject({ snapshot_ts_ms: T + 900, update_id: 121, changes: 1, bids: [["98.75", "1"]], asks: [["103", "2.5"]] });
  });

  test("bun run book prints the levels best first, or JSON; before any snapshot it says so and exits 2", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
    const args = ["--exchange", "binance", "--market-type", "spot", "--symbol", "BTC-USDT"];
    expect(await runBook([...args, "--at", new Date(T + 350).toISOString()], io, () => store)).toBe(0);
    const text = out.join("");
    expect(text).toContain(`binance spot BTC-USDT at ${new Date(T + 350).toISOString()}`);
    expect(text).toContain("4 level changes after it");
    const lines = text.trimEnd().split("\n").slice(-3);
    expect(lines.map((l) => l.split(/\s+\|?\s*/).filter((c) => c !== ""))).toEqual([
      ["bid", "amount", "bid", "price", "ask", "price", "ask", "amount"],
      ["3", "100", "101.5", "0.25"],
      ["4", "98.5", "102", "5"],
    ]);
    out.length = 0;
    expect(await runBook([...args, "--at", String(T + 1000), "--json"], io, () => store)).toBe(0);
    expect(JSON.parse(out.join(""))).toMatchObject({ symbol: "BTC-USDT", at_ms: T + 1000, bids: [["98.75", "1"], ["98.5", "4"]], asks: [["103", "2.5"]] });
    expect(await runBook([...args, "--at", String(T + 99)], io, () => store)).toBe(2);
    expect(err.join("")).toContain(`no snapshot of binance spot BTC-USDT is stored at or before ${new Date(T + 99).toISOString()}`);
    err.length = 0;
    expect(await runBook([...args, "--at", "yesterday"], io, () => store)).toBe(2);
    expect(err.join("")).toContain("--at must be ISO-8601 or epoch milliseconds");
  });
});
