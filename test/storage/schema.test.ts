import { beforeAll, expect, test } from "bun:test";
import { RECORD_TYPES, type RecordType } from "../../src/records/types.ts";
import { createTableSql, ensureSchema, HOT_TTL_DAYS, tableColumns } from "../../src/storage/schema.ts";
import { TABLES } from "../../src/storage/types.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";

const client = testClickHouse();
const hot = uniqueDatabase("schema_hot");
const cold = uniqueDatabase("schema_cold");

beforeAll(async () => {
  await ensureSchema(client, { hot_database: hot, cold_database: cold });
});

async function rows<T>(query: string): Promise<T[]> {
  return (await client.query({ query, format: "JSONEachRow" })).json<T>();
}

const HEAD = ["timestamp", "exchange", "market_type", "symbol"];
const TAIL = ["data_source", "created_at", "received_at"];
/** SPEC section 2/3 column names, written out so a rename in schema.ts fails here. */
const SPEC_COLUMNS: Record<RecordType, string[]> = {
  trade: ["trade_id", "price", "quantity", "side", "is_maker", "trade_time"],
  orderbook: ["last_update_id", "bids", "asks", "best_bid_price", "best_bid_quantity", "best_ask_price", "best_ask_quantity", "bids_count", "asks_count"],
  funding_rate: ["funding_rate", "funding_time", "next_funding_time", "mark_price", "index_price"],
  open_interest: ["open_interest", "open_interest_value", "count"],
  liquidation: ["side", "price", "quantity", "liquidation_time"],
  lsr_top_position: ["long_position_ratio", "short_position_ratio", "long_short_ratio", "period"],
  lsr_all_account: ["long_account_ratio", "short_account_ratio", "long_short_ratio", "period"],
  volatility_index: ["index_value", "underlying_asset", "maturity_date"],
  orderbook_delta: ["update_id", "is_snapshot", "side", "price", "amount"],
  gap: ["data_type_affected", "start_ts_ms", "end_ts_ms", "cause"],
};
/** Columns appended to a table after its spec columns, after the tail (ALTER … ADD COLUMN on an older table). */
const APPENDED: Partial<Record<RecordType, string[]>> = { gap: ["recovered_records", "recovered_at"] };

test("every table has MarketPrism's columns in spec order, in hot and cold", async () => {
  for (const db of [hot, cold]) {
    for (const type of RECORD_TYPES) {
      const cols = await rows<{ name: string }>(
        `SELECT name FROM system.columns WHERE database = '${db}' AND table = '${TABLES[type]}' ORDER BY position`,
      );
      const expected = [...HEAD, ...SPEC_COLUMNS[type], ...TAIL, ...(APPENDED[type] ?? [])];
      expect(cols.map((c) => c.name)).toEqual(expected);
      expect(tableColumns(type).map((c) => c.name)).toEqual(expected);
    }
  }
});

test("times are DateTime64(3,'UTC') with Delta+ZSTD, symbols LowCardinality, prices Decimal(38,18)", async () => {
  const cols = await rows<{ name: string; type: string; compression_codec: string }>(
    `SELECT name, type, compression_codec FROM system.columns WHERE database = '${hot}' AND table = 'trades' ORDER BY position`,
  );
  const byName = new Map(cols.map((c) => [c.name, c]));
  expect(byName.get("timestamp")).toEqual({ name: "timestamp", type: "DateTime64(3, 'UTC')", compression_codec: "CODEC(Delta(8), ZSTD(1))" });
  expect(byName.get("symbol")?.type).toBe("LowCardinality(String)");
  expect(byName.get("price")).toEqual({ name: "price", type: "Decimal(38, 18)", compression_codec: "CODEC(ZSTD(1))" });
  expect(byName.get("is_maker")?.type).toBe("Bool");
});

test("hot rows expire after 3 days and cold after 3650, by whole daily parts, with insert dedup", async () => {
  const tables = await rows<{ database: string; name: string; engine_full: string; sorting_key: string; partition_key: string }>(
    `SELECT database, name, engine_full, sorting_key, partition_key FROM system.tables WHERE database IN ('${hot}', '${cold}') ORDER BY database, name`,
  );
  expect(tables.length).toBe(2 * RECORD_TYPES.length);
  for (const t of tables) {
    const days = t.database === hot ? 3 : 3650;
    expect(t.engine_full).toStartWith("ReplacingMergeTree PARTITION BY toYYYYMMDD(timestamp)");
    expect(t.engine_full).toContain(`TTL toDateTime(timestamp) + toIntervalDay(${days}) `);
    expect(t.engine_full).toContain("non_replicated_deduplication_window = 10000");
    expect(t.engine_full).toContain("ttl_only_drop_parts = 1");
    if (t.database === hot) expect(t.engine_full).toContain("merge_selector_base = 20");
    else expect(t.engine_full).not.toContain("merge_selector_base");
    expect(t.partition_key).toBe("toYYYYMMDD(timestamp)");
    expect(t.sorting_key).toStartWith("exchange, market_type, symbol, timestamp");
  }
  const trades = tables.find((t) => t.database === hot && t.name === "trades");
  expect(trades?.sorting_key).toBe("exchange, market_type, symbol, timestamp, trade_id");
  const deltas = tables.find((t) => t.database === hot && t.name === "orderbook_deltas");
  expect(deltas?.sorting_key).toBe("exchange, market_type, symbol, timestamp, update_id, is_snapshot, side, price");
});

test("ensureSchema is idempotent", async () => {
  await ensureSchema(client, { hot_database: hot, cold_database: cold });
  const n = await rows<{ n: string }>(`SELECT count() AS n FROM system.tables WHERE database = '${hot}'`);
  expect(Number(n[0]?.n)).toBe(RECORD_TYPES.length);
});

test("a hot table created before its merge settings gets them on the next start, keeping its rows", async () => {
  const older = uniqueDatabase("schema_older_hot");
  await client.command({ query: `CREATE DATABASE ${older}` });
  await client.command({ query: createTableSql(older, "volatility_index", HOT_TTL_DAYS) });
  await client.command({
    query: `INSERT INTO ${older}.volatility_indices (timestamp, exchange, market_type, symbol, index_value, received_at) VALUES (now64(3), 'deribit', 'options', 'BTC', '55.5', now64(3))`,
  });
  const engineOf = async () => (await rows<{ engine_full: string }>(`SELECT engine_full FROM system.tables WHERE database = '${older}' AND name = 'volatility_indices'`))[0]?.engine_full;
  expect(await engineOf()).not.toContain("merge_selector_base");
  await ensureSchema(client, { hot_database: older, cold_database: uniqueDatabase("schema_older_cold") });
  expect(await engineOf()).toContain("merge_selector_base = 20");
  expect(await rows(`SELECT symbol, toString(index_value) AS v FROM ${older}.volatility_indices`)).toEqual([{ symbol: "BTC", v: "55.5" }]);
});
