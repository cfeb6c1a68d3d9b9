import { beforeAll, expect, test } from "bun:test";
import { jetstream } from "@nats-io/jetstream";
import { StoreConsumer } from "../../src/bus/consumer.ts";
import { JetStreamPublisher } from "../../src/bus/publisher.ts";
import { configWith } from "../../src/config/load.ts";
import type { MarketRecord, RecordType } from "../../src/records/types.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import type { InsertResult, StorageSink } from "../../src/storage/types.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { natsForTests } from "../support/nats.ts";
import { trade } from "./sample-records.ts";
import { waitFor } from "../support/wait.ts";

const config = configWith();
const client = testClickHouse();
const hot = uniqueDatabase("bus_hot");
const bus = natsForTests(config.nats);

beforeAll(async () => {
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("bus_cold") });
});

/** The real ClickHouse sink, with a hook that runs after each committed insert. */
class HookedSink implements StorageSink {
  readonly tokens: string[] = [];
  after: () => void = () => {};
  constructor(private readonly inner: ClickHouseSink) {}
  async insert(type: RecordType, records: readonly MarketRecord[], dedup_token: string): Promise<InsertResult> {
    const result = await this.inner.insert(type, records, dedup_token);
    this.tokens.push(dedup_token);
    this.after();
    return result;
  }
  async close(): Promise<void> {}
}


test("a batch inserted into ClickHouse but not acked is redelivered and stored once", async () => {
  const inner = new ClickHouseSink(client, { database: hot, close_client: false });
  const settings = { ...config.nats.consumer, durable_prefix: "chdb", ack_wait_ms: 1000 };
  const batching = { max_rows: 1000, max_bytes: 1 << 20, linger_ms: 1 };
  const consumerWith = (sink: StorageSink) =>
    new StoreConsumer({ nc: bus.nc, js: jetstream(bus.nc), jsm: bus.jsm, stream: config.nats.stream.name, type: "trade", settings, batching, sink });

  const records = Array.from({ length: 30 }, (_, i) => trade(i, i % 2 === 0 ? "BTC-USDT" : "ETH-USDT"));
  const publisher = new JetStreamPublisher({ js: jetstream(bus.nc), type: "trade", settings: config.nats.publish });
  await publisher.publish(records);
  await publisher.flush();

  const crashing = new HookedSink(inner);
  const first = consumerWith(crashing);
  crashing.after = () => void first.abort();
  await first.start();
  await waitFor("first insert", () => crashing.tokens.length === 1, 15000);
  await first.abort();

  const healthy = new HookedSink(inner);
  const second = consumerWith(healthy);
  await second.start();
  await waitFor("redelivered insert", () => healthy.tokens.length === 1, 15000);
  expect(healthy.tokens).toEqual(crashing.tokens);
  await second.stop();

  const result = await client.query({
    query: `SELECT symbol, trade_id, price, quantity, side, is_maker FROM \`${hot}\`.trades ORDER BY trade_id`,
    format: "JSONEachRow",
  });
  const rows = await result.json<{ symbol: string; trade_id: string; price: string; quantity: string; side: string; is_maker: boolean | number }>();
  expect(rows.length).toBe(30);
  expect(rows.map((r) => [r.symbol, r.trade_id, r.side, Boolean(r.is_maker)])).toEqual(
    records.map((r) => [r.symbol, r.trade_id, r.side, r.is_maker]),
  );
  expect(rows.map((r) => Number(r.price))).toEqual(records.map(() => 91234.56));
}, 30_000);
