import { expect, test } from "bun:test";
import { TieringStateStore } from "../../src/tiering/state-store.ts";
import { count, dump, jobFor } from "./helpers.ts";
import { DAY_MS, decimalFor, freshDatabases, HOUR_MS, insertRows, row, seedBase, threeDays } from "./seed.ts";

const LAG_MS = 600_000;

test("a pass interrupted between copy and verify is completed by the next one without duplicates", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base).filter((r) => r.type === "trade");
  await insertRows(fx.client, fx.hot_database, rows);
  const job = jobFor(fx);

  // The second span (day 2) is copied, then the process "dies" before verifying it.
  const interrupted = await job.runOnce({
    now_ms: end + LAG_MS,
    tables: ["trades"],
    hooks: {
      afterCopy: (_table, from) => {
        if (from >= base + DAY_MS) throw new Error("simulated crash after copy");
      },
    },
  });
  const first = interrupted.tables[0];
  expect(first?.error).toBe("simulated crash after copy");
  expect(first?.watermark_after_ms).toBe(base + DAY_MS);
  expect(job.status().trades?.last_error).toBe("simulated crash after copy");
  const coldAfterCrash = await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`);
  expect(coldAfterCrash).toBe(rows.filter((r) => r.ts_ms < base + 2 * DAY_MS).length);
  const state = new TieringStateStore(fx.client, fx.cold_database);
  const recorded = await state.windows("trades", "", base, end);
  expect([...recorded.keys()].every((w) => w < base + DAY_MS)).toBe(true);

  const resumed = await job.runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  const t = resumed.tables[0];
  expect(t?.error).toBeNull();
  expect(t?.watermark_after_ms).toBe(end);
  const day2 = t?.windows.filter((w) => w.window_start_ms >= base + DAY_MS && w.window_start_ms < base + 2 * DAY_MS) ?? [];
  expect(day2.length).toBeGreaterThan(0);
  expect(day2.every((w) => w.action === "verified" && w.rows_copied === 0)).toBe(true);
  // Unmerged, no FINAL: every row exactly once.
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(rows.length);
  expect(await dump(fx.client, fx.cold_database, "trades", base, end)).toBe(await dump(fx.client, fx.hot_database, "trades", base, end));
});

test("a late row in an already-copied window is found by the re-check and copied once", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base).filter((r) => r.type === "trade");
  await insertRows(fx.client, fx.hot_database, rows);
  const job = jobFor(fx);
  await job.runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });

  const lateWindow = end - 5 * HOUR_MS;
  const late = row("trade", lateWindow + 1234, "okx", "ETH-USDT");
  // Beyond recheck_s (1 day) behind the watermark: documented as not re-checked.
  const tooLate = row("trade", base + HOUR_MS + 99, "okx", "ETH-USDT");
  await insertRows(fx.client, fx.hot_database, [late, tooLate]);

  const report = await job.runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  const t = report.tables[0];
  const changed = t?.windows.filter((w) => w.action !== "unchanged") ?? [];
  expect(changed.map((w) => [w.window_start_ms, w.action, w.rows_copied, w.recheck, w.match])).toEqual([
    [lateWindow, "copied", 1, true, true],
  ]);
  expect(t?.watermark_after_ms).toBe(end);
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(rows.length + 1);
  expect(
    await count(
      fx.client,
      `SELECT count() FROM \`${fx.cold_database}\`.trades WHERE trade_id = 'trade_id-${late.n}' AND timestamp = fromUnixTimestamp64Milli(toInt64(${late.ts_ms}), 'UTC')`,
    ),
  ).toBe(1);

  const again = await job.runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  expect(again.rows_copied).toBe(0);
});

test("filtered passes copy only the rows they name and never move the global watermark", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base).filter((r) => r.type === "trade" || r.type === "funding_rate");
  await insertRows(fx.client, fx.hot_database, rows);
  const job = jobFor(fx);
  const state = new TieringStateStore(fx.client, fx.cold_database);

  const filtered = await job.runOnce({ now_ms: end + LAG_MS, filter: { exchange: "okx", symbol_prefix: "ETH" } });
  expect(filtered.filter_key).toBe("exchange=okx,symbol_prefix=ETH");
  const named = (type: string) => rows.filter((r) => r.type === type && r.exchange === "okx" && r.symbol.startsWith("ETH"));
  expect(named("trade").length).toBeGreaterThan(0);
  expect(filtered.rows_copied).toBe(named("trade").length + named("funding_rate").length);
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(named("trade").length);
  expect(
    await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades WHERE exchange != 'okx' OR NOT startsWith(symbol, 'ETH')`),
  ).toBe(0);
  expect((await state.watermarks("")).size).toBe(0);
  expect((await state.watermarks("exchange=okx,symbol_prefix=ETH")).get("trades")).toBe(end);
  expect(job.status()).toEqual({});

  const repeat = await job.runOnce({ now_ms: end + LAG_MS, filter: { exchange: "okx", symbol_prefix: "ETH" } });
  expect(repeat.rows_copied).toBe(0);

  const full = await job.runOnce({ now_ms: end + LAG_MS });
  const trades = rows.filter((r) => r.type === "trade").length;
  const funding = rows.filter((r) => r.type === "funding_rate").length;
  expect(full.rows_copied).toBe(trades + funding - named("trade").length - named("funding_rate").length);
  expect((await state.watermarks("")).get("trades")).toBe(end);
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(trades);
  expect(await dump(fx.client, fx.cold_database, "funding_rates", base, end)).toBe(
    await dump(fx.client, fx.hot_database, "funding_rates", base, end),
  );
});

test("a record re-delivered with new content replaces its cold copy the way hot's merge does", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base).filter((r) => r.type === "lsr_top_position");
  await insertRows(fx.client, fx.hot_database, rows);
  const job = jobFor(fx);
  await job.runOnce({ now_ms: end + LAG_MS, tables: ["lsr_top_positions"] });

  // Same sort key (venue, symbol, timestamp, period), new ratio: ReplacingMergeTree keeps the later one.
  const target = rows.find((r) => r.ts_ms > end - 3 * HOUR_MS);
  const at = `fromUnixTimestamp64Milli(toInt64(${target?.ts_ms}), 'UTC')`;
  await fx.client.command({
    query: `INSERT INTO \`${fx.hot_database}\`.lsr_top_positions
            SELECT * REPLACE (long_short_ratio + 1 AS long_short_ratio, now64(3) AS created_at)
            FROM \`${fx.hot_database}\`.lsr_top_positions WHERE timestamp = ${at}`,
  });
  const report = await job.runOnce({ now_ms: end + LAG_MS, tables: ["lsr_top_positions"] });
  const changed = report.tables[0]?.windows.filter((w) => w.action !== "unchanged") ?? [];
  expect(changed.map((w) => [w.window_start_ms, w.action, w.rows_copied, w.match])).toEqual([
    [Math.floor((target?.ts_ms ?? 0) / HOUR_MS) * HOUR_MS, "copied", 1, true],
  ]);
  const text = async (sql: string): Promise<unknown> => (await fx.client.query({ query: sql, format: "JSONCompactEachRow" })).json();
  const ratio = (db: string) => text(`SELECT toString(long_short_ratio) FROM \`${db}\`.lsr_top_positions FINAL WHERE timestamp = ${at}`);
  const replaced = await text(`SELECT toString(toDecimal128('${decimalFor(target?.n ?? 0, "long_short_ratio")}', 18) + 1)`);
  expect(await ratio(fx.hot_database)).toEqual(replaced);
  expect(await ratio(fx.cold_database)).toEqual(replaced);
});

test("a pass that fails while re-checking does not move the watermark over new windows it never verified", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  await insertRows(fx.client, fx.hot_database, threeDays(base).filter((r) => r.type === "trade"));
  const job = jobFor(fx);
  await job.runOnce({ now_ms: end + LAG_MS, tables: ["trades"] });
  await insertRows(fx.client, fx.hot_database, [row("trade", end - 5 * HOUR_MS + 1), row("trade", end + 1), row("trade", end + HOUR_MS + 1)]);

  const later = end + 2 * HOUR_MS + LAG_MS;
  const failed = await job.runOnce({
    now_ms: later,
    tables: ["trades"],
    hooks: {
      afterCopy: () => {
        throw new Error("cold went away");
      },
    },
  });
  expect(failed.tables[0]?.error).toBe("cold went away");
  expect(failed.tables[0]?.watermark_after_ms).toBe(end);
  const state = new TieringStateStore(fx.client, fx.cold_database);
  expect((await state.watermarks("")).get("trades")).toBe(end);

  const resumed = await job.runOnce({ now_ms: later, tables: ["trades"] });
  const changed = resumed.tables[0]?.windows.filter((w) => w.action !== "unchanged") ?? [];
  expect(changed.map((w) => [w.window_start_ms - end, w.action, w.rows_copied])).toEqual([
    [-5 * HOUR_MS, "verified", 0],
    [0, "verified", 0],
    [HOUR_MS, "verified", 0],
  ]);
  expect(resumed.tables[0]?.watermark_after_ms).toBe(end + 2 * HOUR_MS);
});
