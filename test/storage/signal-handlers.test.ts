import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";

const BUSY_WORKER = new URL("../support/busy.worker.ts", import.meta.url).href;

/** Signal numbers the process has a handler for (/proc/self/status SigCgt). */
function caughtSignals(): number[] {
  const mask = BigInt(`0x${readFileSync("/proc/self/status", "utf8").match(/SigCgt:\s*([0-9a-f]+)/)?.[1] ?? "0"}`);
  return Array.from({ length: 64 }, (_, i) => i + 1).filter((sig) => ((mask >> BigInt(sig - 1)) & 1n) === 1n);
}

test("terminating a worker that is running JavaScript leaves chDB answering (it does not take the runtime's trap for its own crash)", async () => {
  const ch = testClickHouse();
  const db = uniqueDatabase("signals");
  await ch.command({ query: `CREATE DATABASE ${db}` });
  await ch.command({ query: `CREATE TABLE ${db}.t (n UInt64) ENGINE = MergeTree ORDER BY n` });
  // SIGTSTP (20) is one chDB adds when it installs its handlers.
  expect(caughtSignals()).not.toContain(20);
  for (let round = 0; round < 5; round++) {
    const worker = new Worker(BUSY_WORKER);
    await new Promise((resolve) => worker.addEventListener("message", resolve, { once: true }));
    const insert = ch.command({ query: `INSERT INTO ${db}.t SELECT number FROM numbers(${round * 1000}, 1000)` });
    await Bun.sleep(30);
    worker.terminate();
    await insert;
  }
  const rows = await (await ch.query({ query: `SELECT count() AS rows, uniqExact(n) AS distinct FROM ${db}.t`, format: "JSONEachRow" })).json<{ rows: number; distinct: number }>();
  expect(rows).toEqual([{ rows: 5000, distinct: 5000 }]);
  await ch.command({ query: `DROP DATABASE ${db}` });
});
