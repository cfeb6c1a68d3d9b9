import { expect, test } from "bun:test";
import type { ClickHouseClient } from "@clickhouse/client";
import { RECORD_TYPES } from "../../src/records/types.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { hotMergeSettingsSql, schemaNames, schemaStatements, SHARDING_KEY, type ClusterLayout } from "../../src/storage/schema.ts";
import { TABLES } from "../../src/storage/types.ts";
import { sameInstanceCopySql } from "../../src/tiering/copy.ts";
import { dropPartitionSql, hotPartitionsSql } from "../../src/tiering/partition-drop.ts";
import { distributedTarget, type TableShape } from "../../src/tiering/table-shape.ts";
import { configWith } from "../../src/config/load.ts";
import { testClickHouse } from "../support/chdb.ts";
import { SAMPLES } from "./sample-records.ts";

/**
 * Cluster DDL cannot run on embedded ClickHouse (no Keeper, no remote_servers), but its parser
 * is the server's: every statement goes through `formatQuerySingleLine`, which fails on anything
 * ClickHouse cannot parse, and the assertions read ClickHouse's own rendering of it.
 */
const client = testClickHouse();

async function parsed(sql: string): Promise<string> {
  const rs = await client.query({ query: "SELECT formatQuerySingleLine({q:String}) AS f", query_params: { q: sql }, format: "JSONEachRow" });
  const [row] = await rs.json<{ f: string }>();
  if (row === undefined) throw new Error(`no formatting of ${sql}`);
  return row.f;
}

const DEFAULTS = schemaNames(configWith({ clickhouse: { url: "http://ch:8123", cluster: "spectra" } }).clickhouse);

test("config defaults give the usual Keeper path, {replica} and _local", () => {
  expect(DEFAULTS.cluster).toEqual({
    name: "spectra",
    keeper_path: "/clickhouse/tables/{shard}/{database}/{table}",
    replica_name: "{replica}",
    local_suffix: "_local",
  });
});

test("a cluster needs a server: embedded chDB with clickhouse.cluster is refused", () => {
  expect(() => configWith({ clickhouse: { url: "", cluster: "spectra" } })).toThrow(/cluster needs a ClickHouse server url/);
});

test("every table is a replicated local table plus a Distributed table under MarketPrism's name, ON CLUSTER", async () => {
  const layout: ClusterLayout = { name: "market_cluster", keeper_path: "/ch/{cluster}/{shard}/{database}/{table}", replica_name: "{replica}-r", local_suffix: "_shard" };
  const statements = await Promise.all(schemaStatements({ hot_database: "mp_hot", cold_database: "mp_cold", cluster: layout }).map(parsed));
  for (const s of statements) expect(s).toContain(" ON CLUSTER market_cluster");
  for (const db of ["mp_hot", "mp_cold"]) {
    expect(statements).toContain(`CREATE DATABASE IF NOT EXISTS ${db} ON CLUSTER market_cluster`);
    for (const type of RECORD_TYPES) {
      const table = TABLES[type];
      const local = statements.filter((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${db}.${table}_shard ON CLUSTER market_cluster (`));
      expect(local).toHaveLength(1);
      expect(local[0]).toContain("ENGINE = ReplicatedReplacingMergeTree('/ch/{cluster}/{shard}/{database}/{table}', '{replica}-r') PARTITION BY toYYYYMMDD(timestamp)");
      expect(local[0]).toContain("SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1");
      expect(statements).toContain(
        `CREATE TABLE IF NOT EXISTS ${db}.${table} ON CLUSTER market_cluster AS ${db}.${table}_shard ENGINE = Distributed('market_cluster', '${db}', '${table}_shard', ${SHARDING_KEY})`,
      );
    }
  }
  // Two databases: a CREATE DATABASE, and per type a local and a Distributed table.
  const alters = statements.filter((s) => s.startsWith("ALTER"));
  expect(statements.length - alters.length).toBe(2 * (1 + 2 * RECORD_TYPES.length));
});

test("the gaps columns are added in place to the local and the Distributed tables, ON CLUSTER", async () => {
  const alters = await Promise.all(schemaStatements(DEFAULTS).filter((s) => s.startsWith("ALTER")).map(parsed));
  const expected = (table: string) => [
    `ALTER TABLE marketprism_hot.${table} ON CLUSTER spectra (ADD COLUMN IF NOT EXISTS \`recovered_records\` UInt64 CODEC(ZSTD))`,
    `ALTER TABLE marketprism_hot.${table} ON CLUSTER spectra (ADD COLUMN IF NOT EXISTS \`recovered_at\` DateTime64(3, 'UTC') CODEC(Delta, ZSTD))`,
  ];
  expect(alters.filter((s) => s.startsWith("ALTER TABLE marketprism_hot.gaps"))).toEqual([...expected("gaps_local"), ...expected("gaps")]);
  for (const s of alters) expect(s).toMatch(/^ALTER TABLE marketprism_(hot|cold)\.\w+ ON CLUSTER spectra \(ADD COLUMN IF NOT EXISTS /);
});

test("hot merge settings go to the local tables, ON CLUSTER", async () => {
  const statements = await Promise.all(hotMergeSettingsSql(DEFAULTS).map(parsed));
  expect(statements).toContain("ALTER TABLE marketprism_hot.orderbooks_local ON CLUSTER spectra (MODIFY SETTING merge_selector_base = 20)");
  expect(statements).toHaveLength(RECORD_TYPES.length);
});

test("without a cluster the schema is plain ReplacingMergeTree tables, no ON CLUSTER", async () => {
  const statements = await Promise.all(schemaStatements({ hot_database: "h", cold_database: "c" }).map(parsed));
  for (const s of statements) expect(s).not.toContain("ON CLUSTER");
  expect(statements.filter((s) => s.includes("ENGINE = ReplacingMergeTree PARTITION BY"))).toHaveLength(2 * RECORD_TYPES.length);
  expect(statements.some((s) => s.includes("Distributed"))).toBe(false);
});

test("an insert into Distributed tables keeps its token and waits for the shards", async () => {
  const sent: string[] = [];
  const recorder = { command: async ({ query }: { query: string }) => void sent.push(query) };
  const sink = new ClickHouseSink(recorder as unknown as ClickHouseClient, { database: "marketprism_hot", close_client: false, distributed: true });
  await sink.insert("trade", [SAMPLES.trade], "batch-7");
  const [insert] = sent;
  if (insert === undefined) throw new Error("no insert sent");
  const head = await parsed(insert.slice(0, insert.indexOf("\n")));
  expect(head).toStartWith("INSERT INTO marketprism_hot.trades (");
  expect(head).toContain("SETTINGS insert_deduplication_token = 'batch-7', insert_distributed_sync = 1 FORMAT");
});

test("reads a Distributed engine's cluster, database and local table from engine_full", () => {
  expect(distributedTarget(`Distributed('spectra', 'marketprism_hot', 'trades_local', ${SHARDING_KEY})`)).toEqual({
    cluster: "spectra",
    database: "marketprism_hot",
    table: "trades_local",
  });
  expect(distributedTarget("Distributed(spectra, `hot db`, 'it\\'s')")).toEqual({ cluster: "spectra", database: "hot db", table: "it's" });
  expect(distributedTarget("ReplacingMergeTree")).toBeNull();
});

const clusterStorage = { database: "marketprism_hot", table: "trades_local", cluster: "spectra" };

test("tiering lists hot partitions on every replica's local table and drops them ON CLUSTER", async () => {
  expect(await parsed(hotPartitionsSql(clusterStorage))).toBe(
    "SELECT DISTINCT partition_id FROM clusterAllReplicas('spectra', system.parts) WHERE (database = 'marketprism_hot') AND (`table` = 'trades_local') AND active ORDER BY partition_id ASC",
  );
  expect(await parsed(dropPartitionSql(clusterStorage, "20240501"))).toBe(
    "ALTER TABLE marketprism_hot.trades_local ON CLUSTER spectra (DROP PARTITION ID '20240501')",
  );
  expect(await parsed(dropPartitionSql({ ...clusterStorage, table: "trades", cluster: "" }, "20240501"))).toBe(
    "ALTER TABLE marketprism_hot.trades (DROP PARTITION ID '20240501')",
  );
});

test("tiering copies through the Distributed tables: cold hashes GLOBAL, the insert synchronous", async () => {
  const shape: TableShape = {
    table: "trades",
    columns: ["timestamp", "symbol", "price", "created_at"],
    hash_columns: ["timestamp", "symbol", "price"],
    final: " FINAL",
    daily_partitions: true,
    has_created_at: true,
    hot_storage: clusterStorage,
    cold_distributed: true,
  };
  const sql = await parsed(
    sameInstanceCopySql(
      { hot_database: "marketprism_hot", cold_database: "marketprism_cold" },
      { shape, from_ms: 0, to_ms: 3_600_000, filter_sql: "", dedup_token: "tiering|trades" },
    ),
  );
  expect(sql).toStartWith(
    "INSERT INTO marketprism_cold.trades (timestamp, symbol, price, created_at) SETTINGS insert_deduplication_token = 'tiering|trades', insert_distributed_sync = 1 SELECT",
  );
  expect(sql).toContain("FROM marketprism_hot.trades FINAL");
  expect(sql).toContain("GLOBAL NOT IN (SELECT cityHash64(timestamp, symbol, price) FROM marketprism_cold.trades");
});
