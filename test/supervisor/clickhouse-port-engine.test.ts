import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { waitFor } from "../support/wait.ts";

/**
 * A running engine serves its embedded store on `http.clickhouse_port`: `@clickhouse/client`,
 * given only that URL, reads the trades the engine stored, and cannot write.
 */
const ROOT = join(import.meta.dir, "../..");
const ENTRY = join(import.meta.dir, "synthetic-engine.ts");
const RECORDS = 2000;
const dir = mkdtempSync(join(tmpdir(), "spectra-ch-port-"));
const children: Bun.Subprocess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A port that was free a moment ago (config's 0 means "off" for this listener). */
function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port ?? 0;
  probe.stop(true);
  return port;
}

function writeConfig(clickhouse_port: number): string {
  const off = { enabled: false };
  const file = join(dir, "config.yaml");
  writeFileSync(
    file,
    JSON.stringify({
      engine: { data_dir: join(dir, "data"), shutdown_deadline_ms: 20000 },
      log: { level: "warn" },
      http: { port: 0, clickhouse_port },
      tiering: { enabled: false },
      ring: { capacity_bytes: 1 << 20 },
      nats: { embedded: { port: 0 } },
      venues: { binance_spot: { enabled: true, symbols: ["A"], workers: 1, data_types: ["trade"] }, binance_derivatives: off, okx_spot: off, okx_derivatives: off, deribit_derivatives: off },
      batch_workers: { trade: 1, orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0, gap: 1 },
      batching: { trade: { linger_ms: 200 }, gap: { linger_ms: 200 } },
    }),
  );
  return file;
}

test("an engine's trades read through http.clickhouse_port with @clickhouse/client; writes are refused", async () => {
  const port = freePort();
  const env: Record<string, string | undefined> = { ...process.env, SPECTRA_HTTP_PORT: undefined, SPECTRA_DATA_DIR: undefined, NATS_URL: undefined, CLICKHOUSE_URL: undefined };
  const proc = Bun.spawn([process.execPath, ENTRY, writeConfig(port), String(RECORDS), "5000", "0"], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  children.push(proc);
  let out = "";
  const reader = proc.stdout.getReader();
  while (!out.includes('{"child":"started"')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`engine exited before it started: ${out}${await new Response(proc.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const line = out.split("\n").find((l) => l.startsWith('{"child":"started"')) ?? "";
  expect(JSON.parse(line).clickhouse_http).toBe(`http://127.0.0.1:${port}`);

  const client = createClient({ url: `http://127.0.0.1:${port}`, database: "marketprism_hot", log: { level: ClickHouseLogLevel.OFF } });
  try {
    expect(await client.ping()).toEqual({ success: true });
    await waitFor("every synthetic trade readable through the ClickHouse port", async () => {
      const rs = await client.query({ query: "SELECT count() AS n FROM trades", format: "JSONEachRow" });
      const [row] = await rs.json<{ n: number | string }>();
      return Number(row?.n) === RECORDS;
    }, 60000, 200);
    // The synthetic source spreads its trades evenly over four symbols.
    const rs = await client.query({ query: "SELECT symbol, count() AS n FROM trades GROUP BY symbol ORDER BY symbol", format: "JSONEachRow" });
    expect(await rs.json()).toEqual(["SYN-BTC", "SYN-ETH", "SYN-EUR", "SYN-USDT"].map((symbol) => ({ symbol, n: RECORDS / 4 })));
    await expect(client.command({ query: "TRUNCATE TABLE trades" })).rejects.toMatchObject({ code: "164" });
    const after = await client.query({ query: "SELECT count() AS n FROM trades", format: "JSONEachRow" });
    expect(await after.json()).toEqual([{ n: RECORDS }]);
  } finally {
    await client.close();
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 120_000);
