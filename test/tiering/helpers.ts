import type { ClickHouseClient } from "@clickhouse/client";
import { configWith } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { TieringJob } from "../../src/tiering/tiering-job.ts";
import type { TieringConfig } from "../../src/tiering/types.ts";
import type { TierFixture } from "./seed.ts";

export function tieringConfig(overrides: Partial<TieringConfig> = {}): TieringConfig {
  return configWith({
    tiering: { window_s: 3600, lag_s: 600, recheck_s: 86_400, mode: "same", drop_verified_partitions: false, ...overrides },
  }).tiering;
}

export function jobFor(fx: TierFixture, overrides: Partial<TieringConfig> = {}): TieringJob {
  return new TieringJob(fx.client, fx.client, tieringConfig(overrides), fx, createLogger("silent"));
}

/** Every row of a table in `[from_ms, to_ms)`, all columns, sorted: the exact stored contents. */
export async function dump(client: ClickHouseClient, database: string, table: string, from_ms: number, to_ms: number): Promise<string> {
  const result = await client.query({
    query: `SELECT * FROM \`${database}\`.\`${table}\`
            WHERE timestamp >= fromUnixTimestamp64Milli(toInt64(${from_ms}), 'UTC') AND timestamp < fromUnixTimestamp64Milli(toInt64(${to_ms}), 'UTC')
            ORDER BY ALL`,
    format: "TabSeparated",
  });
  return result.text();
}

export async function count(client: ClickHouseClient, sql: string): Promise<number> {
  const result = await client.query({ query: sql, format: "JSONCompactEachRow" });
  const rows: unknown = await result.json();
  if (!Array.isArray(rows) || !Array.isArray(rows[0])) throw new Error(`no count from ${sql}`);
  return Number(rows[0][0]);
}
