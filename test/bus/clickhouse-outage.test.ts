import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient } from "@clickhouse/client";
import { jetstream } from "@nats-io/jetstream";
import { StoreConsumer, type ConsumerSettings } from "../../src/bus/consumer.ts";
import { JetStreamPublisher } from "../../src/bus/publisher.ts";
import { configWith } from "../../src/config/load.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames, typeCounter } from "../../src/stats/layout.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { natsForTests } from "../support/nats.ts";
import { trade } from "./sample-records.ts";
import { waitFor } from "../support/wait.ts";

/**
 * ClickHouse server mode against an HTTP stand-in: while "down" it answers 503 (or drops the
 * connection); while "up" it runs each INSERT it receives (query in the URL, data in the body,
 * as @clickhouse/client sends them) on the test chDB. The engine's sink talks HTTP to it.
 */
type Mode = "up" | "503" | "hang-up";
let mode: Mode = "up";
let refused = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    if (mode !== "up") {
      refused++;
      if (mode === "hang-up") return new Response(null, { status: 502 });
      return new Response("Code: 242. DB::Exception: Table is in readonly mode. (TABLE_IS_READ_ONLY)\n", { status: 503 });
    }
    const url = new URL(req.url);
    if (url.pathname === "/ping") return new Response("Ok.\n");
    const query = url.searchParams.get("query") ?? "";
    const body = await req.text();
    await testClickHouse().command({ query: `${query}\n${body}` });
    return new Response("", { headers: { "X-ClickHouse-Summary": "{}" } });
  },
});

const config = configWith();
const hot = uniqueDatabase("outage_hot");
const bus = natsForTests(config.nats);

beforeAll(async () => {
  await ensureSchema(testClickHouse(), { hot_database: hot, cold_database: uniqueDatabase("outage_cold") });
});
afterAll(() => {
  server.stop(true);
});

async function stored(): Promise<{ rows: number; unique: number }> {
  const rs = await testClickHouse().query({ query: `SELECT count() AS rows, uniqExact(trade_id) AS unique FROM ${hot}.trades FINAL`, format: "JSONEachRow" });
  const [row] = (await rs.json()) as { rows: string; unique: string }[];
  return { rows: Number(row?.rows), unique: Number(row?.unique) };
}


/** A trade consumer whose inserts go over HTTP to the stand-in above. */
function consumerOverHttp(settings: Partial<ConsumerSettings>, max_rows: number, retry_max_ms: number, counters: Counters): StoreConsumer {
  const http = createClient({ url: `http://127.0.0.1:${server.port}`, request_timeout: 2000 });
  return new StoreConsumer({
    nc: bus.nc,
    js: jetstream(bus.nc),
    jsm: bus.jsm,
    stream: config.nats.stream.name,
    type: "trade",
    settings: { ...config.nats.consumer, ...settings },
    batching: { max_rows, max_bytes: 1 << 20, linger_ms: 20 },
    sink: new ClickHouseSink(http, { database: hot, close_client: true }),
    counters,
    retry_max_ms,
  });
}

test("ClickHouse answering 503 and then hanging up for a while: everything published is stored exactly once after it returns", async () => {
  const counters = new Counters(counterNames());
  const consumer = consumerOverHttp({ durable_prefix: "outage" }, 200, 100, counters);
  await consumer.start();
  const publisher = new JetStreamPublisher({ js: jetstream(bus.nc), type: "trade", settings: { ...config.nats.publish, frame_max_records: 50 } });
  const batch = (from: number) => Array.from({ length: 500 }, (_, i) => trade(from + i));

  await publisher.publish(batch(0));
  await publisher.flush();
  await waitFor("the first 500 stored", async () => (await stored()).unique === 500, 30000);

  mode = "503";
  await publisher.publish(batch(500));
  await publisher.flush();
  await waitFor("inserts refused while ClickHouse is down", () => refused >= 3 && counters.read(typeCounter("trade", "insert_errors")) >= 3, 30000);
  mode = "hang-up";
  await publisher.publish(batch(1000));
  await publisher.flush();
  const before = refused;
  await waitFor("more refusals", () => refused > before, 30000);
  expect((await stored()).unique).toBe(500);

  mode = "up";
  await waitFor("everything published stored", async () => (await stored()).unique === 1500, 30000);
  await consumer.stop();
  expect(await stored()).toEqual({ rows: 1500, unique: 1500 });
  expect(counters.read(typeCounter("trade", "dead_lettered"))).toBe(0);
  const info = await bus.jsm.consumers.info(config.nats.stream.name, "outage_trade");
  expect(info.num_ack_pending).toBe(0);
  expect(info.num_pending).toBe(0);
});

test("an outage longer than max_deliver ack waits: messages pulled ahead of the failing batch are stored once, none dead-lettered", async () => {
  mode = "up";
  const counters = new Counters(counterNames());
  const durable = "longoutage";
  // Batches of 50 records while 64 frames of 10 are pulled ahead: most of them wait in the pull
  // buffer behind the failing batch, past their 1 s ack wait, and JetStream delivers them again.
  const consumer = consumerOverHttp({ durable_prefix: durable, ack_wait_ms: 1000, max_deliver: 2, fetch_batch: 64 }, 50, 200, counters);
  await consumer.start();
  const publisher = new JetStreamPublisher({ js: jetstream(bus.nc), type: "trade", settings: { ...config.nats.publish, frame_max_records: 10 } });
  mode = "503";
  await publisher.publish(Array.from({ length: 500 }, (_, i) => trade(10_000 + i)));
  await publisher.flush();
  const info = () => bus.jsm.consumers.info(config.nats.stream.name, `${durable}_trade`);
  // The outage itself: long enough for the waiting messages' ack wait to run out four times.
  await Bun.sleep(4_000);
  mode = "up";
  const range = "toUInt64(trade_id) BETWEEN 11000 AND 11499";
  const rows = async (final: string) => {
    const rs = await testClickHouse().query({ query: `SELECT count() AS n FROM ${hot}.trades ${final} WHERE ${range}`, format: "JSONEachRow" });
    return Number(((await rs.json()) as { n: string }[])[0]?.n);
  };
  await waitFor("everything published stored", async () => (await rows("FINAL")) === 500, 60_000);
  await waitFor("every message acknowledged", async () => {
    const i = await info();
    return i.num_ack_pending === 0 && i.num_pending === 0;
  }, 30000);
  await consumer.stop();
  // Without recognising second deliveries, 45 of the 50 frames were dead-lettered here.
  expect(counters.read(typeCounter("trade", "dead_lettered"))).toBe(0);
  // Those second deliveries are counted; the outage outlasts the ack wait, so there are some.
  const duplicates = counters.read(typeCounter("trade", "duplicate_deliveries"));
  expect(duplicates).toBeGreaterThan(0);
  expect(duplicates).toBe(consumer.stats().duplicate_deliveries);
  expect(await rows("")).toBe(500);
});
