import { beforeAll, expect, test } from "bun:test";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { InsertError } from "../../src/storage/insert-errors.ts";
import { serveInserts } from "../../src/storage/insert-server.ts";
import { PortSink } from "../../src/storage/port-sink.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { SAMPLES, trades } from "./sample-records.ts";

/*
 * Why inserts go through the owner thread: measured with chdb 3.4.0 under Bun 1.4.5, a Worker
 * may open its own chDB client on the shared path and insert concurrently with the main thread,
 * but a Worker terminated or crashed while its session is open (not closed first) leaves every
 * later query of the process hanging. Batch workers are restarted on crash, so they must not
 * hold chDB sessions.
 */

const client = testClickHouse();
const hot = uniqueDatabase("port_hot");
const owner = new ClickHouseSink(client, { database: hot, close_client: false });

beforeAll(async () => {
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("port_cold") });
});

async function tradeCount(from: number, to: number): Promise<number> {
  const r = await client.query({
    query: `SELECT count() AS n FROM ${hot}.trades FINAL WHERE toUInt64(trade_id) BETWEEN ${from} AND ${to} SETTINGS output_format_json_quote_64bit_integers = 0`,
    format: "JSONEachRow",
  });
  const [row] = await r.json<{ n: number }>();
  return row?.n ?? -1;
}

test("a batch worker's inserts run on the owner thread while it inserts too, and survive the worker's termination", async () => {
  const worker = new Worker(new URL("./sink-worker.ts", import.meta.url).href);
  const stop = serveInserts(worker, owner);
  try {
    const reply = new Promise<unknown>((resolve) => {
      worker.addEventListener("message", (e: MessageEvent) => {
        if (typeof e.data === "object" && e.data !== null && "done" in e.data) resolve(e.data);
      });
      worker.onerror = (e: ErrorEvent) => resolve({ done: false, error: e.message });
    });
    worker.postMessage({ first_id: 60_000, n: 300 });
    await owner.insert("trade", trades(300, 60_300), "owner-60300");
    expect(await reply).toEqual({ done: true, rows: 300 });
  } finally {
    stop();
    worker.terminate();
  }
  expect(await tradeCount(60_000, 60_599)).toBe(600);
});

test("a failed insert comes back to the worker as InsertError with the owner's classification", async () => {
  const channel = new MessageChannel();
  const missing = new ClickHouseSink(client, { database: uniqueDatabase("port_missing"), close_client: false });
  const stop = serveInserts(channel.port1, missing);
  const sink = new PortSink(channel.port2);
  try {
    const err = await sink.insert("trade", [SAMPLES.trade], "x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsertError);
    expect((err as InsertError).kind).toBe("permanent");
    expect((err as InsertError).message).toContain("does not exist");
  } finally {
    stop();
    await sink.close();
    channel.port1.close();
    channel.port2.close();
  }
});

test("records inserted through a MessageChannel PortSink are stored once per token", async () => {
  const channel = new MessageChannel();
  const stop = serveInserts(channel.port1, owner);
  const sink = new PortSink(channel.port2);
  try {
    const batch = trades(20, 70_000);
    expect(await sink.insert("trade", batch, "port-token")).toMatchObject({ rows: 20 });
    await sink.insert("trade", batch, "port-token");
    expect(await tradeCount(70_000, 70_019)).toBe(20);
  } finally {
    stop();
    await sink.close();
    channel.port1.close();
    channel.port2.close();
  }
});
