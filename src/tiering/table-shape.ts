import type { ClickHouseClient } from "@clickhouse/client";
import { TieringSetupError } from "./errors.ts";
import { literal, queryRows, textAt } from "./sql.ts";

/**
 * What tiering needs to know about one table, read from `system.columns` / `system.tables` of
 * both sides, so columns the storage schema appends later are copied without code changes.
 */
export interface TableShape {
  readonly table: string;
  /** Every hot column in table order: what a copy writes, verbatim (`created_at` included). */
  readonly columns: readonly string[];
  /**
   * Columns the content checksum covers: all but `created_at`. It is copied verbatim, so a cold
   * row equals its hot row, but it is the hot insert time: one record inserted twice (two
   * batches, before a merge collapses them) gives two rows that differ only there, and which
   * one FINAL keeps depends on merge order. Hashing it would report spurious mismatches.
   */
  readonly hash_columns: readonly string[];
  /**
   * ` FINAL` when the engine collapses rows by sort key (ReplacingMergeTree): both sides are
   * counted and hashed as the merged table will be, so unmerged duplicates in either database
   * and a window copied twice still verify. Empty for engines without FINAL.
   */
  readonly final: string;
  /** Partitions are `toYYYYMMDD(timestamp)`: the only layout whole-partition drops accept. */
  readonly daily_partitions: boolean;
  /** The table has the insert-time column `created_at`, which cheap re-checks key on. */
  readonly has_created_at: boolean;
}

const EXCLUDED_FROM_CHECKSUM = new Set(["created_at"]);
const COLLAPSING_ENGINE = /^(Replicated|Shared)?(Replacing|Collapsing|VersionedCollapsing|Summing|Aggregating)MergeTree$/;

interface SideShape {
  readonly columns: ReadonlyMap<string, string>;
  readonly order: readonly string[];
  readonly engine: string;
  readonly sorting_key: string;
  readonly partition_key: string;
}

async function readSide(
  client: ClickHouseClient,
  side: "hot" | "cold",
  database: string,
  table: string,
): Promise<SideShape> {
  let tables: unknown[][];
  let columns: unknown[][];
  try {
    const dbs = await queryRows(client, `SELECT name FROM system.databases WHERE name = ${literal(database)}`);
    if (dbs.length === 0) throw new TieringSetupError(`${side} database ${database} does not exist`);
    tables = await queryRows(
      client,
      `SELECT engine, sorting_key, partition_key FROM system.tables WHERE database = ${literal(database)} AND name = ${literal(table)}`,
    );
    columns = await queryRows(
      client,
      `SELECT name, type FROM system.columns WHERE database = ${literal(database)} AND table = ${literal(table)} ORDER BY position`,
    );
  } catch (cause) {
    if (cause instanceof TieringSetupError) throw cause;
    throw new TieringSetupError(`${side} ClickHouse is unreachable while reading ${database}.${table}: ${String(cause)}`, {
      cause,
    });
  }
  const info = tables[0];
  if (info === undefined) throw new TieringSetupError(`table ${table}: ${side} table ${database}.${table} does not exist`);
  const map = new Map<string, string>();
  for (const row of columns) map.set(textAt(row, 0), textAt(row, 1));
  return {
    columns: map,
    order: [...map.keys()],
    engine: textAt(info, 0),
    sorting_key: textAt(info, 1),
    partition_key: textAt(info, 2),
  };
}

/** Every way `cold` differs from `hot`, as readable phrases. */
function differences(hot: SideShape, cold: SideShape): string[] {
  const out: string[] = [];
  for (const [name, type] of hot.columns) {
    const coldType = cold.columns.get(name);
    if (coldType === undefined) out.push(`column ${name} (${type}) is missing in cold`);
    else if (coldType !== type) out.push(`column ${name} is ${type} in hot but ${coldType} in cold`);
  }
  for (const [name, type] of cold.columns) {
    if (!hot.columns.has(name)) out.push(`column ${name} (${type}) exists only in cold`);
  }
  // The sort key is what FINAL collapses by; different keys make the two checksums incomparable.
  if (hot.sorting_key !== cold.sorting_key) {
    out.push(`sort key is (${hot.sorting_key}) in hot but (${cold.sorting_key}) in cold`);
  }
  if (COLLAPSING_ENGINE.test(hot.engine) !== COLLAPSING_ENGINE.test(cold.engine)) {
    out.push(`engine is ${hot.engine} in hot but ${cold.engine} in cold`);
  }
  return out;
}

/**
 * Reads and compares `table` in both databases. Throws `TieringSetupError` naming the table and
 * every difference when they cannot be tiered as they are.
 */
export async function readTableShape(
  hot: ClickHouseClient,
  cold: ClickHouseClient,
  databases: { readonly hot_database: string; readonly cold_database: string },
  table: string,
): Promise<TableShape> {
  const hotSide = await readSide(hot, "hot", databases.hot_database, table);
  const coldSide = await readSide(cold, "cold", databases.cold_database, table);
  if (!hotSide.columns.has("timestamp")) {
    throw new TieringSetupError(`table ${table}: hot ${databases.hot_database}.${table} has no timestamp column to window by`);
  }
  const diff = differences(hotSide, coldSide);
  if (diff.length > 0) {
    throw new TieringSetupError(
      `table ${table}: hot ${databases.hot_database}.${table} and cold ${databases.cold_database}.${table} differ: ${diff.join("; ")}`,
    );
  }
  return {
    table,
    columns: hotSide.order,
    hash_columns: hotSide.order.filter((c) => !EXCLUDED_FROM_CHECKSUM.has(c)),
    final: COLLAPSING_ENGINE.test(hotSide.engine) ? " FINAL" : "",
    daily_partitions: hotSide.partition_key.replace(/\s+/g, "") === "toYYYYMMDD(timestamp)",
    has_created_at: hotSide.columns.get("created_at")?.startsWith("DateTime64") === true,
  };
}
