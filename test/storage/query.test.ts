import { beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { handleQuery } from "../../src/http/query.ts";
import { createChdbClient } from "../../src/storage/client.ts";
import { testChdbPath, testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { SAMPLES } from "./sample-records.ts";

const ROOT = join(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const db = uniqueDatabase("query");
/** A client only for the endpoint: readonly = 1 stays on a chDB connection. */
const queryClient = createChdbClient(testChdbPath());
const OPTS = { max_body_bytes: 4096, timeout_ms: 10_000 };

beforeAll(async () => {
  const c = testClickHouse();
  await c.command({ query: `CREATE DATABASE ${db}` });
  await c.command({ query: `CREATE TABLE ${db}.t (id UInt32, name String, price Decimal(38, 18)) ENGINE = MergeTree ORDER BY id` });
  await c.command({ query: `INSERT INTO ${db}.t VALUES (1, 'a\tb', '123456789012345.123456789'), (2, 'c', '0.5')` });
});

const post = (sql: string, params = ""): Request => new Request(`http://localhost/query${params}`, { method: "POST", body: sql });

test("answers TabSeparated by default, like ClickHouse's HTTP interface", async () => {
  const res = await handleQuery(post(`SELECT id, name, price FROM ${db}.t ORDER BY id`), queryClient, OPTS);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/tab-separated-values; charset=UTF-8");
  expect(await res.text()).toBe("1\ta\\tb\t123456789012345.123456789\n2\tc\t0.5\n");
});

test("a FORMAT clause picks the output format", async () => {
  const res = await handleQuery(post(`SELECT id, name FROM ${db}.t ORDER BY id FORMAT JSON`), queryClient, OPTS);
  expect(res.status).toBe(200);
  expect(res.headers.get("x-clickhouse-format")).toBe("JSON");
  const doc = (await res.json()) as { data: unknown; rows: number };
  expect(doc.data).toEqual([{ id: 1, name: "a\tb" }, { id: 2, name: "c" }]);
  expect(doc.rows).toBe(2);
});

test("the default_format parameter picks the format when there is no FORMAT clause", async () => {
  const res = await handleQuery(post(`SELECT id FROM ${db}.t ORDER BY id`, "?default_format=JSONEachRow"), queryClient, OPTS);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('{"id":1}\n{"id":2}\n');
});

test("write statements are refused with 403 and a READONLY message naming the statement, and nothing changes", async () => {
  for (const sql of [`INSERT INTO ${db}.t VALUES (3, 'x', '1')`, `DROP TABLE ${db}.t`, "SET readonly = 0"]) {
    const res = await handleQuery(post(sql), queryClient, OPTS);
    expect([sql, res.status]).toEqual([sql, 403]);
    expect(res.headers.get("x-clickhouse-exception-code")).toBe("164");
    expect(await res.text()).toMatch(/^Code: 164\. DB::Exception: Refused before it ran: (INSERT|DROP|SET) statement: only one read statement .* runs here\. \(READONLY\)\n$/);
  }
  const res = await handleQuery(post(`SELECT count() FROM ${db}.t`), queryClient, OPTS);
  expect(await res.text()).toBe("2\n");
});

test("the shared client can still write after the endpoint ran (readonly stays on the endpoint's connection)", async () => {
  await testClickHouse().command({ query: `CREATE TABLE ${db}.after (x UInt8) ENGINE = Memory` });
  await testClickHouse().command({ query: `DROP TABLE ${db}.after` });
});

test("a syntax error is 400 with ClickHouse's message; an unknown table 404", async () => {
  const res = await handleQuery(post("SELEC 1"), queryClient, OPTS);
  expect(res.status).toBe(400);
  expect(res.headers.get("x-clickhouse-exception-code")).toBe("62");
  expect(await res.text()).toStartWith("Code: 62. DB::Exception: Syntax error");
  const missing = await handleQuery(post(`SELECT * FROM ${db}.nope`), queryClient, OPTS);
  expect(missing.status).toBe(404);
  expect(await missing.text()).toContain("(UNKNOWN_TABLE)");
});

test("an empty body is 400 and an oversized body 413", async () => {
  const empty = await handleQuery(post("  "), queryClient, OPTS);
  expect(empty.status).toBe(400);
  expect(await empty.text()).toBe("Empty query: send the SQL in the request body\n");
  const huge = await handleQuery(post(`SELECT '${"x".repeat(5000)}'`), queryClient, OPTS);
  expect(huge.status).toBe(413);
});

test("bun run query reads data an earlier process wrote, after that process exited", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spectra-query-cli-"));
  const writer = Bun.spawnSync([BUN, join(import.meta.dir, "persist-writer.ts"), dir], { cwd: ROOT });
  expect(writer.stderr.toString()).toBe("");
  expect(writer.exitCode).toBe(0);
  const sql = "SELECT trade_id, toString(price), toUnixTimestamp64Milli(timestamp), is_maker FROM marketprism_hot.trades";
  const read = Bun.spawnSync([BUN, join(ROOT, "src/cli/query.ts"), "--data-dir", dir, sql], { cwd: ROOT });
  expect(read.stderr.toString()).toBe("");
  expect(read.exitCode).toBe(0);
  const t = JSON.parse(writer.stdout.toString()) as typeof SAMPLES.trade;
  expect(t.trade_id).toBe(SAMPLES.trade.trade_id);
  expect(read.stdout.toString()).toBe(`${t.trade_id}\t${t.price}\t${t.ts_ms}\ttrue\n`);
  const bad = Bun.spawnSync([BUN, join(ROOT, "src/cli/query.ts"), "--data-dir", dir, "SELEC 1"], { cwd: ROOT });
  expect(bad.exitCode).toBe(1);
  expect(bad.stderr.toString()).toStartWith("Code: 62. DB::Exception: Syntax error");
  const write = Bun.spawnSync([BUN, join(ROOT, "src/cli/query.ts"), "--data-dir", dir, "DROP DATABASE marketprism_hot"], { cwd: ROOT });
  expect(write.exitCode).toBe(2);
  expect(write.stderr.toString()).toContain("Refused before it ran: DROP statement");
  const evil = join(dir, "evil.txt");
  const outfile = Bun.spawnSync([BUN, join(ROOT, "src/cli/query.ts"), "--data-dir", dir, `SELECT 'x' INTO OUTFILE '${evil}'`], { cwd: ROOT });
  expect(outfile.exitCode).toBe(2);
  expect(outfile.stderr.toString()).toContain("Refused before it ran: INTO OUTFILE: it writes a file on the engine's host.");
  expect(existsSync(evil)).toBe(false);
}, 60_000);
