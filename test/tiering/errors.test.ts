import { expect, test } from "bun:test";
import { TieringSetupError, TieringUsageError } from "../../src/tiering/errors.ts";
import { parseTierFilter } from "../../src/tiering/filter.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { count, dump, jobFor } from "./helpers.ts";
import { DAY_MS, freshDatabases, insertRows, seedBase, threeDays } from "./seed.ts";

const LAG_MS = 600_000;

test("a schema difference stops that table with a message naming it and the column, hot untouched", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base).filter((r) => r.type === "trade" || r.type === "gap");
  await insertRows(fx.client, fx.hot_database, rows);
  await fx.client.command({ query: `ALTER TABLE \`${fx.cold_database}\`.trades MODIFY COLUMN price Decimal(18, 8)` });
  await fx.client.command({ query: `ALTER TABLE \`${fx.cold_database}\`.gaps ADD COLUMN note String` });
  const hotTrades = await dump(fx.client, fx.hot_database, "trades", 0, end + DAY_MS);

  const job = jobFor(fx, { drop_verified_partitions: true });
  const report = await job.runOnce({ now_ms: end + LAG_MS });
  const trades = report.tables.find((t) => t.table === "trades");
  expect(trades?.error).toBe(
    `table trades: hot ${fx.hot_database}.trades and cold ${fx.cold_database}.trades differ: column price is Decimal(38, 18) in hot but Decimal(18, 8) in cold`,
  );
  expect(report.tables.find((t) => t.table === "gaps")?.error).toContain("column note (String) exists only in cold");
  expect(job.status().trades?.last_error).toContain("column price");
  expect(await dump(fx.client, fx.hot_database, "trades", 0, end + DAY_MS)).toBe(hotTrades);
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(0);
  // The other tables are still tiered.
  expect(report.tables.find((t) => t.table === "orderbooks")?.error).toBeNull();
});

test("a missing cold database is refused before anything is copied or dropped", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  await insertRows(fx.client, fx.hot_database, threeDays(base).filter((r) => r.type === "trade"));
  const missing = uniqueDatabase("tier_missing");
  const job = jobFor({ ...fx, cold_database: missing }, { drop_verified_partitions: true });
  const run = job.runOnce({ now_ms: base + 3 * DAY_MS + LAG_MS });
  await expect(run).rejects.toThrow(new TieringSetupError(`cold database ${missing} does not exist; nothing was copied or deleted`));
  expect(await count(testClickHouse(), `SELECT count() FROM system.databases WHERE name = '${missing}'`)).toBe(0);
});

test("unknown tables and filter values are usage errors naming them", async () => {
  const fx = await freshDatabases();
  await expect(jobFor(fx).runOnce({ tables: ["trade"] })).rejects.toThrow(TieringUsageError);
  await expect(jobFor(fx).runOnce({ tables: ["trade"] })).rejects.toThrow("unknown table 'trade'");
  expect(() => parseTierFilter({ exchange: "bitmex" })).toThrow("unknown exchange 'bitmex': expected one of binance, okx, deribit");
  expect(() => parseTierFilter({ market_type: "futures" })).toThrow("unknown market type 'futures'");
  expect(() => parseTierFilter({ symbol_prefix: "BTC'; DROP" })).toThrow("invalid symbol prefix");
  expect(parseTierFilter({ exchange: "okx", symbol_prefix: "BTC-" })).toEqual({ exchange: "okx", symbol_prefix: "BTC-" });
});
