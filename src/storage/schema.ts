import type { ClickHouseClient } from "@clickhouse/client";
import type { Config } from "../config/schema.ts";
import { RECORD_TYPES, type RecordType } from "../records/types.ts";
import { ident, literal } from "./sql-quote.ts";
import { TABLES } from "./types.ts";

/**
 * ClickHouse schema (SPEC section 3): MarketPrism's database, table and column names, one table
 * per record type in a hot and a cold database.
 *
 * Column order: `timestamp` (= ts_ms, exchange event time), exchange, market_type, symbol, the
 * type's own columns (SPEC section 2 names), `data_source`, `created_at`, then the columns
 * Spectra appends (`received_at` = recv_ts_ms).
 *
 * Numeric widths: every price, quantity, rate, ratio and value is `Decimal(38,18)`: 20 integer
 * and 18 fractional digits hold every exchange decimal string exactly (MarketPrism's
 * Decimal64(8) overflowed on open-interest values and truncated 1e-10 funding rates); the
 * validator refuses anything wider instead of letting ClickHouse round it.
 *
 * `data_source` is the constant `spectra`: the venue is already `exchange` + `market_type`, and
 * during a migration it tells rows written by Spectra from rows written by MarketPrism.
 *
 * Deduplication, two layers:
 * - every insert carries `insert_deduplication_token` (derived from the records' natural keys);
 *   `non_replicated_deduplication_window` (on a cluster, the replicated tables'
 *   `replicated_deduplication_window`) makes a re-delivered batch a no-op, exactly;
 * - the engine is ReplacingMergeTree on a sort key that ends with the record's natural id, so
 *   the same record arriving in a different batch (a REST bucket fetched twice, a replay)
 *   collapses at merge time. Merges are eventual: readers that need exact counts (tiering
 *   checksums, tests) query with `FINAL`; dashboards may read without it.
 *
 * Hot data leaves by TTL with `ttl_only_drop_parts`, so whole daily parts are dropped, never
 * rewritten row by row (MarketPrism failure 8).
 */

/** How a record field is encoded into its column (and validated). */
export type ColumnKind =
  /** Integer ms UTC → DateTime64(3,'UTC'). */
  | "time"
  /** Exchange decimal string → Decimal(38,18). */
  | "decimal"
  /** Non-empty string → (LowCardinality) String. */
  | "string"
  /** String that may be empty (e.g. maturity_date of a perpetual index). */
  | "string_or_empty"
  /** Non-negative safe integer → UInt. */
  | "uint"
  | "bool"
  /** Book levels → JSON text `[["price","qty"],…]`. */
  | "levels"
  /** The constant `spectra`, not read from the record. */
  | "source";

export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
  /** Record field the value comes from (`ts_ms` for `timestamp`, …). */
  readonly field: string;
  readonly kind: ColumnKind;
}

export const DATA_SOURCE = "spectra";

const TIME = "DateTime64(3, 'UTC')";
const DECIMAL = "Decimal(38, 18)";
const LOW = "LowCardinality(String)";

const col = (name: string, type: string, kind: ColumnKind, field: string = name): ColumnSpec => ({
  name,
  type,
  field,
  kind,
});

const LEADING: readonly ColumnSpec[] = [
  col("timestamp", TIME, "time", "ts_ms"),
  col("exchange", LOW, "string"),
  col("market_type", LOW, "string"),
  col("symbol", LOW, "string"),
];

const TYPE_COLUMNS: Readonly<Record<RecordType, readonly ColumnSpec[]>> = {
  trade: [
    col("trade_id", "String", "string"),
    col("price", DECIMAL, "decimal"),
    col("quantity", DECIMAL, "decimal"),
    col("side", LOW, "string"),
    col("is_maker", "Bool", "bool"),
    col("trade_time", TIME, "time"),
  ],
  orderbook: [
    col("last_update_id", "UInt64", "uint"),
    col("bids", "String", "levels"),
    col("asks", "String", "levels"),
    col("best_bid_price", DECIMAL, "decimal"),
    col("best_bid_quantity", DECIMAL, "decimal"),
    col("best_ask_price", DECIMAL, "decimal"),
    col("best_ask_quantity", DECIMAL, "decimal"),
    col("bids_count", "UInt32", "uint"),
    col("asks_count", "UInt32", "uint"),
  ],
  funding_rate: [
    col("funding_rate", DECIMAL, "decimal"),
    col("funding_time", TIME, "time"),
    col("next_funding_time", TIME, "time"),
    col("mark_price", DECIMAL, "decimal"),
    col("index_price", DECIMAL, "decimal"),
  ],
  open_interest: [
    col("open_interest", DECIMAL, "decimal"),
    col("open_interest_value", DECIMAL, "decimal"),
    col("count", "UInt64", "uint"),
  ],
  liquidation: [
    col("side", LOW, "string"),
    col("price", DECIMAL, "decimal"),
    col("quantity", DECIMAL, "decimal"),
    col("liquidation_time", TIME, "time"),
  ],
  lsr_top_position: [
    col("long_position_ratio", DECIMAL, "decimal"),
    col("short_position_ratio", DECIMAL, "decimal"),
    col("long_short_ratio", DECIMAL, "decimal"),
    col("period", LOW, "string"),
  ],
  lsr_all_account: [
    col("long_account_ratio", DECIMAL, "decimal"),
    col("short_account_ratio", DECIMAL, "decimal"),
    col("long_short_ratio", DECIMAL, "decimal"),
    col("period", LOW, "string"),
  ],
  volatility_index: [
    col("index_value", DECIMAL, "decimal"),
    col("underlying_asset", LOW, "string"),
    col("maturity_date", "String", "string_or_empty"),
  ],
  orderbook_delta: [
    col("update_id", "UInt64", "uint"),
    col("is_snapshot", "Bool", "bool"),
    col("side", LOW, "string"),
    col("price", DECIMAL, "decimal"),
    col("amount", DECIMAL, "decimal"),
  ],
  gap: [
    col("data_type_affected", LOW, "string"),
    col("start_ts_ms", TIME, "time"),
    col("end_ts_ms", TIME, "time"),
    col("cause", LOW, "string"),
  ],
};

const TRAILING: readonly ColumnSpec[] = [
  col("data_source", LOW, "source"),
  col("created_at", TIME, "time"),
  col("received_at", TIME, "time", "recv_ts_ms"),
];

/**
 * Columns added after a table's first release, after `received_at`, in the order added: a table
 * created by an earlier release gains them in place (`ensureSchema`, ADD COLUMN IF NOT EXISTS,
 * its rows reading the column default), and a new table has them at the same positions, so both
 * have one column order. Gaps: what a recovery after the gap brought back (0 and 1970-01-01
 * while none reported).
 */
const APPENDED: Readonly<Partial<Record<RecordType, readonly ColumnSpec[]>>> = {
  gap: [col("recovered_records", "UInt64", "uint"), col("recovered_at", TIME, "time", "recovered_at_ms")],
};

/** Sort-key tail after `exchange, market_type, symbol, timestamp`: the natural id (natural-key.ts). */
const NATURAL_ID: Readonly<Record<RecordType, readonly string[]>> = {
  trade: ["trade_id"],
  orderbook: ["last_update_id"],
  funding_rate: ["funding_time"],
  open_interest: [],
  liquidation: ["liquidation_time", "side", "price", "quantity"],
  lsr_top_position: ["period"],
  lsr_all_account: ["period"],
  volatility_index: [],
  orderbook_delta: ["update_id", "is_snapshot", "side", "price"],
  gap: ["data_type_affected", "cause", "start_ts_ms", "end_ts_ms"],
};

function perType<V>(f: (t: RecordType) => V): Readonly<Record<RecordType, V>> {
  const out = {} as Record<RecordType, V>;
  for (const t of RECORD_TYPES) out[t] = f(t);
  return out;
}

const ALL_COLUMNS = perType((t) => [...LEADING, ...TYPE_COLUMNS[t], ...TRAILING, ...(APPENDED[t] ?? [])]);
const INSERTED_COLUMNS = perType((t) => ALL_COLUMNS[t].filter((c) => c.name !== "created_at" && c.kind !== "source"));

/** Every column of `type`'s table, in table order (shared by the batch builder and tiering). */
export function tableColumns(type: RecordType): readonly ColumnSpec[] {
  return ALL_COLUMNS[type];
}

/**
 * The columns an insert writes: all but `created_at` (DEFAULT now64(3)) and `data_source`
 * (DEFAULT 'spectra'), which ClickHouse fills.
 */
export function insertedColumns(type: RecordType): readonly ColumnSpec[] {
  return INSERTED_COLUMNS[type];
}

/** The columns that identify a record of `type` within its symbol beyond its time (natural key). */
export function naturalIdColumns(type: RecordType): readonly string[] {
  return NATURAL_ID[type];
}

/** Sort key of `type`'s table. */
export function sortKey(type: RecordType): readonly string[] {
  return ["exchange", "market_type", "symbol", "timestamp", ...NATURAL_ID[type]];
}

export const HOT_TTL_DAYS = 3;
export const COLD_TTL_DAYS = 3650;
/**
 * Recent insert tokens remembered per table. At about one insert per second per table this
 * covers hours of redelivery (JetStream redelivers within ack_wait × max_deliver, minutes).
 */
export const DEDUP_WINDOW_INSERTS = 10_000;

/**
 * Where a ClickHouse cluster keeps the tables (`clickhouse.cluster`): every statement runs
 * `ON CLUSTER name`; each record type gets a `Replicated…MergeTree` table named with
 * `local_suffix` on every node, and a `Distributed` table under MarketPrism's name that inserts
 * and reads go through.
 */
export interface ClusterLayout {
  /** The cluster's name in the servers' `remote_servers`. */
  readonly name: string;
  /** Keeper path of a local table's replicas; `{shard}`, `{database}`, `{table}` are server macros. */
  readonly keeper_path: string;
  /** A replica's name within its shard, usually the `{replica}` macro. */
  readonly replica_name: string;
  /** Appended to MarketPrism's table name for the replicated tables, e.g. `trades_local`. */
  readonly local_suffix: string;
}

export interface SchemaNames {
  readonly hot_database: string;
  readonly cold_database: string;
  /** Absent: plain tables on one server (or embedded chDB). */
  readonly cluster?: ClusterLayout;
}

/** The schema names and layout that `clickhouse` config asks for. */
export function schemaNames(cfg: Config["clickhouse"]): SchemaNames {
  const names = { hot_database: cfg.hot_database, cold_database: cfg.cold_database };
  if (cfg.cluster === "") return names;
  return {
    ...names,
    cluster: { name: cfg.cluster, keeper_path: cfg.keeper_path, replica_name: cfg.replica_name, local_suffix: cfg.local_table_suffix },
  };
}

/**
 * Rows of one symbol share a shard (`Distributed` sharding key): FINAL collapses duplicates
 * within a shard only, and a record's sort key begins with its symbol, so every copy of a record
 * lands where FINAL sees it, whichever batch carried it.
 */
export const SHARDING_KEY = "cityHash64(exchange, market_type, symbol)";

function onCluster(cluster: ClusterLayout | undefined): string {
  return cluster === undefined ? "" : ` ON CLUSTER ${ident(cluster.name)}`;
}

/** The table that stores `type`'s rows: MarketPrism's name, or its replicated local table on a cluster. */
export function storedTableName(type: RecordType, cluster?: ClusterLayout): string {
  return cluster === undefined ? TABLES[type] : `${TABLES[type]}${cluster.local_suffix}`;
}

function codecFor(c: ColumnSpec): string {
  return c.kind === "time" ? "CODEC(Delta, ZSTD)" : "CODEC(ZSTD)";
}

function columnDdl(c: ColumnSpec): string {
  const dflt = c.name === "created_at" ? " DEFAULT now64(3)" : c.kind === "source" ? ` DEFAULT '${DATA_SOURCE}'` : "";
  return `\`${c.name}\` ${c.type}${dflt} ${codecFor(c)}`;
}

/**
 * `CREATE TABLE IF NOT EXISTS` of the table storing `type` in `database`, expiring rows after
 * `ttl_days`. On a cluster: the replicated local table, on every node. Replicated tables
 * deduplicate inserts by token through Keeper (`replicated_deduplication_window`), plain ones
 * locally (`non_replicated_deduplication_window`), over the same number of recent inserts.
 */
export function createTableSql(database: string, type: RecordType, ttl_days: number, cluster?: ClusterLayout): string {
  const columns = tableColumns(type).map(columnDdl).join(",\n  ");
  const engine =
    cluster === undefined
      ? "ReplacingMergeTree"
      : `ReplicatedReplacingMergeTree(${literal(cluster.keeper_path)}, ${literal(cluster.replica_name)})`;
  const dedup = cluster === undefined ? "non_replicated_deduplication_window" : "replicated_deduplication_window";
  return `CREATE TABLE IF NOT EXISTS ${ident(database)}.${ident(storedTableName(type, cluster))}${onCluster(cluster)} (
  ${columns}
)
ENGINE = ${engine}
PARTITION BY toYYYYMMDD(timestamp)
ORDER BY (${sortKey(type).join(", ")})
TTL toDateTime(timestamp) + INTERVAL ${ttl_days} DAY
SETTINGS ${dedup} = ${DEDUP_WINDOW_INSERTS}, ttl_only_drop_parts = 1`;
}

/** The `Distributed` table under MarketPrism's name over `type`'s local tables, on every node of `cluster`. */
export function createDistributedTableSql(database: string, type: RecordType, cluster: ClusterLayout): string {
  const local = storedTableName(type, cluster);
  return `CREATE TABLE IF NOT EXISTS ${ident(database)}.${ident(TABLES[type])}${onCluster(cluster)}
AS ${ident(database)}.${ident(local)}
ENGINE = Distributed(${literal(cluster.name)}, ${literal(database)}, ${literal(local)}, ${SHARDING_KEY})`;
}

/**
 * Hot tables' `merge_selector_base` (ClickHouse's default is 5): merge only once about this many
 * parts of similar size have gathered, so each row is rewritten fewer times. Hot tables take one
 * part per insert per table and flush lingers of a second or less, which keeps the merges busy:
 * 1,500 inserts of 100 order books into chDB (scratch, 2-core box) cost 25.1 s of merge CPU at
 * the default and 11.5 s at 20, ending with 17 and 25 active parts. Cold tables take a few large
 * tiering inserts and keep the default. Applied where the server knows the setting (not every
 * supported ClickHouse version does).
 */
export const HOT_MERGE_SELECTOR_BASE = 20;

/**
 * `ALTER TABLE … ADD COLUMN IF NOT EXISTS` for each column appended to `type`'s table since its
 * first release. On a cluster the local tables gain the column first, then the Distributed table
 * (created `AS` an older local table, it lacks the column too).
 */
export function addAppendedColumnsSql(database: string, type: RecordType, cluster?: ClusterLayout): string[] {
  const tables = cluster === undefined ? [TABLES[type]] : [storedTableName(type, cluster), TABLES[type]];
  return tables.flatMap((table) =>
    (APPENDED[type] ?? []).map(
      (c) => `ALTER TABLE ${ident(database)}.${ident(table)}${onCluster(cluster)} ADD COLUMN IF NOT EXISTS ${columnDdl(c)}`,
    ),
  );
}

/**
 * Every statement that creates both databases and their tables and adds the columns appended
 * since a table was created, in execution order; each is idempotent. Driven by `RECORD_TYPES`:
 * a new record type gets its plain or cluster tables from its column list alone.
 */
export function schemaStatements(names: SchemaNames): string[] {
  const { cluster } = names;
  const out: string[] = [];
  for (const [database, ttl] of [
    [names.hot_database, HOT_TTL_DAYS],
    [names.cold_database, COLD_TTL_DAYS],
  ] as const) {
    out.push(`CREATE DATABASE IF NOT EXISTS ${ident(database)}${onCluster(cluster)}`);
    for (const type of RECORD_TYPES) {
      out.push(createTableSql(database, type, ttl, cluster));
      if (cluster !== undefined) out.push(createDistributedTableSql(database, type, cluster));
      out.push(...addAppendedColumnsSql(database, type, cluster));
    }
  }
  return out;
}

/** `ALTER TABLE … MODIFY SETTING` of the hot tables' merge settings (the local tables on a cluster). */
export function hotMergeSettingsSql(names: SchemaNames): string[] {
  return RECORD_TYPES.map(
    (type) =>
      `ALTER TABLE ${ident(names.hot_database)}.${ident(storedTableName(type, names.cluster))}${onCluster(names.cluster)} MODIFY SETTING merge_selector_base = ${HOT_MERGE_SELECTOR_BASE}`,
  );
}

/**
 * Runs `schemaStatements`, then sets the hot tables' merge settings on tables created before
 * them (existing rows read appended columns' defaults); safe to run on every start.
 */
export async function ensureSchema(client: ClickHouseClient, names: SchemaNames): Promise<void> {
  for (const query of schemaStatements(names)) await client.command({ query });
  if (!(await knowsMergeTreeSetting(client, "merge_selector_base"))) return;
  for (const query of hotMergeSettingsSql(names)) await client.command({ query });
}

async function knowsMergeTreeSetting(client: ClickHouseClient, name: string): Promise<boolean> {
  const rs = await client.query({ query: `SELECT count() AS n FROM system.merge_tree_settings WHERE name = {name:String}`, query_params: { name }, format: "JSONEachRow" });
  const [row] = await rs.json<{ n: string | number }>();
  return Number(row?.n) > 0;
}
