import type { ClickHouseClient } from "@clickhouse/client";
import { RECORD_TYPES, type RecordType } from "../../src/records/types.ts";
import { ensureSchema, tableColumns, type ColumnSpec } from "../../src/storage/schema.ts";
import { TABLES } from "../../src/storage/types.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";

/**
 * Test data for tiering: real schema (ensureSchema), rows built generically from each table's
 * column specs so every table is seeded, with exact decimal texts whose round trip is checked.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface SeedRow {
  readonly type: RecordType;
  readonly ts_ms: number;
  readonly exchange: "binance" | "okx";
  readonly symbol: "BTC-USDT" | "ETH-USDT";
  readonly n: number;
}

export interface TierFixture {
  readonly client: ClickHouseClient;
  readonly hot_database: string;
  readonly cold_database: string;
}

export async function freshDatabases(): Promise<TierFixture> {
  const client = testClickHouse();
  const hot_database = uniqueDatabase("tier_hot");
  const cold_database = uniqueDatabase("tier_cold");
  await ensureSchema(client, { hot_database, cold_database });
  return { client, hot_database, cold_database };
}

/**
 * Start of the seeded range: a UTC midnight 1–2 days ago, so every seeded day is younger than
 * the hot TTL (3 days) and no part expires under the test.
 */
export function seedBase(): number {
  return Math.floor((Date.now() - 2 * DAY_MS) / DAY_MS) * DAY_MS;
}

/** An exact Decimal(38,18) text for row `n`: 20 integer digits would also fit. */
export function decimalFor(n: number, column: string): string {
  return `${12345678901 + n}.${String(column.length).padStart(2, "0")}0000000000000${String(n % 1000).padStart(3, "0")}`;
}

function dateTimeText(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

function valueFor(spec: ColumnSpec, row: SeedRow): string | number | boolean {
  switch (spec.name) {
    case "exchange":
      return row.exchange;
    case "market_type":
      return row.exchange === "binance" ? "spot" : "perpetual";
    case "symbol":
      return row.symbol;
    case "timestamp":
      return dateTimeText(row.ts_ms);
    case "received_at":
      return dateTimeText(row.ts_ms + 7);
  }
  switch (spec.kind) {
    case "time":
      return dateTimeText(row.ts_ms - 1);
    case "decimal":
      return decimalFor(row.n, spec.name);
    case "string":
      return `${spec.name}-${row.n}`;
    case "string_or_empty":
      return "";
    case "uint":
      return row.n;
    case "bool":
      return row.n % 2 === 0;
    case "levels":
      return JSON.stringify([[decimalFor(row.n, "p"), "1.5"]]);
    case "source":
      return "spectra";
  }
}

/** Inserts `rows` into `database` (each into its type's table), `created_at` left to its default. */
export async function insertRows(client: ClickHouseClient, database: string, rows: readonly SeedRow[]): Promise<void> {
  for (const type of RECORD_TYPES) {
    const mine = rows.filter((r) => r.type === type);
    if (mine.length === 0) continue;
    const specs = tableColumns(type).filter((c) => c.name !== "created_at");
    await client.insert({
      table: `${database}.${TABLES[type]}`,
      format: "JSONEachRow",
      values: mine.map((r) => Object.fromEntries(specs.map((s) => [s.name, valueFor(s, r)]))),
    });
  }
}

let counter = 0;

/** A row of `type` at `ts_ms`; `n` makes its content unique. */
export function row(type: RecordType, ts_ms: number, exchange: SeedRow["exchange"] = "binance", symbol: SeedRow["symbol"] = "BTC-USDT"): SeedRow {
  counter += 1;
  return { type, ts_ms, exchange, symbol, n: counter };
}

/**
 * Three days of rows per table from `base`: one every 55 minutes (varying venue and symbol),
 * plus rows exactly on hour boundaries and 1 ms before them. Timestamps are distinct per table,
 * so no two rows share a sort key (tables without a natural id collapse on timestamp).
 */
export function threeDays(base: number): SeedRow[] {
  const out: SeedRow[] = [];
  for (const type of RECORD_TYPES) {
    for (let k = 0; k * 55 * 60_000 < 3 * DAY_MS; k++) {
      const exchange = k % 2 === 0 ? "binance" : "okx";
      const symbol = k % 3 === 0 ? "ETH-USDT" : "BTC-USDT";
      out.push(row(type, base + k * 55 * 60_000 + 13_000, exchange, symbol));
    }
    for (const h of [1, 5, 24, 47, 71]) {
      out.push(row(type, base + h * HOUR_MS));
      out.push(row(type, base + h * HOUR_MS - 1, "okx", "ETH-USDT"));
    }
  }
  return out;
}

/** Expected rows per hour window of `table`'s type, computed from the seeded timestamps. */
export function perWindow(rows: readonly SeedRow[], type: RecordType, window_ms: number, until_ms: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of rows) {
    if (r.type !== type || r.ts_ms >= until_ms) continue;
    const w = Math.floor(r.ts_ms / window_ms) * window_ms;
    out.set(w, (out.get(w) ?? 0) + 1);
  }
  return out;
}
