import { beforeAll, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { ColumnarBatch } from "../../src/storage/columnar-batch.ts";
import { InsertSinks } from "../../src/storage/insert-sinks.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import { testClickHouse, testDataDir, uniqueDatabase } from "../support/chdb.ts";
import { trades } from "./sample-records.ts";

const client = testClickHouse();
const hot = uniqueDatabase("sinks_hot");
const log = createLogger("silent");

beforeAll(async () => {
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("sinks_cold") });
});

async function count(where: string): Promise<number> {
  const rows = await (await client.query({ query: `SELECT count() AS n FROM ${hot}.trades WHERE ${where}`, format: "JSONEachRow" })).json<{ n: string }>();
  return Number(rows[0]?.n);
}

test("embedded: each worker inserts on a session of its own, so a small insert does not wait for a large one", async () => {
  const cfg = configWith({ clickhouse: { hot_database: hot } }).clickhouse;
  const sinks = new InsertSinks(client, cfg, testDataDir(), log);
  const orderbookWorker = sinks.forWorker("b:orderbook:0");
  const tradeWorker = sinks.forWorker("b:trade:0");
  expect(sinks.forWorker("b:trade:0")).toBe(tradeWorker);

  // ~200k rows take chDB on the order of a second; the one-row insert a few milliseconds.
  const large = new ColumnarBatch("trade");
  for (const r of trades(200_000, 1_000_000)) large.append(r);
  const settled: string[] = [];
  const big = orderbookWorker.insertBatch(large, "sinks-large").then(() => settled.push("large"));
  await Bun.sleep(20);
  await tradeWorker.insert("trade", trades(1, 5_000_000), "sinks-small").then(() => settled.push("small"));
  await big;

  expect(settled).toEqual(["small", "large"]);
  expect(await count("toUInt64(trade_id) >= 1000000 AND toUInt64(trade_id) < 1200000")).toBe(200_000);
  expect(await count("trade_id = '5000000'")).toBe(1);
});

test("server: every worker shares the one HTTP client's sink", () => {
  const cfg = configWith({ clickhouse: { url: "http://127.0.0.1:1", hot_database: hot } }).clickhouse;
  const sinks = new InsertSinks(client, cfg, testDataDir(), log);
  expect(sinks.forWorker("b:trade:0")).toBe(sinks.forWorker("b:orderbook:0"));
});
