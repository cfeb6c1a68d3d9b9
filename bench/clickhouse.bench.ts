import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client";
import type { TradeRecord } from "../src/records/types.ts";
import { createChdbClient } from "../src/storage/client.ts";
import { ClickHouseSink } from "../src/storage/clickhouse-sink.ts";
import { ColumnarBatch } from "../src/storage/columnar-batch.ts";
import { ensureSchema, insertedColumns } from "../src/storage/schema.ts";

/**
 * Question: how fast do trades go into embedded ClickHouse as a columnar JSONColumns batch
 * (what the sink does) versus the client's JSONEachRow insert of row objects, per batch size?
 * Both start from the same MarketRecords and include building the payload; each run's row
 * count is checked in the table before it is reported.
 */

export type ClickHouseBenchResult = {
  [batch_size: string]: { columnar_rows_per_s: number; json_each_row_rows_per_s: number };
};

const BASE_MS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

function makeTrades(n: number, first_id: number): TradeRecord[] {
  const out: TradeRecord[] = [];
  for (let i = 0; i < n; i++) {
    const id = first_id + i;
    out.push({
      data_type: "trade", exchange: "binance", market_type: "spot", symbol: i % 2 === 0 ? "BTC-USDT" : "ETH-USDT",
      ts_ms: BASE_MS + Math.floor(i / 4), recv_ts_ms: BASE_MS + Math.floor(i / 4) + 3, trade_id: String(id),
      price: `${37000 + (i % 1000)}.${String(i % 100).padStart(2, "0")}`, quantity: `0.${String(1 + (i % 99999)).padStart(8, "0")}`,
      side: i % 3 === 0 ? "buy" : "sell", is_maker: i % 2 === 0, trade_time: BASE_MS + Math.floor(i / 4),
    });
  }
  return out;
}

const ROW_COLUMNS = insertedColumns("trade");

/** The row-object shape JSONEachRow needs (table column names). */
function toRow(r: TradeRecord): Record<string, unknown> {
  const fields = r as unknown as Record<string, unknown>;
  const row: Record<string, unknown> = {};
  for (const c of ROW_COLUMNS) row[c.name] = fields[c.field];
  return row;
}

async function countRows(client: ClickHouseClient, table: string): Promise<number> {
  const r = await client.query({ query: `SELECT count() AS n FROM ${table} SETTINGS output_format_json_quote_64bit_integers = 0`, format: "JSONEachRow" });
  const [row] = await r.json<{ n: number }>();
  return row?.n ?? -1;
}

export async function runClickHouseBench(opts: { quick: boolean; client?: ClickHouseClient }): Promise<ClickHouseBenchResult> {
  const client = opts.client ?? createChdbClient(mkdtempSync(join(tmpdir(), "spectra-bench-chdb-")));
  const sizes = opts.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  const rounds = opts.quick ? 2 : 3;
  const result: ClickHouseBenchResult = {};
  const run = `${process.pid}_${Date.now()}`;
  let next_id = 1;
  try {
    for (const size of sizes) {
      const columnarDb = `bench_columnar_${run}_${size}`;
      const rowsDb = `bench_rows_${run}_${size}`;
      await ensureSchema(client, { hot_database: columnarDb, cold_database: `${columnarDb}_cold` });
      await ensureSchema(client, { hot_database: rowsDb, cold_database: `${rowsDb}_cold` });
      const sink = new ClickHouseSink(client, { database: columnarDb, close_client: false });
      let columnar_ms = 0;
      let rows_ms = 0;
      for (let round = 0; round < rounds; round++) {
        const records = makeTrades(size, next_id);
        next_id += size;

        let t0 = performance.now();
        const batch = new ColumnarBatch("trade");
        for (const r of records) batch.append(r);
        await sink.insertBatch(batch, `bench-${run}-${size}-${round}`);
        columnar_ms += performance.now() - t0;

        t0 = performance.now();
        await client.insert({ table: `${rowsDb}.trades`, values: records.map(toRow), format: "JSONEachRow" });
        rows_ms += performance.now() - t0;
      }
      const expected = size * rounds;
      const [columnarRows, rowRows] = [await countRows(client, `${columnarDb}.trades`), await countRows(client, `${rowsDb}.trades`)];
      if (columnarRows !== expected || rowRows !== expected) {
        throw new Error(`ClickHouse bench lost rows at batch ${size}: columnar ${columnarRows}, JSONEachRow ${rowRows}, expected ${expected}`);
      }
      result[String(size)] = {
        columnar_rows_per_s: Math.round((expected / columnar_ms) * 1000),
        json_each_row_rows_per_s: Math.round((expected / rows_ms) * 1000),
      };
      for (const db of [columnarDb, `${columnarDb}_cold`, rowsDb, `${rowsDb}_cold`]) await client.command({ query: `DROP DATABASE ${db}` });
    }
  } finally {
    if (opts.client === undefined) await client.close();
  }
  return result;
}

if (import.meta.main) {
  const result = await runClickHouseBench({ quick: process.argv.includes("--quick") });
  console.table(result);
}
