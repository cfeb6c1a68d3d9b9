import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTier } from "../../src/cli/tier.ts";
import type { TieringClients } from "../../src/tiering/clients.ts";
import { count } from "./helpers.ts";
import { DAY_MS, freshDatabases, insertRows, seedBase, threeDays, type TierFixture } from "./seed.ts";

const REPO = join(import.meta.dir, "../..");
const BUN = join(REPO, "node_modules/.bin/bun");

function configFile(fx: TierFixture): string {
  const file = join(mkdtempSync(join(tmpdir(), "spectra-tier-cli-")), "tier.yaml");
  writeFileSync(
    file,
    `log:\n  level: silent\nclickhouse:\n  hot_database: ${fx.hot_database}\n  cold_database: ${fx.cold_database}\n` +
      `tiering:\n  window_s: 3600\n  lag_s: 600\n  recheck_s: 86400\n  mode: same\n`,
  );
  return file;
}

async function cli(fx: TierFixture, argv: string[], now_ms?: number): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const clients: TieringClients = { hot: fx.client, cold: fx.client, databases: fx, close: async () => undefined };
  const code = await runTier(
    argv,
    { stdout: (t) => (out += t), stderr: (t) => (err += t) },
    () => clients,
    now_ms,
  );
  return { code, out, err };
}

test("tier --once prints each window, a dry run changes nothing, and a second pass says nothing was copied", async () => {
  const fx = await freshDatabases();
  const base = seedBase();
  const end = base + 3 * DAY_MS;
  const rows = threeDays(base).filter((r) => r.type === "trade");
  await insertRows(fx.client, fx.hot_database, rows);
  const config = configFile(fx);
  const now = end + 600_000;

  const dry = await cli(fx, ["--once", "--dry-run", "--table", "trades", "--config", config], now);
  expect(dry.code).toBe(0);
  expect(dry.out).toStartWith("DRY RUN: nothing is copied, recorded or dropped.\n");
  expect(dry.out).toContain("72 windows would be copied");
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(0);

  const first = await cli(fx, ["--once", "--table", "trades", "--config", config], now);
  expect(first.code).toBe(0);
  const lines = first.out.split("\n");
  expect(lines[1]).toMatch(/^table\s+window start \(UTC\)\s+window end \(UTC\)\s+rows hot\s+rows cold\s+checksums\s+action$/);
  const day0 = new Date(base).toISOString().slice(0, 10);
  const firstWindow = rows.filter((r) => r.ts_ms < base + 3_600_000).length;
  expect(lines[2]).toMatch(new RegExp(`^trades\\s+${day0} 00:00\\s+${day0} 01:00\\s+${firstWindow}\\s+${firstWindow}\\s+match\\s+copied ${firstWindow}$`));
  expect(first.out).toContain(`${rows.length} rows copied in 72 windows`);

  const second = await cli(fx, ["--once", "--table", "trades", "--config", config], now);
  expect(second.code).toBe(0);
  expect(second.out).toContain("unchanged (24 windows)");
  expect(second.out).toEndWith("nothing copied: every closed window was already verified in cold\n");
  expect(await count(fx.client, `SELECT count() FROM \`${fx.cold_database}\`.trades`)).toBe(rows.length);
});

test("tier refuses bad input with exit code 2 and a message naming it", async () => {
  const fx = await freshDatabases();
  const config = configFile(fx);
  const table = await cli(fx, ["--once", "--table", "trade", "--config", config]);
  expect(table.code).toBe(2);
  expect(table.err).toStartWith("tier: unknown table 'trade': expected one of trades, orderbooks");
  const exchange = await cli(fx, ["--once", "--exchange", "bitmex", "--config", config]);
  expect([exchange.code, exchange.err.split("\n")[0]]).toEqual([2, "tier: unknown exchange 'bitmex': expected one of binance, okx, deribit"]);
  const window = await cli(fx, ["--once", "--window", "0", "--config", config]);
  expect([window.code, window.err.split("\n")[0]]).toEqual([2, 'tier: --window must be an integer number of seconds >= 1, got "0"']);
  const flag = await cli(fx, ["--once", "--bogus"]);
  expect(flag.code).toBe(2);
  expect(flag.err).toContain("--bogus");
});

test("the tier command exits 2 on usage errors and 1 when the data directory holds no ClickHouse", () => {
  const usage = Bun.spawnSync([BUN, "src/cli/tier.ts", "--once", "--market-type", "futures"], { cwd: REPO });
  expect(usage.exitCode).toBe(2);
  expect(usage.stderr.toString()).toStartWith("tier: unknown market type 'futures': expected one of spot, perpetual, options\n");
  const dir = mkdtempSync(join(tmpdir(), "spectra-tier-empty-"));
  const missing = Bun.spawnSync([BUN, "src/cli/tier.ts", "--once", "--data-dir", dir], { cwd: REPO });
  expect(missing.exitCode).toBe(1);
  expect(missing.stderr.toString()).toBe(`tier: no embedded ClickHouse data at ${join(dir, "clickhouse")}\n`);
});
