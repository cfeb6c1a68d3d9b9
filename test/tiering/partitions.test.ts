import { expect, test } from "bun:test";
import { count, dump, jobFor } from "./helpers.ts";
import { DAY_MS, freshDatabases, HOUR_MS, insertRows, row, seedBase, threeDays } from "./seed.ts";

const LAG_MS = 600_000;

function partitionId(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, "");
}

async function hotPartitions(fx: Awaited<ReturnType<typeof freshDatabases>>, table: string): Promise<string[]> {
  const result = await fx.client.query({
    query: `SELECT DISTINCT partition_id FROM system.parts WHERE database = '${fx.hot_database}' AND table = '${table}' AND active ORDER BY partition_id`,
    format: "JSONCompactEachRow",
  });
  const rows: unknown = await result.json();
  return Array.isArray(rows) ? rows.map((r) => String(Array.isArray(r) ? r[0] : r)) : [];
}

test("hot partitions are dropped whole, only once every window in them is verified and beyond re-check", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base).filter((r) => r.type === "trade" || r.type === "liquidation");
  await insertRows(fx.client, fx.hot_database, rows);
  // A cold row hot never had makes one window of day 1 fail verification for liquidations.
  await insertRows(fx.client, fx.cold_database, [row("liquidation", base + DAY_MS + 3 * HOUR_MS + 5)]);
  const days = [0, 1, 2].map((d) => partitionId(base + d * DAY_MS));
  const hotDay0 = await dump(fx.client, fx.hot_database, "trades", base, base + DAY_MS);

  const dry = await jobFor(fx, { drop_verified_partitions: true }).runOnce({ now_ms: end + LAG_MS, dry_run: true });
  expect(dry.tables.every((t) => t.dropped_partitions.length === 0)).toBe(true);

  const job = jobFor(fx, { drop_verified_partitions: true });
  const report = await job.runOnce({ now_ms: end + LAG_MS });
  const trades = report.tables.find((t) => t.table === "trades");
  const liquidations = report.tables.find((t) => t.table === "liquidations");
  // recheck_s = 1 day: day 2 is still re-checked; day 0 and 1 are done.
  expect(trades?.dropped_partitions).toEqual([days[0] ?? "", days[1] ?? ""]);
  expect(await hotPartitions(fx, "trades")).toEqual([days[2] ?? ""]);
  // Liquidations stop at the failed window (day 1, 03:00): watermark - recheck_s falls inside
  // day 0, so no liquidation partition is behind the horizon.
  const failed = liquidations?.windows.filter((w) => w.action === "failed") ?? [];
  expect(failed.map((w) => w.window_start_ms)).toEqual([base + DAY_MS + 3 * HOUR_MS]);
  expect(liquidations?.watermark_after_ms).toBe(base + DAY_MS + 3 * HOUR_MS);
  expect(liquidations?.dropped_partitions).toEqual([]);
  expect(await hotPartitions(fx, "liquidations")).toEqual(days);
  expect(job.status().liquidations?.windows_failed).toBe(1);
  expect(job.status().liquidations?.last_error).toBe(
    `1 window(s) failed verification, first ${new Date(base + DAY_MS + 3 * HOUR_MS).toISOString()}: hot ${failed[0]?.rows_hot} rows, cold ${failed[0]?.rows_cold}`,
  );

  // What left hot is in cold, byte for byte; no mutation ever ran.
  expect(await dump(fx.client, fx.cold_database, "trades", base, base + DAY_MS)).toBe(hotDay0);
  expect(await count(fx.client, `SELECT count() FROM system.mutations WHERE database = '${fx.hot_database}'`)).toBe(0);
});

test("a day with a window that failed its re-check keeps its hot partition", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  await insertRows(fx.client, fx.hot_database, threeDays(base).filter((r) => r.type === "trade"));
  const wide = { recheck_s: 2 * 86_400 };
  await jobFor(fx, wide).runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  // Someone wrote a row into cold by hand; a late hot row in the same window triggers its re-check
  // (re-checks key on hot's fingerprint), which copies the late row and finds cold's extra one.
  await insertRows(fx.client, fx.cold_database, [row("trade", base + DAY_MS + 7 * HOUR_MS + 5)]);
  await insertRows(fx.client, fx.hot_database, [row("trade", base + DAY_MS + 7 * HOUR_MS + 9)]);
  const recheck = await jobFor(fx, wide).runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  const failed = recheck.tables[0]?.windows.filter((w) => w.action === "failed") ?? [];
  expect(failed.map((w) => [w.window_start_ms, w.recheck, w.rows_copied, w.rows_cold - w.rows_hot])).toEqual([
    [base + DAY_MS + 7 * HOUR_MS, true, 1, 1],
  ]);
  expect(recheck.tables[0]?.watermark_after_ms).toBe(end);

  const report = await jobFor(fx, { drop_verified_partitions: true }).runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  expect(report.tables[0]?.dropped_partitions).toEqual([partitionId(base)]);
  expect(await hotPartitions(fx, "trades")).toEqual([partitionId(base + DAY_MS), partitionId(base + 2 * DAY_MS)]);
});

test("days that already left hot are not re-checked into failures when recheck_s grows", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  await insertRows(fx.client, fx.hot_database, threeDays(base).filter((r) => r.type === "trade"));
  const dropped = await jobFor(fx, { drop_verified_partitions: true }).runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  expect(dropped.tables[0]?.dropped_partitions).toEqual([partitionId(base), partitionId(base + DAY_MS)]);

  const wide = await jobFor(fx, { recheck_s: 3 * 86_400 }).runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  const t = wide.tables[0];
  expect(t?.error).toBeNull();
  expect(t?.windows.every((w) => w.action === "unchanged" && w.window_start_ms >= base + 2 * DAY_MS)).toBe(true);
  expect(t?.windows.length).toBe(24);
});
