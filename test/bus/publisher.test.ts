import { expect, test } from "bun:test";
import { jetstream, type StoredMsg } from "@nats-io/jetstream";
import type { Msg } from "@nats-io/transport-node";
import { ringBytes } from "../codec/sample-records.ts";
import { frameMsgId, JetStreamPublisher, type PublishSettings } from "../../src/bus/publisher.ts";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import { configWith } from "../../src/config/load.ts";
import { naturalKey } from "../../src/records/natural-key.ts";
import type { MarketRecord, RecordType } from "../../src/records/types.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { natsForTests } from "../support/nats.ts";
import { ONE_OF_EACH, trade } from "./sample-records.ts";
import { waitFor } from "../support/wait.ts";

const STREAM = "MARKET_DATA";
const bus = natsForTests(configWith().nats);

function publisher(type: RecordType, over: Partial<PublishSettings> = {}): JetStreamPublisher {
  const settings = { ...configWith().nats.publish, ...over };
  return new JetStreamPublisher({ js: jetstream(bus.nc), type, settings, retry_initial_ms: 20, retry_max_ms: 200, ack_timeout_ms: 1000 });
}

function frameRecords(body: Uint8Array): MarketRecord[] {
  const frame = new RecordCodec().tryDecodeFrame(body);
  if (!frame.ok) throw new Error(`frame does not decode: ${frame.error}`);
  return frame.value;
}

async function stored(): Promise<StoredMsg[]> {
  const { state } = await bus.jsm.streams.info(STREAM);
  const out: StoredMsg[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const msg = await bus.jsm.streams.getMessage(STREAM, { seq });
    if (msg !== null) out.push(msg);
  }
  return out;
}


test("publishes every record type on exactly the subject the subject builder names", async () => {
  const seen: string[] = [];
  const sub = bus.nc.subscribe(">", { callback: (_err: Error | null, msg: Msg) => {
    if (!msg.subject.startsWith("$") && !msg.subject.startsWith("_INBOX")) seen.push(msg.subject);
  } });
  await bus.nc.flush();
  for (const record of ONE_OF_EACH) {
    const p = publisher(record.data_type);
    await p.publish([record]);
    await p.flush();
  }
  await waitFor("published subjects", () => seen.length >= ONE_OF_EACH.length, 5000);
  sub.unsubscribe();
  expect(seen).toEqual([
    "trade.binance.spot.BTC-USDT",
    "orderbook.okx.perpetual.BTC-USDT",
    "funding_rate.binance.perpetual.ETH-USDT",
    "open_interest.okx.perpetual.ETH-USDT",
    "liquidation.binance.perpetual.BTC-USDT",
    "lsr_top_position.binance.perpetual.BTC-USDT",
    "lsr_all_account.okx.perpetual.BTC-USDT",
    "volatility_index.deribit.options.BTC",
    "gap.okx.spot.ETH-USDT",
  ]);
  expect((await bus.jsm.streams.info(STREAM)).state.messages).toBe(9);
});

/** The two ways in: decoded records, and records as their ring bytes (the batch worker's frames path). */
const VIA = {
  records: (p: JetStreamPublisher, records: MarketRecord[]) => p.publish(records),
  "ring bytes": (p: JetStreamPublisher, records: MarketRecord[]) => p.publishRaw(ringBytes(records)),
} as const;

for (const [via, publish] of Object.entries(VIA)) {
  test(`from ${via}: frames group records per subject, carry Nats-Msg-Id and content type, and decode to the same records`, async () => {
    const btc = [trade(1), trade(2), trade(3)];
    const eth = [trade(4, "ETH-USDT"), trade(5, "ETH-USDT")];
    const p = publisher("trade");
    await publish(p, [btc[0]!, eth[0]!, btc[1]!, eth[1]!, btc[2]!]);
    await p.flush();
    const msgs = await stored();
    expect(msgs.map((m) => m.subject)).toEqual(["trade.binance.spot.BTC-USDT", "trade.binance.spot.ETH-USDT"]);
    expect(msgs.map((m) => m.header.get("Content-Type"))).toEqual(["application/msgpack", "application/msgpack"]);
    expect(msgs.map((m) => m.header.get("Nats-Msg-Id"))).toEqual([frameMsgId(btc), frameMsgId(eth)]);
    expect(frameRecords(msgs[0]!.data)).toEqual(btc);
    expect(frameRecords(msgs[1]!.data)).toEqual(eth);
    expect(p.stats()).toMatchObject({ published_records: 5, published_frames: 2, publish_errors: 0, in_flight: 0 });
  });

  test(`from ${via}: a frame closes at frame_max_records and at frame_max_bytes`, async () => {
    const records = Array.from({ length: 10 }, (_, i) => trade(i));
    const byCount = publisher("trade", { frame_max_records: 4 });
    await publish(byCount, records);
    await byCount.flush();
    let msgs = await stored();
    expect(msgs.map((m) => frameRecords(m.data).length)).toEqual([4, 4, 2]);

    // Other records: the duplicate window outlives the purge and would drop a repeated frame.
    await bus.jsm.streams.purge(STREAM);
    const others = Array.from({ length: 10 }, (_, i) => trade(100 + i));
    const bySize = publisher("trade", { frame_max_bytes: 600 });
    await publish(bySize, others);
    await bySize.flush();
    msgs = await stored();
    for (const m of msgs) expect(m.data.byteLength).toBeLessThanOrEqual(600);
    expect(msgs.flatMap((m) => frameRecords(m.data))).toEqual(others);
    expect(msgs.length).toBeGreaterThan(1);
  });
}

test("acked records and failed attempts land in the shared counters of the type", async () => {
  const counters = new Counters(counterNames());
  const settings = configWith().nats.publish;
  const p = new JetStreamPublisher({ js: jetstream(bus.nc), type: "trade", settings, counters });
  await p.publish([trade(1), trade(2), trade(3, "ETH-USDT")]);
  await p.flush();
  expect(counters.read("type.trade.published")).toBe(3);
  expect(counters.read("type.trade.publish_errors")).toBe(0);
  expect(counters.read("type.orderbook.published")).toBe(0);
});

test("re-publishing the same frame within the duplicate window is stored once, and its records are counted as duplicate publishes", async () => {
  const records = [trade(1), trade(2)];
  const counters = new Counters(counterNames());
  const settings = configWith().nats.publish;
  const p = new JetStreamPublisher({ js: jetstream(bus.nc), type: "trade", settings, counters });
  await p.publish(records);
  await p.publish(records);
  // Another record with the first one's natural key (same trade id), a different price: the same frame id.
  const repriced = { ...trade(1), price: "1.50000000" };
  await p.publish([repriced]);
  await p.publish([trade(1)]);
  await p.flush();
  const msgs = await stored();
  expect(msgs.map((m) => frameRecords(m.data))).toEqual([records, [repriced]]);
  expect(p.stats()).toMatchObject({ published_frames: 4, duplicate_frames: 2, duplicate_records: 3 });
  expect(counters.read("type.trade.duplicate_publishes")).toBe(3);
  expect(counters.read("type.trade.published")).toBe(6);
});

test("the in-flight window never exceeds max_in_flight", async () => {
  const p = publisher("trade", { max_in_flight: 4, frame_max_records: 1 });
  await p.publish(Array.from({ length: 300 }, (_, i) => trade(i)));
  expect(p.stats().in_flight).toBeLessThanOrEqual(4);
  await p.flush();
  expect(p.stats()).toMatchObject({ max_in_flight_seen: 4, in_flight: 0, published_records: 300, published_frames: 300 });
  expect((await bus.jsm.streams.info(STREAM)).state.messages).toBe(300);
});

test("json mode sends one JSON record per message with its natural key as Nats-Msg-Id", async () => {
  const records = [trade(1), trade(2)];
  const p = publisher("trade", { mode: "json" });
  await p.publish(records);
  await p.publish(records);
  await p.flush();
  const msgs = await stored();
  expect(msgs.map((m) => m.header.get("Content-Type"))).toEqual(["application/json", "application/json"]);
  expect(msgs.map((m) => m.header.get("Nats-Msg-Id"))).toEqual(records.map(naturalKey));
  expect(msgs.map((m) => m.json())).toEqual(records);
});

test("publishes while nats-server restarts are retried and every record lands in the stream once", async () => {
  const p = publisher("trade", { frame_max_records: 10 });
  await p.publish(Array.from({ length: 50 }, (_, i) => trade(i)));
  await p.flush();
  await bus.server.down();
  const during = p.publish(Array.from({ length: 50 }, (_, i) => trade(50 + i)));
  await waitFor("publishes pending while the server is down", () => p.stats().publish_errors > 0 || p.stats().in_flight > 0, 5000);
  await bus.server.up();
  await during;
  await p.flush(20_000);
  const msgs = await stored();
  const ids = msgs.flatMap((m) => frameRecords(m.data).map((r) => (r as ReturnType<typeof trade>).trade_id));
  // Retries may reorder frames; the invariant is that every record is stored exactly once.
  expect(ids.sort()).toEqual(Array.from({ length: 100 }, (_, i) => String(1000 + i)));
  // A retry the stream answers as a duplicate got in on an earlier attempt: not a duplicate publish.
  expect(p.stats()).toMatchObject({ published_records: 100, in_flight: 0, retrying: 0, duplicate_records: 0 });
}, 30_000);
