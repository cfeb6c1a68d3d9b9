import { afterAll, beforeAll, expect, test } from "bun:test";
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from "@clickhouse/client";
import type { Server } from "bun";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log/logger.ts";
import { createClickHouseHttpHandler } from "../../src/http/clickhouse-http.ts";
import { startClickHouseServer } from "../../src/http/clickhouse-server.ts";
import { createChdbClient } from "../../src/storage/client.ts";
import { testChdbPath, testClickHouse, uniqueDatabase } from "../support/chdb.ts";

/**
 * ClickHouse's HTTP interface on embedded ClickHouse, driven by `@clickhouse/client` given only
 * a `url` (no path option), as a user's program or tool would connect to a ClickHouse server.
 */
const db = uniqueDatabase("clickhouse_http");
const TOKEN = "s3cret-token";
const guard_client = createChdbClient(testChdbPath());
const run_client = createChdbClient(testChdbPath());
let server: Server<undefined>;
let tokenServer: Server<undefined>;
let url: string;
const clients: ClickHouseClient[] = [];

function client(options: Parameters<typeof createClient>[0] = {}): ClickHouseClient {
  const c = createClient({ url, database: db, log: { level: ClickHouseLogLevel.OFF }, ...options });
  clients.push(c);
  return c;
}

async function rowCount(): Promise<number> {
  const rs = await testClickHouse().query({ query: `SELECT count() AS n FROM ${db}.trades`, format: "JSONEachRow" });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n);
}

beforeAll(async () => {
  const shared = testClickHouse();
  await shared.command({ query: `CREATE DATABASE ${db}` });
  await shared.command({ query: `CREATE TABLE ${db}.trades (id UInt64, symbol String, price Decimal(38, 18)) ENGINE = MergeTree ORDER BY id` });
  await shared.command({ query: `INSERT INTO ${db}.trades VALUES (1, 'BTC-USDT', '42000.5'), (2, 'ETH-USDT', '3000.25'), (18446744073709551615, 'SOL-USDT', '150')` });
  const common = { guard_client, run_client, loopback_only: true, loopback_aliases: new Set(["devbox"]), max_body_bytes: 1 << 20, timeout_ms: 30_000, version: "26.7.2.1", timezone: "UTC", display_name: "test" };
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: createClickHouseHttpHandler({ ...common, auth_token: "" }) });
  tokenServer = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: createClickHouseHttpHandler({ ...common, auth_token: TOKEN }) });
  url = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  for (const c of clients) await c.close();
  server.stop(true);
  tokenServer.stop(true);
});

test("ping() succeeds, and GET / and GET /ping answer Ok.", async () => {
  expect(await client().ping()).toEqual({ success: true });
  for (const path of ["/", "/ping"]) {
    const res = await fetch(`${url}${path}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("Ok.\n");
  }
});

test("JSONEachRow rows come back with ClickHouse's response headers", async () => {
  const rs = await client().query({ query: "SELECT id, symbol, toString(price) AS price FROM trades ORDER BY id", format: "JSONEachRow", query_id: "q-each-row" });
  expect(await rs.json()).toEqual([
    { id: 1, symbol: "BTC-USDT", price: "42000.5" },
    { id: 2, symbol: "ETH-USDT", price: "3000.25" },
    { id: 18446744073709551615, symbol: "SOL-USDT", price: "150" },
  ]);
  expect(rs.query_id).toBe("q-each-row");
  expect(rs.response_headers["x-clickhouse-query-id"]).toBe("q-each-row");
  expect(rs.response_headers["x-clickhouse-format"]).toBe("JSONEachRow");
  expect(rs.response_headers["x-clickhouse-timezone"]).toBe("UTC");
  expect(rs.response_headers["x-clickhouse-server-display-name"]).toBe("test");
  expect(JSON.parse(String(rs.response_headers["x-clickhouse-summary"]))).toHaveProperty("read_rows");
});

test("JSON output has meta, data and the row count", async () => {
  const rs = await client().query({ query: "SELECT symbol FROM trades WHERE id < 3 ORDER BY id", format: "JSON" });
  const out = await rs.json<{ symbol: string }>();
  expect(out.meta).toEqual([{ name: "symbol", type: "String" }]);
  expect(out.data).toEqual([{ symbol: "BTC-USDT" }, { symbol: "ETH-USDT" }]);
  expect(out.rows).toBe(2);
});

test("TabSeparated text, and the default format without a FORMAT clause", async () => {
  const rs = await client().query({ query: "SELECT id, symbol FROM trades WHERE id < 3 ORDER BY id", format: "TabSeparated" });
  expect(await rs.text()).toBe("1\tBTC-USDT\n2\tETH-USDT\n");
  const raw = await fetch(`${url}/?database=${db}&query=${encodeURIComponent("SELECT count() FROM trades")}`);
  expect(raw.headers.get("x-clickhouse-format")).toBe("TabSeparated");
  expect(await raw.text()).toBe("3\n");
  const byHeader = await fetch(`${url}/?query=${encodeURIComponent("SELECT count() FROM trades")}`, { headers: { "x-clickhouse-database": db } });
  expect(await byHeader.text()).toBe("3\n");
});

test("Native and RowBinaryWithNamesAndTypes, as clickhouse-go (Grafana) and JDBC (DBeaver) ask for them", async () => {
  // clickhouse-go over HTTP: default_format=Native, the database and settings in the URL, then `SELECT timeZone()`.
  const native = await fetch(`${url}/?database=${db}&default_format=Native&max_execution_time=30`, { method: "POST", body: "SELECT timeZone()" });
  expect(native.headers.get("x-clickhouse-format")).toBe("Native");
  // One column, one row: name `timeZone()`, type String, the value; each length-prefixed.
  expect(Buffer.from(await native.arrayBuffer()).toString("latin1")).toMatch(/^\x01\x01\x0atimeZone\(\)\x06String.+$/s);
  const rowBinary = await fetch(`${url}/?default_format=RowBinaryWithNamesAndTypes&session_id=s1&wait_end_of_query=1`, { method: "POST", body: "SELECT toUInt8(7) AS n" });
  expect([...new Uint8Array(await rowBinary.arrayBuffer())]).toEqual([1, 1, ..."n".split("").map((c) => c.charCodeAt(0)), 5, ..."UInt8".split("").map((c) => c.charCodeAt(0)), 7]);
});

test("a settings parameter applies to its query only", async () => {
  const query = "SELECT max(id) AS top FROM trades";
  const quoted = await client().query({ query, format: "JSONEachRow", clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
  expect(await quoted.text()).toBe('{"top":"18446744073709551615"}\n');
  const unquoted = await client().query({ query, format: "JSONEachRow" });
  expect(await unquoted.text()).toBe('{"top":18446744073709551615}\n');
});

test("query parameters and a compressed response", async () => {
  const rs = await client({ compression: { response: true, request: true } }).query({
    query: "SELECT symbol FROM trades WHERE id = {id:UInt64}",
    query_params: { id: 2 },
    format: "JSONEachRow",
  });
  expect(await rs.json()).toEqual([{ symbol: "ETH-USDT" }]);
  const raw = await fetch(`${url}/?enable_http_compression=1`, { method: "POST", body: "SELECT 7", headers: { "accept-encoding": "gzip" } });
  expect(raw.headers.get("content-encoding")).toBe("gzip");
});

test("writes are refused with ClickHouse's READONLY error and store nothing", async () => {
  const c = client();
  await expect(c.insert({ table: "trades", values: [{ id: 9, symbol: "X", price: "1" }], format: "JSONEachRow" })).rejects.toMatchObject({ code: "164", type: "READONLY" });
  await expect(c.command({ query: "DROP TABLE trades" })).rejects.toMatchObject({ code: "164" });
  await expect(c.query({ query: "SELECT 1", clickhouse_settings: { allow_ddl: 1 } })).rejects.toMatchObject({ code: "164", type: "READONLY" });
  // Settings that would write or read a file are refused like any other outside the allowlist.
  const outside = join(tmpdir(), `spectra-schema-${process.pid}.capnp`);
  await expect(c.query({ query: "SELECT 1", format: "JSONEachRow", clickhouse_settings: { output_format_schema: outside } })).rejects.toMatchObject({ code: "164" });
  expect(existsSync(outside)).toBe(false);
  await expect(c.query({ query: "SELECT 1", format: "JSONEachRow", clickhouse_settings: { format_schema: "/etc/passwd:x" } })).rejects.toMatchObject({ code: "164" });
  expect(await rowCount()).toBe(3);
});

test("errors come in ClickHouse's text with the exception code header and status", async () => {
  const res = await fetch(`${url}/`, { method: "POST", body: "SELEC 1" });
  expect(res.status).toBe(400);
  expect(res.headers.get("x-clickhouse-exception-code")).toBe("62");
  expect(await res.text()).toMatch(/^Code: 62\. DB::Exception: Syntax error.* \(SYNTAX_ERROR\) \(version 26\.7\.2\.1\)\n$/s);
  const missing = client().query({ query: "SELECT * FROM no_such_table", format: "JSONEachRow" });
  await expect(missing).rejects.toMatchObject({ code: "60", type: "UNKNOWN_TABLE" });
  const write = await fetch(`${url}/?query=${encodeURIComponent(`INSERT INTO ${db}.trades VALUES (5, 'A', 1)`)}`, { method: "POST" });
  expect(write.status).toBe(403);
  expect(write.headers.get("x-clickhouse-exception-code")).toBe("164");
});

test("with http.auth_token set, the token is the password; cross-site requests are refused", async () => {
  const tokenUrl = `http://127.0.0.1:${tokenServer.port}`;
  const withToken = client({ url: tokenUrl, password: TOKEN });
  expect(await (await withToken.query({ query: "SELECT count() AS n FROM trades", format: "JSONEachRow" })).json()).toEqual([{ n: 3 }]);
  const without = client({ url: tokenUrl });
  await expect(without.query({ query: "SELECT 1", format: "JSONEachRow" })).rejects.toMatchObject({ code: "516" });
  const crossSite = await fetch(`${url}/?query=SELECT%201`, { headers: { origin: "http://evil.example" } });
  expect(crossSite.status).toBe(403);
  expect(crossSite.headers.get("x-clickhouse-exception-code")).toBe("497");
});

test("on loopback it answers Host names that are loopback or /etc/hosts aliases of it, and refuses others (DNS rebinding)", async () => {
  const port = server.port ?? 0;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `devbox:${port}`]) {
    const res = await fetch(`${url}/ping`, { headers: { host } });
    expect([host, res.status, await res.text()]).toEqual([host, 200, "Ok.\n"]);
  }
  const rebound = await fetch(`${url}/?query=SELECT%201`, { headers: { host: `evil.example:${port}` } });
  expect(rebound.status).toBe(403);
  expect(rebound.headers.get("x-clickhouse-exception-code")).toBe("497");
  expect(await rebound.text()).toContain(`Host "evil.example:${port}" is not a loopback name`);
});

test("the listener reports the engine's version in errors; a port already taken leaves it off", async () => {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port ?? 0;
  probe.stop(true);
  const input = { host: "127.0.0.1", port, auth_token: "", loopback_aliases: new Set<string>(), max_body_bytes: 1 << 20, timeout_ms: 30_000, guard_client, run_client, log: createLogger("silent") };
  const started = await startClickHouseServer(input);
  if (started === null) throw new Error(`the ClickHouse HTTP interface did not bind port ${port}`);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/?query=SELEC`);
    expect(await res.text()).toMatch(/ \(version 26\.7\.2\.1\)\n$/);
    expect(await startClickHouseServer(input)).toBeNull();
  } finally {
    started.stop(true);
  }
  expect(await startClickHouseServer({ ...input, port: 0 })).toBeNull();
});
