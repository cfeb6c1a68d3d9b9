import { expect, test } from "bun:test";
import { createLogger } from "../../src/log/logger.ts";
import { RECORD_TYPES } from "../../src/records/types.ts";
import { createChdbClient } from "../../src/storage/client.ts";
import { TABLES } from "../../src/storage/types.ts";
import { TieringJob } from "../../src/tiering/tiering-job.ts";
import { testChdbPath } from "../support/chdb.ts";
import { count, dump, tieringConfig } from "./helpers.ts";
import { DAY_MS, freshDatabases, insertRows, seedBase, threeDays } from "./seed.ts";

const LAG_MS = 600_000;

test("stream mode moves rows through the engine between two clients exactly, copying only what cold lacks", async () => {
  const fx = await freshDatabases();
  // A second client of its own (same process-wide path, as the chDB rule requires) plays the cold server.
  const cold = createChdbClient(testChdbPath());
  try {
    const base = seedBase();
    const end = base + 3 * DAY_MS;
    const rows = threeDays(base);
    await insertRows(fx.client, fx.hot_database, rows);
    // An earlier, interrupted copy left some day-0 trades in cold already.
    const already = rows.filter((r) => r.type === "trade" && r.ts_ms < base + DAY_MS);
    await fx.client.command({
      query: `INSERT INTO \`${fx.cold_database}\`.trades SELECT * FROM \`${fx.hot_database}\`.trades
              WHERE timestamp < fromUnixTimestamp64Milli(toInt64(${base + DAY_MS}), 'UTC')`,
    });

    const job = new TieringJob(fx.client, cold, tieringConfig({ mode: "stream" }), fx, createLogger("silent"));
    const report = await job.runOnce({ now_ms: end + LAG_MS });
    expect(report.tables.every((t) => t.error === null && t.watermark_after_ms === end)).toBe(true);
    expect(report.rows_copied).toBe(rows.length - already.length);
    for (const type of RECORD_TYPES) {
      const table = TABLES[type];
      expect(await dump(cold, fx.cold_database, table, base, end)).toBe(await dump(fx.client, fx.hot_database, table, base, end));
      expect(await count(cold, `SELECT count() FROM \`${fx.cold_database}\`.\`${table}\``)).toBe(rows.filter((r) => r.type === type).length);
    }
    const again = await job.runOnce({ now_ms: end + LAG_MS });
    expect(again.rows_copied).toBe(0);
  } finally {
    await cold.close();
  }
});
