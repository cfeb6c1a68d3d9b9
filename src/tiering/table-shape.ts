import type { ClickHouseClient } from "@clickhouse/client";
import { TieringSetupError } from "./errors.ts";
import { literal, queryRows, textAt } from "./sql.ts";

/**
 * What tiering needs to know about one table, read from `system.columns` / `system.tables` of
 * both sides, so columns the storage schema appends later are copied without code changes. A
 * `Distributed` table (`clickhouse.cluster`) is read through for rows, and its local tables give
 * the engine, sort key and partitions.
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
  /**
   * Where hot rows are stored, which partition listings and drops address: the hot table itself,
   * or, when it is `Distributed`, its local tables on every node of `cluster`.
   */
  readonly hot_storage: TableStorage;
  /** Cold is `Distributed`: copies insert synchronously, so verification reads what they wrote. */
  readonly cold_distributed: boolean;
}

export interface TableStorage {
  readonly database: string;
  readonly table: string;
  /** The Distributed table's cluster; empty for a table that stores its rows itself. */
  readonly cluster: string;
}

/** One argument of a Distributed engine as `system.tables.engine_full` prints it: 'text', `text` or text. */
const ENGINE_ARG = String.raw`\s*(?:'((?:[^'\\]|\\.)*)'|\x60((?:[^\x60\\]|\\.)*)\x60|([A-Za-z_][A-Za-z0-9_]*))\s*`;
const DISTRIBUTED_ARGS = new RegExp(`^Distributed\\(${ENGINE_ARG},${ENGINE_ARG},${ENGINE_ARG}[,)]`);

/**
 * The cluster, database and table that a `Distributed` engine's `engine_full` names; null when
 * the text does not start with those three arguments.
 */
export function distributedTarget(engine_full: string): TableStorage | null {
  const m = DISTRIBUTED_ARGS.exec(engine_full);
  if (m === null) return null;
  const arg = (i: number): string => (m[i] ?? m[i + 1] ?? m[i + 2] ?? "").replace(/\\(.)/g, "$1");
  return { cluster: arg(1), database: arg(4), table: arg(7) };
}

const EXCLUDED_FROM_CHECKSUM = new Set(["created_at"]);
const COLLAPSING_ENGINE = /^(Replicated|Shared)?(Replacing|Collapsing|VersionedCollapsing|Summing|Aggregating)MergeTree$/;

interface SideShape {
  readonly storage: TableStorage;
  readonly columns: ReadonlyMap<string, string>;
  readonly order: readonly string[];
  readonly engine: string;
  readonly sorting_key: string;
  readonly partition_key: string;
}

function tableInfoSql(database: string, table: string): string {
  return `SELECT engine, sorting_key, partition_key, engine_full FROM system.tables WHERE database = ${literal(database)} AND name = ${literal(table)}`;
}

async function readSide(
  client: ClickHouseClient,
  side: "hot" | "cold",
  database: string,
  table: string,
): Promise<SideShape> {
  let tables: unknown[][];
  let columns: unknown[][];
  let storage: TableStorage = { database, table, cluster: "" };
  try {
    const dbs = await queryRows(client, `SELECT name FROM system.databases WHERE name = ${literal(database)}`);
    if (dbs.length === 0) throw new TieringSetupError(`${side} database ${database} does not exist`);
    tables = await queryRows(client, tableInfoSql(database, table));
    const target = tables[0] !== undefined && textAt(tables[0], 0) === "Distributed" ? distributedTarget(textAt(tables[0], 3)) : null;
    if (target !== null) {
      // The engine, sort key and partitions that matter are the local tables' (the same on every node).
      storage = target;
      tables = await queryRows(client, tableInfoSql(target.database, target.table));
      if (tables.length === 0) throw new TieringSetupError(`table ${table}: ${side} ${database}.${table} is Distributed over ${target.database}.${target.table}, which does not exist`);
    }
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
    storage,
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
    hot_storage: hotSide.storage,
    cold_distributed: coldSide.storage.cluster !== "",
  };
}
