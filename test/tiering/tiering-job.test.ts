import { expect, test } from "bun:test";
import { RECORD_TYPES } from "../../src/records/types.ts";
import { TABLES } from "../../src/storage/types.ts";
import { WATERMARKS_TABLE, WINDOWS_TABLE } from "../../src/tiering/state-store.ts";
import { count, dump, jobFor } from "./helpers.ts";
import { DAY_MS, decimalFor, freshDatabases, HOUR_MS, insertRows, perWindow, row, seedBase, threeDays } from "./seed.ts";

const LAG_MS = 600_000;

test("copies every closed window of every table exactly, boundary rows into the later window", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base);
  // Still inside the lag: must stay hot-only.
  const open = RECORD_TYPES.map((t) => row(t, end + 60_000));
  await insertRows(fx.client, fx.hot_database, [...rows, ...open]);

  const job = jobFor(fx);
  const report = await job.runOnce({ now_ms: end + 2 * 60_000 + LAG_MS });

  expect(report.closed_until_ms).toBe(end);
  for (const type of RECORD_TYPES) {
    const table = TABLES[type];
    const t = report.tables.find((r) => r.table === table);
    expect(t?.error).toBeNull();
    expect(t?.watermark_after_ms).toBe(end);
    const expected = perWindow(rows, type, HOUR_MS, end);
    expect(new Map(t?.windows.map((w) => [w.window_start_ms, w.rows_hot]))).toEqual(expected);
    expect(t?.windows.every((w) => w.action === "copied" && w.match && w.rows_cold === w.rows_hot)).toBe(true);
    // Same rows, every column, created_at included (copied verbatim).
    const hot = await dump(fx.client, fx.hot_database, table, base, end);
    expect(hot.split("\n").length - 1).toBe(rows.filter((r) => r.type === type).length);
    expect(await dump(fx.client, fx.cold_database, table, base, end)).toBe(hot);
    expect(await dump(fx.client, fx.cold_database, table, end, end + DAY_MS)).toBe("");
  }
  // The boundary row at base+1h counts in [base+1h, base+2h), the one 1 ms earlier in [base, base+1h).
  const trades = report.tables.find((r) => r.table === "trades");
  const first = trades?.windows.find((w) => w.window_start_ms === base);
  const second = trades?.windows.find((w) => w.window_start_ms === base + HOUR_MS);
  expect(first?.rows_hot).toBe(rows.filter((r) => r.type === "trade" && r.ts_ms < base + HOUR_MS).length);
  expect(second?.rows_hot).toBe(rows.filter((r) => r.type === "trade" && r.ts_ms >= base + HOUR_MS && r.ts_ms < base + 2 * HOUR_MS).length);
  expect(report.rows_copied).toBe(rows.length);

  const sample = rows.find((r) => r.type === "open_interest");
  const stored = await fx.client.query({
    query: `SELECT toString(open_interest), toString(open_interest_value) FROM \`${fx.cold_database}\`.open_interests
            WHERE timestamp = fromUnixTimestamp64Milli(toInt64(${sample?.ts_ms}), 'UTC')`,
    format: "JSONCompactEachRow",
  });
  expect(await stored.json()).toEqual([[decimalFor(sample?.n ?? 0, "open_interest"), decimalFor(sample?.n ?? 0, "open_interest_value")]]);

  const status = job.status();
  expect(status.trades?.watermark_ms).toBe(end);
  expect(status.trades?.windows_verified).toBe(trades?.windows.length ?? -1);
  expect(status.trades?.windows_failed).toBe(0);
  expect(status.trades?.lag_ms).toBe(60_000);
  expect(status.trades?.last_error).toBeNull();
});

test("a second pass over verified windows copies nothing", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  await insertRows(fx.client, fx.hot_database, threeDays(base));
  const job = jobFor(fx);
  await job.runOnce({ now_ms: end + LAG_MS });
  const coldBefore = await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`);

  const again = await job.runOnce({ now_ms: end + LAG_MS });
  expect(again.rows_copied).toBe(0);
  expect(again.windows_copied).toBe(0);
  const actions = new Set(again.tables.flatMap((t) => t.windows.map((w) => w.action)));
  expect([...actions]).toEqual(["unchanged"]);
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(coldBefore);
});

test("a dry run changes neither database", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base);
  await insertRows(fx.client, fx.hot_database, rows);
  const hotBefore = await dump(fx.client, fx.hot_database, "trades", 0, end + DAY_MS);

  const report = await jobFor(fx, { drop_verified_partitions: true }).runOnce({ dry_run: true, now_ms: end + LAG_MS });
  expect(report.dry_run).toBe(true);
  expect(report.rows_copied).toBe(0);
  const trades = report.tables.find((t) => t.table === "trades");
  expect(trades?.windows.every((w) => w.action === "would-copy" && w.rows_cold === 0)).toBe(true);
  expect(trades?.watermark_after_ms).toBeNull();
  expect(await dump(fx.client, fx.hot_database, "trades", 0, end + DAY_MS)).toBe(hotBefore);
  for (const table of Object.values(TABLES)) {
    expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.\`${table}\``)).toBe(0);
  }
  expect(
    await count(
      fx.client,
      `SELECT count() FROM system.tables WHERE database = '${fx.cold_database}' AND name IN ('${WINDOWS_TABLE}', '${WATERMARKS_TABLE}')`,
    ),
  ).toBe(0);
});

test("the scheduled job runs passes on its interval and stop() waits for the pass in hand", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const rows = threeDays(base).filter((r) => r.type === "trade");
  await insertRows(fx.client, fx.hot_database, rows);
  const job = jobFor(fx, { interval_s: 1, lag_s: 0 });
  job.start();
  const deadline = Date.now() + 20_000;
  while (job.status().trades === undefined && Date.now() < deadline) await Bun.sleep(20);
  await job.stop();
  const closed = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const wm = job.status().trades?.watermark_ms ?? 0;
  expect(wm === closed || wm === closed - HOUR_MS).toBe(true);
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(rows.filter((r) => r.ts_ms < wm).length);
});
