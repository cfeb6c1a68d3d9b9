import type { ClickHouseClient } from "@clickhouse/client";

/** Small SQL text builders shared by the tiering modules (quoting: src/storage/sql-quote.ts). */

export { ident, literal, qualified } from "../storage/sql-quote.ts";

/** A DateTime64(3,'UTC') constant for `ms`; constant folding keeps partition pruning working. */
export function msTime(ms: number): string {
  return `fromUnixTimestamp64Milli(toInt64(${Math.trunc(ms)}), 'UTC')`;
}

/** Half-open `[from_ms, to_ms)`: a row exactly on a boundary belongs to the later window. */
export function timeRange(from_ms: number, to_ms: number): string {
  return `timestamp >= ${msTime(from_ms)} AND timestamp < ${msTime(to_ms)}`;
}

/**
 * Rows of a query as arrays of JSON values. Callers select 64-bit numbers through `toString`,
 * because JSON output carries UInt64 unquoted and a JS number would round it.
 */
export async function queryRows(client: ClickHouseClient, query: string): Promise<unknown[][]> {
  const result = await client.query({ query, format: "JSONCompactEachRow" });
  const rows: unknown = await result.json();
  if (!Array.isArray(rows)) throw new Error(`expected rows from ClickHouse, got ${typeof rows}: ${query}`);
  return rows.filter((row): row is unknown[] => Array.isArray(row));
}

export function textAt(row: readonly unknown[], index: number): string {
  const value = row[index];
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new Error(`expected text in column ${index} of ${JSON.stringify(row)}`);
}

export function numberAt(row: readonly unknown[], index: number): number {
  const value = Number(textAt(row, index));
  if (!Number.isFinite(value)) throw new Error(`expected a number in column ${index} of ${JSON.stringify(row)}`);
  return value;
}
