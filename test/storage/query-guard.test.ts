import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type QueryCommandIo, runQueryCommand } from "../../src/cli/query.ts";
import { handleQuery } from "../../src/http/query.ts";
import { createChdbClient } from "../../src/storage/client.ts";
import { testChdbPath, testClickHouse, testDataDir, uniqueDatabase } from "../support/chdb.ts";

/**
 * Hostile statements through both ways in (POST /query and the `bun run query` command), each
 * refused before it runs: 403 / exit 2, no file written, the table unchanged.
 */

const db = uniqueDatabase("guard");
/** A client only for the endpoint: readonly = 1 stays on a chDB connection. */
const queryClient = createChdbClient(testChdbPath());
const OPTS = { max_body_bytes: 65_536, timeout_ms: 20_000 };
const out = mkdtempSync(join(tmpdir(), "spectra-guard-"));
/** A readable file the statements try to reach by name (`x.csv` relative paths need the cwd). */
const secret = join(out, "secret.csv");
const evil = (n: number) => join(out, `evil-${n}.txt`);

beforeAll(async () => {
  writeFileSync(secret, "user,password\nroot,hunter2\n");
  const c = testClickHouse();
  await c.command({ query: `CREATE DATABASE ${db}` });
  await c.command({ query: `CREATE TABLE ${db}.t (id UInt32, name String, price Decimal(38, 18)) ENGINE = ReplacingMergeTree ORDER BY id` });
  await c.command({ query: `CREATE TABLE ${db}.ids (id UInt32) ENGINE = Memory AS SELECT 2` });
  await c.command({ query: `INSERT INTO ${db}.t VALUES (1, 'a\tb', '123456789012345.123456789'), (2, 'c', '0.5'), (3, 'INTO OUTFILE', '7')` });
});

async function fingerprint(): Promise<string> {
  const rs = await testClickHouse().query({ query: `SELECT count() AS n, sum(cityHash64(id, name, price)) AS h FROM ${db}.t`, format: "JSONEachRow" });
  return JSON.stringify(await rs.json());
}

const hostile = (): string[] => [
  `SELECT 'x' INTO OUTFILE '${evil(1)}'`,
  `select 'x'\n  into\n\toutfile '${evil(2)}'`,
  `SeLeCt 1 /* a comment */ InTo -- another\n OutFile '${evil(3)}' FORMAT CSV`,
  `SELECT * FROM ${db}.t INTO OUTFILE '${evil(4)}' APPEND`,
  `SELECT 1 INTO OUTFILE '${evil(5)}' AND STDOUT`,
  `SELECT 1 INTO OUTFILE '${evil(6)}' TRUNCATE COMPRESSION 'gzip' LEVEL 3`,
  `SHOW TABLES FROM ${db} INTO OUTFILE '${evil(7)}'`,
  `DESCRIBE TABLE ${db}.t INTO OUTFILE '${evil(8)}'`,
  `EXPLAIN AST SELECT 1 INTO OUTFILE '${evil(9)}'`,
  `WITH 1 AS x SELECT x INTO OUTFILE '${evil(10)}'`,
  `(SELECT 1) UNION ALL (SELECT 2) INTO OUTFILE '${evil(11)}'`,
  `SELECT * FROM file('${secret}', 'CSV')`,
  `select *\nfrom\n  FILE('${secret}')`,
  `SELECT file('${secret}')`,
  `SELECT \`file\`('${secret}')`,
  `SELECT * FROM \`${secret}\``,
  `SELECT * FROM '${secret}'`,
  `SELECT * FROM default.\`${secret}\``,
  `SELECT 1 IN \`${secret}\``,
  `DESCRIBE \`${secret}\``,
  `EXISTS TABLE \`${secret}\``,
  `SHOW CREATE TABLE \`${secret}\``,
  `WITH x AS (SELECT 1) SELECT * FROM (SELECT * FROM x) AS a, \`${secret}\` AS b`,
  `SELECT * FROM (WITH secret AS (SELECT 1) SELECT * FROM secret) AS s, secret`,
  `SELECT hasColumnInTable('default', '${secret}', 'user')`,
  `SELECT * FROM url('http://127.0.0.1:9/x.csv', CSV, 'a String')`,
  `SELECT * FROM s3('http://127.0.0.1:9/bucket/k.csv', 'CSV', 'a String')`,
  `SELECT * FROM remote('127.0.0.1:9', system.one)`,
  `SELECT * FROM remoteSecure('127.0.0.1:9', system.one)`,
  `SELECT * FROM executable('id', TabSeparated, 'x String')`,
  `SELECT * FROM input('x String')`,
  `SELECT * FROM mysql('127.0.0.1:9', 'd', 't', 'u', 'p')`,
  `SELECT * FROM postgresql('127.0.0.1:9', 'd', 't', 'u', 'p')`,
  `SELECT * FROM hdfs('hdfs://127.0.0.1:9/x', 'CSV', 'a String')`,
  `SELECT * FROM azureBlobStorage('http://127.0.0.1:9', 'c', 'b', 'a', 'k')`,
  `SELECT * FROM jdbc('jdbc:x', 't')`,
  `SELECT * FROM odbc('DSN=x', 'd', 't')`,
  `SELECT * FROM cluster('default', system.one)`,
  `SELECT * FROM filesystem('${out}')`,
  `SELECT * FROM merge('default', '.*')`,
  `SELECT * FROM dictionary('d')`,
  `SELECT dictGet('d', 'x', toUInt64(1))`,
  `SELECT catboostEvaluate('${secret}', 1)`,
  `SELECT dummy FROM system.one WHERE dummy IN url('http://127.0.0.1:9/', CSV, 'x UInt8')`,
  `SELECT * FROM (SELECT * FROM file('${secret}'))`,
  `SELECT * FROM view(SELECT file('${secret}'))`,
  `SELECT * FROM system.one UNION ALL SELECT file('${secret}')`,
  `EXPLAIN SELECT * FROM file('${secret}')`,
  `SELECT * FROM ${db}.t SETTINGS readonly = 0`,
  `SELECT 1 SETTINGS readonly = 1`,
  `select 1\nsettings\n  max_threads = 1`,
  `SET readonly = 0`,
  `set allow_ddl=1`,
  `INSERT INTO ${db}.t VALUES (9, 'x', '1')`,
  `insert\ninto ${db}.t select * from ${db}.t`,
  `INSERT INTO FUNCTION file('${evil(12)}', 'CSV') SELECT 1`,
  `ALTER TABLE ${db}.t DELETE WHERE 1`,
  `DELETE FROM ${db}.t WHERE 1`,
  `TRUNCATE TABLE ${db}.t`,
  `DROP TABLE ${db}.t`,
  `CREATE TABLE ${db}.x (a UInt8) ENGINE = Memory`,
  `RENAME TABLE ${db}.t TO ${db}.u`,
  `OPTIMIZE TABLE ${db}.t FINAL`,
  `SYSTEM DROP DNS CACHE`,
  `system flush logs`,
  `KILL QUERY WHERE 1`,
  `BACKUP TABLE ${db}.t TO File('${evil(13)}')`,
  `DETACH TABLE ${db}.t`,
  `ATTACH TABLE ${db}.t`,
  `CREATE USER evil IDENTIFIED WITH plaintext_password BY 'x'`,
  `GRANT ALL ON *.* TO default`,
  `SHOW GRANTS`,
  `USE system`,
  `SELECT 1; INSERT INTO ${db}.t VALUES (9, 'x', '1')`,
  `SELECT 1;\nSELECT 'x' INTO OUTFILE '${evil(14)}'`,
  `EXPLAIN PIPELINE INSERT INTO ${db}.t SELECT * FROM ${db}.t`,
  `EXPLAIN ESTIMATE INSERT INTO ${db}.t SELECT * FROM ${db}.t`,
  `explain syntax insert into ${db}.t values (9, 'x', '1')`,
  `EXPLAIN AST DROP TABLE ${db}.t`,
  `EXPLAIN SELECT 1 INTO OUTFILE '${evil(15)}'`,
  `SELECT 1 AS \`a\nb\``,
  `WITH c AS (SELECT 1) SELECT * FROM \`c (alias z)\``,
];

/** Refused statements must say what was refused and why. */
const REFUSAL = /^Code: 164\. DB::Exception: Refused before it ran: .+: .+\. \(READONLY\)\n$/s;

describe("query guard", () => {
  test("POST /query refuses every hostile statement with 403, writes no file and changes no table", async () => {
    const before = await fingerprint();
    const list = hostile();
    expect(list.length).toBeGreaterThanOrEqual(40);
    for (const sql of list) {
      const res = await handleQuery(new Request("http://localhost/query", { method: "POST", body: sql }), queryClient, OPTS);
      const text = await res.text();
      expect({ sql, status: res.status, refused: REFUSAL.test(text) }).toEqual({ sql, status: 403, refused: true });
      expect(res.headers.get("x-clickhouse-exception-code")).toBe("164");
      expect(text).not.toContain("hunter2");
    }
    expect(readdirSync(out).sort()).toEqual(["secret.csv"]);
    expect(await fingerprint()).toBe(before);
  }, 60_000);

  test("the query command refuses every hostile statement with exit code 2 and runs none of them", async () => {
    const before = await fingerprint();
    for (const sql of hostile()) {
      const io = captureIo();
      const code = await runQueryCommand(["--data-dir", testDataDir(), sql], io);
      expect({ sql, code, refused: REFUSAL.test(io.err.join("")), out: io.out.length }).toEqual({ sql, code: 2, refused: true, out: 0 });
    }
    expect(readdirSync(out).sort()).toEqual(["secret.csv"]);
    expect(await fingerprint()).toBe(before);
  }, 60_000);

  test("the message names what was refused and why", async () => {
    const res = await handleQuery(new Request("http://localhost/query", { method: "POST", body: `SELECT * FROM url('http://127.0.0.1:9/', CSV, 'a String')` }), queryClient, OPTS);
    expect(await res.text()).toStartWith("Code: 164. DB::Exception: Refused before it ran: table function url(): table functions that reach files, the network or other processes are refused");
    const outfile = await handleQuery(new Request("http://localhost/query", { method: "POST", body: `SELECT 1 INTO OUTFILE '${evil(20)}'` }), queryClient, OPTS);
    expect(await outfile.text()).toContain("Refused before it ran: INTO OUTFILE: it writes a file on the engine's host.");
    const two = await handleQuery(new Request("http://localhost/query", { method: "POST", body: "SELECT 1; SELECT 2" }), queryClient, OPTS);
    expect(await two.text()).toContain("Refused before it ran: more than one statement");
  });
});

test("quotes in the SQL cannot break out of the guard's own queries: the SQL is a bound parameter", async () => {
  for (const sql of [`x'); SELECT 'x' INTO OUTFILE '${evil(30)}'; --`, `1}'); SELECT 'x' INTO OUTFILE '${evil(31)}' --`, `\\'; SELECT 'x' INTO OUTFILE '${evil(32)}'`]) {
    const res = await handleQuery(new Request("http://localhost/query", { method: "POST", body: sql }), queryClient, OPTS);
    const text = await res.text();
    expect([400, 403]).toContain(res.status);
    expect(text).not.toContain("formatQuerySingleLine");
  }
  expect(readdirSync(out).sort()).toEqual(["secret.csv"]);
});

function captureIo(): QueryCommandIo & { out: Uint8Array[]; err: string[] } {
  const io = {
    out: [] as Uint8Array[],
    err: [] as string[],
    open: () => ({ client: queryClient, close: async () => {} }),
    stdout: (b: Uint8Array) => void io.out.push(b),
    stderr: (t: string) => void io.err.push(t),
  };
  return io;
}

describe("reads still work", () => {
  const read = async (sql: string, params = ""): Promise<Response> =>
    handleQuery(new Request(`http://localhost/query${params}`, { method: "POST", body: sql }), queryClient, OPTS);

  test("every format: TabSeparated by default, FORMAT clauses and default_format", async () => {
    const q = `SELECT id, name FROM ${db}.t WHERE id <= 2 ORDER BY id`;
    const cases: [string, string, string][] = [
      [q, "", "1\ta\\tb\n2\tc\n"],
      [`${q} FORMAT TabSeparatedWithNames`, "", "id\tname\n1\ta\\tb\n2\tc\n"],
      [`${q} FORMAT CSV`, "", '1,"a\tb"\n2,"c"\n'],
      [`${q} FORMAT CSVWithNames`, "", '"id","name"\n1,"a\tb"\n2,"c"\n'],
      [`${q} FORMAT JSONEachRow`, "", '{"id":1,"name":"a\\tb"}\n{"id":2,"name":"c"}\n'],
      [`${q} FORMAT JSONCompactEachRow`, "", '[1, "a\\tb"]\n[2, "c"]\n'],
      [q, "?default_format=JSONEachRow", '{"id":1,"name":"a\\tb"}\n{"id":2,"name":"c"}\n'],
      [q, "?default_format=CSV", '1,"a\tb"\n2,"c"\n'],
    ];
    for (const [sql, params, want] of cases) {
      const res = await read(sql, params);
      expect({ sql, params, status: res.status, body: await res.text() }).toEqual({ sql, params, status: 200, body: want });
    }
    const json = await read(`${q} FORMAT JSON`);
    expect(json.headers.get("x-clickhouse-format")).toBe("JSON");
    expect(((await json.json()) as { data: unknown }).data).toEqual([{ id: 1, name: "a\tb" }, { id: 2, name: "c" }]);
    const compact = await read(`${q} FORMAT JSONCompact`);
    expect(((await compact.json()) as { data: unknown }).data).toEqual([[1, "a\tb"], [2, "c"]]);
  });

  test("WITH, SHOW, DESCRIBE, EXISTS, EXPLAIN, harmless table functions and comments pass", async () => {
    const cases: [string, string][] = [
      [`WITH picked AS (SELECT id FROM ${db}.t WHERE id > 1) SELECT count() FROM picked`, "2\n"],
      [`WITH 2 AS two SELECT id FROM ${db}.t WHERE id = two`, "2\n"],
      [`SELECT name FROM ${db}.t WHERE name = 'INTO OUTFILE' -- a comment\n`, "INTO OUTFILE\n"],
      [`/* hi */ sElEcT\n count()\n FROM ${db}.t WHERE id IN (SELECT number FROM numbers(3))`, "2\n"],
      [`SELECT id FROM ${db}.t WHERE id IN ${db}.ids ORDER BY id`, "2\n"],
      [`SELECT sum(number) FROM numbers(10)`, "45\n"],
      [`SELECT * FROM (VALUES (1, 2))`, "1\t2\n"],
      [`SELECT count() FROM ${db}.t FINAL;`, "3\n"],
      [`SHOW TABLES FROM ${db}`, "ids\nt\n"],
      [`EXISTS TABLE ${db}.t`, "1\n"],
      [`EXISTS TABLE ${db}.nope`, "0\n"],
      // UNION ALL branches may come back in either order: both rows are the same.
      [`SELECT 1 UNION ALL SELECT 1`, "1\n1\n"],
      [`WITH picked AS (SELECT 5 AS v) SELECT p.v FROM picked AS p`, "5\n"],
      [`EXPLAIN AST SELECT 1`, "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Literal UInt64_1\n"],
      [`SELECT format('{}-{}', 'a', 'b')`, "a-b\n"],
    ];
    for (const [sql, want] of cases) {
      const res = await read(sql);
      expect({ sql, status: res.status, body: await res.text() }).toEqual({ sql, status: 200, body: want });
    }
    const shows = [
      `SHOW TABLES FROM ${db} LIKE 'i%' LIMIT 3`,
      "SHOW DATABASES LIKE 'syst%'",
      `SHOW COLUMNS FROM t FROM ${db} LIKE 'n%'`,
      "SHOW PROCESSLIST",
      `SHOW CREATE TABLE ${db}.ids`,
      "SHOW SETTINGS LIKE 'max_threads'",
      `SELECT id FROM ${db}.t ORDER BY id LIMIT 1 OFFSET 1`,
    ];
    for (const sql of shows) {
      const res = await read(sql);
      expect({ sql, status: res.status }).toEqual({ sql, status: 200 });
      expect((await res.text()).length).toBeGreaterThan(0);
    }
    const desc = await read(`DESCRIBE TABLE ${db}.t`);
    expect((await desc.text()).split("\n")[0]).toStartWith("id\tUInt32");
    const plan = await read(`EXPLAIN header = 1 SELECT id FROM ${db}.t`);
    expect(plan.status).toBe(200);
    expect(await plan.text()).toContain("Header: id UInt32");
  });

  test("the query command prints rows in the format asked for", async () => {
    const io = captureIo();
    const code = await runQueryCommand(["--data-dir", testDataDir(), "--format", "JSONEachRow", `SELECT id FROM ${db}.t ORDER BY id`], io);
    expect({ code, err: io.err.join("") }).toEqual({ code: 0, err: "" });
    expect(Buffer.concat(io.out).toString()).toBe('{"id":1}\n{"id":2}\n{"id":3}\n');
  });
});
