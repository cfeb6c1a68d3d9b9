import { expect, test } from "bun:test";
import type { GapRecord } from "../../src/records/types.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";

const client = testClickHouse();

async function rows<T>(query: string): Promise<T[]> {
  return (await client.query({ query, format: "JSONEachRow" })).json<T>();
}

/** The `gaps` table as the releases before issue 20 created it (src/storage/schema.ts then). */
function oldGapsDdl(database: string): string {
  return `CREATE TABLE \`${database}\`.\`gaps\` (
  \`timestamp\` DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
  \`exchange\` LowCardinality(String) CODEC(ZSTD),
  \`market_type\` LowCardinality(String) CODEC(ZSTD),
  \`symbol\` LowCardinality(String) CODEC(ZSTD),
  \`data_type_affected\` LowCardinality(String) CODEC(ZSTD),
  \`start_ts_ms\` DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
  \`end_ts_ms\` DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
  \`cause\` LowCardinality(String) CODEC(ZSTD),
  \`data_source\` LowCardinality(String) DEFAULT 'spectra' CODEC(ZSTD),
  \`created_at\` DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD),
  \`received_at\` DateTime64(3, 'UTC') CODEC(Delta, ZSTD)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(timestamp)
ORDER BY (exchange, market_type, symbol, timestamp, data_type_affected, cause, start_ts_ms, end_ts_ms)
TTL toDateTime(timestamp) + INTERVAL 3 DAY
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1`;
}

const NOW = Date.now();

function gap(recovered_records: number, recovered_at_ms: number): GapRecord {
  return {
    data_type: "gap",
    exchange: "deribit",
    market_type: "options",
    symbol: "BTC",
    ts_ms: NOW - 1000,
    recv_ts_ms: NOW - 1000,
    data_type_affected: "volatility_index",
    start_ts_ms: NOW - 6000,
    end_ts_ms: NOW - 1000,
    cause: "reconnect",
    recovered_records,
    recovered_at_ms,
  };
}

test("a gaps table created by the old DDL gains recovered_records and recovered_at in place, keeping its rows", async () => {
  const hot = uniqueDatabase("gaps_old_hot");
  await client.command({ query: `CREATE DATABASE ${hot}` });
  await client.command({ query: oldGapsDdl(hot) });
  await client.command({
    query:
      `INSERT INTO ${hot}.gaps (timestamp, exchange, market_type, symbol, data_type_affected, start_ts_ms, end_ts_ms, cause, received_at) ` +
      `VALUES (fromUnixTimestamp64Milli(${NOW}), 'okx', 'spot', 'BTC-USDT', 'trade', fromUnixTimestamp64Milli(${NOW - 5000}), fromUnixTimestamp64Milli(${NOW}), 'reconnect', fromUnixTimestamp64Milli(${NOW}))`,
  });
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("gaps_old_cold") });
  const cols = await rows<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = '${hot}' AND table = 'gaps' ORDER BY position`);
  expect(cols.slice(-5)).toEqual([
    { name: "data_source", type: "LowCardinality(String)" },
    { name: "created_at", type: "DateTime64(3, 'UTC')" },
    { name: "received_at", type: "DateTime64(3, 'UTC')" },
    { name: "recovered_records", type: "UInt64" },
    { name: "recovered_at", type: "DateTime64(3, 'UTC')" },
  ]);
  expect(
    await rows(
      `SELECT symbol, data_type_affected, cause, toUnixTimestamp64Milli(start_ts_ms) AS start, toUnixTimestamp64Milli(end_ts_ms) AS end, ` +
        `recovered_records, toUnixTimestamp64Milli(recovered_at) AS recovered_at FROM ${hot}.gaps ` +
        `SETTINGS output_format_json_quote_64bit_integers = 0`,
    ),
  ).toEqual([{ symbol: "BTC-USDT", data_type_affected: "trade", cause: "reconnect", start: NOW - 5000, end: NOW, recovered_records: 0, recovered_at: 0 }]);
  // The migrated table takes the engine's inserts, new columns included; a second start changes nothing.
  await new ClickHouseSink(client, { database: hot, close_client: false }).insert("gap", [gap(7, NOW)], "migrated-insert");
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("gaps_old_cold") });
  expect(await rows(`SELECT symbol, recovered_records FROM ${hot}.gaps FINAL ORDER BY symbol SETTINGS output_format_json_quote_64bit_integers = 0`)).toEqual([
    { symbol: "BTC", recovered_records: 7 },
    { symbol: "BTC-USDT", recovered_records: 0 },
  ]);
});

test("a gap written again with its recovery is stored once under FINAL, with the recovered count and time", async () => {
  const hot = uniqueDatabase("gaps_recovered_hot");
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("gaps_recovered_cold") });
  const sink = new ClickHouseSink(client, { database: hot, close_client: false });
  const recoveredAt = NOW - 200;
  await sink.insert("gap", [gap(0, 0)], "gap-first");
  await sink.insert("gap", [gap(300, recoveredAt)], "gap-recovered");
  const select =
    `SELECT symbol, data_type_affected, recovered_records, toUnixTimestamp64Milli(recovered_at) AS recovered_at FROM ${hot}.gaps FINAL ` +
    `SETTINGS output_format_json_quote_64bit_integers = 0`;
  const expected = [{ symbol: "BTC", data_type_affected: "volatility_index", recovered_records: 300, recovered_at: recoveredAt }];
  expect(await rows(select)).toEqual(expected);
  // Both rows in one insert, in emission order: the later one is kept too.
  const oneBatch = uniqueDatabase("gaps_recovered_batch");
  await ensureSchema(client, { hot_database: oneBatch, cold_database: uniqueDatabase("gaps_recovered_batch_cold") });
  await new ClickHouseSink(client, { database: oneBatch, close_client: false }).insert("gap", [gap(0, 0), gap(300, recoveredAt)], "gap-both");
  expect(await rows(select.replace(hot, oneBatch))).toEqual(expected);
  await client.command({ query: `OPTIMIZE TABLE ${hot}.gaps FINAL` });
  expect(await rows(`SELECT count() AS n FROM ${hot}.gaps SETTINGS output_format_json_quote_64bit_integers = 0`)).toEqual([{ n: 1 }]);
});
