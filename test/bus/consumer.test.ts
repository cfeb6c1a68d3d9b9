import { expect, test } from "bun:test";
import { jetstream, type StoredMsg } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import pino from "pino";
import { ensureDeadLetterStream } from "../../src/bus/stream.ts";
import { DEAD_LETTER_HEADERS, durableName, ensureConsumer, StoreConsumer, type ConsumerSettings } from "../../src/bus/consumer.ts";
import { maxAckPending } from "../../src/bus/durable-consumer.ts";
import { JetStreamPublisher } from "../../src/bus/publisher.ts";
import { configWith } from "../../src/config/load.ts";
import { LevelsText } from "../../src/codec/levels-text.ts";
import type { MarketRecord, RecordType } from "../../src/records/types.ts";
import { InvalidRecordError } from "../../src/storage/insert-errors.ts";
import type { InsertResult, StorageSink } from "../../src/storage/types.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { natsForTests } from "../support/nats.ts";
import { ONE_OF_EACH, trade } from "./sample-records.ts";
import { waitFor } from "../support/wait.ts";

const STREAM = "MARKET_DATA";
const config = configWith();
const DEAD_LETTERS = config.nats.consumer.dead_letter_stream;
/** What the consumers logged, newest last. */
const logged: { level: number; msg: string; subject?: string; stream_seq?: number; reason?: string; err?: { message: string } }[] = [];
const log = pino({ level: "warn" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
const bus = natsForTests(config.nats);

interface Insert {
  readonly records: readonly MarketRecord[];
  readonly token: string;
}

/** Records every insert; `before` runs first and may throw (to fail the insert) or stall it. */
class RecordingSink implements StorageSink {
  readonly inserts: Insert[] = [];
  before: (records: readonly MarketRecord[]) => Promise<void> | void = () => {};
  async insert(_type: string, records: readonly MarketRecord[], dedup_token: string): Promise<InsertResult> {
    await this.before(records);
    this.inserts.push({ records: [...records], token: dedup_token });
    return { rows: records.length, latency_ms: 0 };
  }
  async close(): Promise<void> {}
  tradeIds(): string[] {
    return this.inserts.flatMap((i) => i.records.map((r) => (r as ReturnType<typeof trade>).trade_id));
  }
}

function consumer(sink: StorageSink, over: Partial<ConsumerSettings> = {}, counters?: Counters, linger_ms = 1, type: RecordType = "trade"): StoreConsumer {
  return new StoreConsumer({
    nc: bus.nc,
    js: jetstream(bus.nc),
    jsm: bus.jsm,
    stream: STREAM,
    type,
    settings: { ...config.nats.consumer, durable_prefix: `t${Math.random().toString(36).slice(2, 8)}`, ...over },
    batching: { max_rows: 1000, max_bytes: 1 << 20, linger_ms },
    sink,
    counters,
    log,
    retry_max_ms: 50,
  });
}

async function publish(records: readonly MarketRecord[], type: RecordType = "trade"): Promise<void> {
  const p = new JetStreamPublisher({ js: jetstream(bus.nc), type, settings: { ...config.nats.publish, frame_max_records: 10 } });
  await p.publish(records);
  await p.flush();
}

/** What the dead-letter stream keeps, oldest first (it is created afresh for every test). */
async function deadLetters(): Promise<StoredMsg[]> {
  const held = (await bus.jsm.streams.info(DEAD_LETTERS)).state.messages;
  const out: StoredMsg[] = [];
  for (let seq = 1; seq <= held; seq++) out.push(await bus.jsm.streams.getMessage(DEAD_LETTERS, { seq }) as StoredMsg);
  return out;
}


const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => String(1000 + from + i));

test("stores every published record and acks only after the insert resolves", async () => {
  const sink = new RecordingSink();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  sink.before = () => gate;
  const prefix = `acks${Date.now()}`;
  const durable = durableName(prefix, "trade");
  const counters = new Counters(counterNames());
  const c = consumer(sink, { durable_prefix: prefix }, counters);
  await c.start();
  await publish(Array.from({ length: 25 }, (_, i) => trade(i)));
  await waitFor("3 frames delivered, unacked", async () => (await bus.jsm.consumers.info(STREAM, durable)).num_ack_pending === 3, 10000);
  expect(sink.inserts).toEqual([]);
  release();
  await waitFor("insert", () => sink.inserts.length > 0 && c.stats().stored_rows === 25, 10000);
  await waitFor("acks", async () => (await bus.jsm.consumers.info(STREAM, durable)).num_ack_pending === 0, 10000);
  expect(sink.tradeIds()).toEqual(ids(0, 25));
  expect(c.stats()).toMatchObject({ stored_rows: 25, dead_lettered: 0, insert_errors: 0, last_insert_rows: 25 });
  expect(counters.read("type.trade.stored")).toBe(25);
  expect(counters.read("type.trade.last_insert_rows")).toBe(25);
  expect(counters.read("type.trade.dead_lettered")).toBe(0);
  await c.stop();
});

test("records that trickle in are batched by the linger: one insert per linger_ms, not per message", async () => {
  const sink = new RecordingSink();
  const c = consumer(sink, {}, undefined, 50);
  await c.start();
  // A frame every ~6 ms for ~0.5 s with a 50 ms linger: about ten inserts of about eight
  // records. Committing each message as it arrives would make eighty.
  for (let i = 0; i < 80; i++) {
    await publish([trade(i)]);
    await Bun.sleep(5);
  }
  await waitFor("every record stored", () => sink.tradeIds().length === 80, 10000);
  expect(sink.tradeIds()).toEqual(ids(0, 80));
  expect(sink.inserts.length).toBeGreaterThanOrEqual(4);
  expect(sink.inserts.length).toBeLessThanOrEqual(20);
  await c.stop();
});

test("a stop between insert and ack redelivers the batch with the same dedup token, and the durable survives", async () => {
  const prefix = `crash${Date.now()}`;
  const settings = { durable_prefix: prefix, ack_wait_ms: 1000 };
  const first = new RecordingSink();
  const c1 = consumer(first, settings);
  first.before = () => {
    void c1.abort();
  };
  await c1.start();
  await publish(Array.from({ length: 5 }, (_, i) => trade(i)));
  await waitFor("first insert", () => first.inserts.length === 1, 10000);
  await c1.abort();

  const second = new RecordingSink();
  const c2 = consumer(second, settings);
  await c2.start();
  await waitFor("redelivered insert", () => second.inserts.length === 1, 10000);
  expect(second.inserts[0]!.records).toEqual(first.inserts[0]!.records);
  expect(second.inserts[0]!.token).toBe(first.inserts[0]!.token);
  await waitFor("acks", async () => (await bus.jsm.consumers.info(STREAM, `${prefix}_trade`)).num_ack_pending === 0, 10000);
  await c2.stop();

  // Engine restart: the durable is still there and resumes after the last ack.
  await publish([trade(5), trade(6)]);
  const third = new RecordingSink();
  const c3 = consumer(third, settings);
  await c3.start();
  await waitFor("resumed delivery", () => third.tradeIds().length === 2, 10000);
  expect(third.tradeIds()).toEqual(ids(5, 2));
  await c3.stop();
  expect((await bus.jsm.consumers.info(STREAM, `${prefix}_trade`)).config.durable_name).toBe(`${prefix}_trade`);
}, 20_000);

test("the durable consumer is updated in place: settings change, delivered position kept", async () => {
  const settings = { ...config.nats.consumer, durable_prefix: "inplace" };
  expect(await ensureConsumer(bus.jsm, STREAM, "trade", settings)).toBe("created");
  await publish([trade(0), trade(1)]);
  const c = consumer(new RecordingSink(), { durable_prefix: "inplace" });
  await c.start();
  await waitFor("stored", () => c.stats().stored_rows === 2, 10000);
  await c.stop();
  expect(await ensureConsumer(bus.jsm, STREAM, "trade", settings)).toBe("unchanged");
  expect(await ensureConsumer(bus.jsm, STREAM, "trade", { ...settings, ack_wait_ms: 5000, max_deliver: 7 })).toBe("updated");
  const info = await bus.jsm.consumers.info(STREAM, "inplace_trade");
  expect([info.config.ack_wait, info.config.max_deliver, info.config.filter_subject]).toEqual([5_000_000_000, 7, "trade.>"]);
  expect([info.delivered.stream_seq, info.ack_floor.stream_seq, info.num_pending]).toEqual([1, 1, 0]);
});

test("a batch of one-record messages grows past JetStream's default of 1,000 unacknowledged messages", async () => {
  // At thousands of symbols every order-book message holds one book: a durable that let 1,000
  // out at once held each batch to 1,000 rows, whatever max_rows said, until the linger ran out.
  const sink = new RecordingSink();
  const prefix = `ackcap${Date.now()}`;
  const c = new StoreConsumer({
    nc: bus.nc,
    js: jetstream(bus.nc),
    jsm: bus.jsm,
    stream: STREAM,
    type: "trade",
    settings: { ...config.nats.consumer, durable_prefix: prefix },
    batching: { max_rows: 3000, max_bytes: 1 << 26, linger_ms: 600_000 },
    sink,
    log,
  });
  await c.start();
  const p = new JetStreamPublisher({ js: jetstream(bus.nc), type: "trade", settings: { ...config.nats.publish, frame_max_records: 1 } });
  await p.publish(Array.from({ length: 3000 }, (_, i) => trade(i)));
  await p.flush();
  await waitFor("one full batch stored", () => c.stats().stored_rows === 3000, 20000);
  expect(sink.inserts.map((i) => i.records.length)).toEqual([3000]);
  expect((await bus.jsm.consumers.info(STREAM, durableName(prefix, "trade"))).config.max_ack_pending).toBe(maxAckPending(3000, 1));
  await c.stop();
});

test("a poison message is kept in the dead-letter stream with its subject and is counted; the rest keeps flowing", async () => {
  const sink = new RecordingSink();
  const c = consumer(sink, { durable_prefix: "poison" });
  await c.start();
  await publish([trade(0)]);
  const h = headers();
  h.set("Content-Type", "application/msgpack");
  await jetstream(bus.nc).publish("trade.binance.spot.BTC-USDT", new Uint8Array([0xc1, 0xc1]), { headers: h });
  await jetstream(bus.nc).publish("trade.binance.spot.ETH-USDT", new TextEncoder().encode(JSON.stringify({ ...trade(9), price: "1e-7" })), {
    headers: (() => {
      const j = headers();
      j.set("Content-Type", "application/json");
      return j;
    })(),
  });
  await publish([trade(1)]);
  await waitFor("dead letters and good records", () => c.stats().dead_lettered === 2 && sink.tradeIds().length === 2, 10000);
  await c.stop();
  expect(sink.tradeIds().sort()).toEqual(ids(0, 2));
  const dead = await deadLetters();
  expect(dead.map((m) => [m.subject, m.header.get(DEAD_LETTER_HEADERS.subject)])).toEqual([
    [config.nats.consumer.dead_letter_subject, "trade.binance.spot.BTC-USDT"],
    [config.nats.consumer.dead_letter_subject, "trade.binance.spot.ETH-USDT"],
  ]);
  expect(dead[0]!.header.get(DEAD_LETTER_HEADERS.reason)).toStartWith("undecodable body");
  expect([...dead[0]!.data]).toEqual([0xc1, 0xc1]);
  expect(dead[1]!.header.get(DEAD_LETTER_HEADERS.reason)).toBe('trade.price: expected a decimal string fitting Decimal(38,18), got "1e-7"');
  expect(dead[1]!.json<{ price: string }>().price).toBe("1e-7");
  const warned = logged.filter((l) => l.msg === "message dead-lettered").slice(-2);
  expect(warned.map((l) => [l.level, l.subject, l.reason?.slice(0, 17)])).toEqual([
    [40, "trade.binance.spot.BTC-USDT", "undecodable body:"],
    [40, "trade.binance.spot.ETH-USDT", "trade.price: expe"],
  ]);
  // Both originals were terminated once kept: nothing is pending or awaiting an ack.
  const info = await bus.jsm.consumers.info(STREAM, durableName("poison", "trade"));
  expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
});

test("an order book the table would refuse is dead-lettered as the record it was, levels as arrays; its good neighbour is stored", async () => {
  const sink = new RecordingSink();
  const c = consumer(sink, { durable_prefix: "books" }, undefined, 1, "orderbook");
  await c.start();
  const book = ONE_OF_EACH.find((r) => r.data_type === "orderbook");
  if (book?.data_type !== "orderbook") throw new Error("no sample order book");
  // A negative id passes the frame's record check but not the UInt64 column's.
  const bad = { ...book, last_update_id: -1 };
  await publish([book, bad], "orderbook");
  await waitFor("the dead letter and the stored book", () => c.stats().dead_lettered === 1 && sink.inserts.length === 1, 10000);
  await c.stop();
  const stored = sink.inserts[0]?.records[0] as unknown as Record<string, unknown>;
  expect(stored.bids).toBeInstanceOf(LevelsText);
  expect((stored.bids as LevelsText).literal).toBe(JSON.stringify(JSON.stringify(book.bids)));
  const [dead] = await deadLetters();
  expect(dead?.header.get(DEAD_LETTER_HEADERS.reason)).toStartWith("orderbook.last_update_id: expected a non-negative safe integer");
  expect(dead?.json<unknown>()).toEqual([JSON.parse(JSON.stringify(bad))]);
});

test("a dead letter the dead-letter stream cannot keep leaves its message in the data stream until it can", async () => {
  await bus.jsm.streams.delete(DEAD_LETTERS);
  const sink = new RecordingSink();
  const c = consumer(sink, { durable_prefix: "unkept" });
  await c.start();
  const h = headers();
  h.set("Content-Type", "application/msgpack");
  await jetstream(bus.nc).publish("trade.binance.spot.BTC-USDT", new Uint8Array([0xc1]), { headers: h });
  await publish([trade(0)]);
  await waitFor("a failed dead letter", () => sink.tradeIds().length === 1 && (c.stats().last_error ?? "").includes("not stored"), 10000);
  expect(c.stats().dead_lettered).toBe(0);
  const failed = logged.filter((l) => l.level === 50).at(-1);
  expect(failed?.msg).toBe("dead-letter stream did not keep a poison message; it stays in the data stream, nak'ed for a later delivery");
  expect(failed?.subject).toBe("trade.binance.spot.BTC-USDT");
  // Nak'ed, not terminated: JetStream delivers it again, and once the stream exists it is kept.
  await ensureDeadLetterStream(bus.jsm, config.nats);
  await waitFor("the dead letter kept on a later delivery", () => c.stats().dead_lettered === 1, 10000);
  await c.stop();
  const dead = await deadLetters();
  expect(dead.map((m) => [m.header.get(DEAD_LETTER_HEADERS.subject), [...m.data]])).toEqual([["trade.binance.spot.BTC-USDT", [0xc1]]]);
  expect(Number(dead[0]!.header.get(DEAD_LETTER_HEADERS.deliveries))).toBeGreaterThan(1);
  const info = await bus.jsm.consumers.info(STREAM, durableName("unkept", "trade"));
  expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
});

test("stats show the consumer's pending messages while an insert is stuck", async () => {
  const sink = new RecordingSink();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  sink.before = () => gate;
  const prefix = `pending${Date.now()}`;
  const c = consumer(sink, { fetch_batch: 1, durable_prefix: prefix });
  await publish(Array.from({ length: 50 }, (_, i) => trade(i)));
  await c.start();
  // Frames of 10: those fetched are stuck in the insert (ack pending), the rest wait in the stream.
  await waitFor("stats pending = the consumer's unacknowledged messages while stuck", async () => {
    const info = await bus.jsm.consumers.info(STREAM, durableName(prefix, "trade"));
    return c.stats().pending === 5 && info.num_pending + info.num_ack_pending === 5;
  }, 4000);
  // Past a poll period without deliveries the count comes from JetStream, and stays.
  await Bun.sleep(1500);
  expect(c.stats().pending).toBe(5);
  release();
  await waitFor("drained", () => c.stats().stored_rows === 50 && c.stats().pending === 0, 10000);
  await c.stop();
});

test("while messages flow, and once caught up, the pending count comes from the deliveries, not from consumer info requests", async () => {
  const sink = new RecordingSink();
  const prefix = `flow${Date.now()}`;
  const infoRequests = bus.nc.subscribe(`$JS.API.CONSUMER.INFO.${STREAM}.${durableName(prefix, "trade")}`);
  let asked = 0;
  void (async () => {
    for await (const _ of infoRequests) asked++;
  })();
  const c = consumer(sink, { durable_prefix: prefix });
  await c.start();
  // Creating the durable, binding to it and the first count (nothing delivered yet) ask JetStream.
  await Bun.sleep(300);
  const atStart = asked;
  expect(atStart).toBeGreaterThan(0);
  // A frame of 10 every 50 ms for 2 s: a delivery in every poll period.
  for (let i = 0; i < 40; i++) {
    await publish(Array.from({ length: 10 }, (_, j) => trade(i * 10 + j)));
    await Bun.sleep(50);
  }
  await waitFor("drained", () => c.stats().stored_rows === 400, 10000);
  await Bun.sleep(1500);
  expect(c.stats().pending).toBe(0);
  expect(asked).toBe(atStart);
  const info = await bus.jsm.consumers.info(STREAM, durableName(prefix, "trade"));
  expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
  infoRequests.unsubscribe();
  await c.stop();
});

test("a consumer whose type gets no messages asks JetStream for its count once, then waits for deliveries", async () => {
  const prefix = `idle${Date.now()}`;
  const infoRequests = bus.nc.subscribe(`$JS.API.CONSUMER.INFO.${STREAM}.${durableName(prefix, "orderbook")}`);
  let asked = 0;
  void (async () => {
    for await (const _ of infoRequests) asked++;
  })();
  const c = consumer(new RecordingSink(), { durable_prefix: prefix }, undefined, 1, "orderbook");
  await c.start();
  await Bun.sleep(300);
  const atStart = asked;
  await Bun.sleep(2500);
  expect(asked).toBe(atStart);
  expect(c.stats().pending).toBe(0);
  infoRequests.unsubscribe();
  await c.stop();
});

test("a retryable insert failure is retried in place without redelivery or loss", async () => {
  const sink = new RecordingSink();
  let failures = 0;
  sink.before = () => {
    if (failures++ < 3) throw new Error("connect ECONNREFUSED");
  };
  const c = consumer(sink);
  const from = logged.length;
  await c.start();
  await publish(Array.from({ length: 12 }, (_, i) => trade(i)));
  await waitFor("insert after retries", () => sink.tradeIds().length === 12, 10000);
  expect(sink.tradeIds()).toEqual(ids(0, 12));
  expect(c.stats()).toMatchObject({ insert_errors: 3, dead_lettered: 0, stored_rows: 12, state: "running" });
  // Each failure is logged with its cause, not only counted.
  const retries = logged.slice(from).filter((l) => l.msg === "ClickHouse insert failed; retrying");
  expect(retries.map((l) => [l.level, l.err?.message])).toEqual(Array.from({ length: 3 }, () => [40, "connect ECONNREFUSED"]));
  await c.stop();
});

test("a permanently refused batch dead-letters only the messages that fail on their own", async () => {
  const sink = new RecordingSink();
  sink.before = (records) => {
    const i = records.findIndex((r) => (r as ReturnType<typeof trade>).trade_id === "1013");
    if (i >= 0) throw new InvalidRecordError(i, "refused by test");
  };
  const c = consumer(sink, { durable_prefix: "refused" });
  const from = logged.length;
  await c.start();
  // Frames of 10: [0..9], [10..19], [20..24]; the frame holding trade 13 is refused.
  await publish(Array.from({ length: 25 }, (_, i) => trade(i)));
  await waitFor("split inserts", () => c.stats().dead_lettered === 1 && sink.tradeIds().length === 15, 10000);
  await c.stop();
  expect(sink.tradeIds().sort()).toEqual([...ids(0, 10), ...ids(20, 5)].sort());
  const refusals = logged.slice(from).filter((l) => l.msg.startsWith("ClickHouse refused an insert for good"));
  // The frame's batch, then trade 13's message alone.
  expect(refusals.map((l) => [l.level, l.err?.message.includes("refused by test")])).toEqual([
    [50, true],
    [50, true],
  ]);
  const dead = await deadLetters();
  expect(dead.map((m) => m.header.get(DEAD_LETTER_HEADERS.subject))).toEqual(["trade.binance.spot.BTC-USDT"]);
  expect(dead[0]!.header.get(DEAD_LETTER_HEADERS.reason)).toContain("refused by test");
  const info = await bus.jsm.consumers.info(STREAM, durableName("refused", "trade"));
  expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
});

test("nats-server restarting mid-stream loses nothing that was acknowledged", async () => {
  const sink = new RecordingSink();
  // Messages the server delivered to a pull request that died with it come back after
  // ack_wait; keep it short so that redelivery falls inside the test's deadline.
  const c = consumer(sink, { ack_wait_ms: 2000 });
  await c.start();
  const p = new JetStreamPublisher({
    js: jetstream(bus.nc),
    type: "trade",
    settings: { ...config.nats.publish, frame_max_records: 10 },
    retry_initial_ms: 20,
    retry_max_ms: 200,
    ack_timeout_ms: 1000,
  });
  await p.publish(Array.from({ length: 40 }, (_, i) => trade(i)));
  await p.flush();
  await bus.server.restart();
  await p.publish(Array.from({ length: 40 }, (_, i) => trade(40 + i)));
  await p.flush(20_000);
  await waitFor("all 80 records stored", () => new Set(sink.tradeIds()).size === 80, 20_000);
  expect([...new Set(sink.tradeIds())].sort()).toEqual(ids(0, 80));
  await c.stop();
}, 30_000);
