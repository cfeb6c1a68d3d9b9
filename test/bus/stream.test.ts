import { expect, test } from "bun:test";
import { jetstream } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { ensureDeadLetterStream, ensureStream, StreamConfigError } from "../../src/bus/stream.ts";
import { configWith } from "../../src/config/load.ts";
import { natsForTests } from "../support/nats.ts";

const bus = natsForTests();

function settings(name: string, over: object = {}) {
  return configWith({ nats: { stream: { name, ...over } } }).nats.stream;
}

test("creates the stream binding every data type and gaps with the configured limits", async () => {
  const result = await ensureStream(bus.jsm, settings("S_CREATE"));
  expect(result.action).toBe("created");
  const cfg = (await bus.jsm.streams.info("S_CREATE")).config;
  expect(cfg.subjects).toEqual([
    "trade.>",
    "orderbook.>",
    "funding_rate.>",
    "open_interest.>",
    "liquidation.>",
    "lsr_top_position.>",
    "lsr_all_account.>",
    "volatility_index.>",
      "orderbook_delta.>",
    "gap.>",
  ]);
  expect(cfg.retention).toBe("limits");
  expect(cfg.storage).toBe("file");
  expect(cfg.max_age).toBe(nanos(86_400_000));
  expect(cfg.max_bytes).toBe(10_737_418_240);
  expect(cfg.max_msgs).toBe(-1);
  expect(cfg.duplicate_window).toBe(nanos(120_000));
  expect(cfg.num_replicas).toBe(1);
});

test("a second ensure with the same settings changes nothing", async () => {
  await ensureStream(bus.jsm, settings("S_SAME"));
  expect((await ensureStream(bus.jsm, settings("S_SAME"))).action).toBe("unchanged");
});

test("updating an existing stream keeps its stored messages", async () => {
  await ensureStream(bus.jsm, settings("S_UPDATE"));
  const js = jetstream(bus.nc);
  await js.publish("trade.binance.spot.BTC-USDT", new Uint8Array([1]));
  await js.publish("gap.okx.perpetual.BTC-USDT", new Uint8Array([2]));
  const result = await ensureStream(bus.jsm, settings("S_UPDATE", { max_msgs: 1000, duplicate_window_s: 30 }));
  expect(result.action).toBe("updated");
  const info = await bus.jsm.streams.info("S_UPDATE");
  expect(info.config.max_msgs).toBe(1000);
  expect(info.config.duplicate_window).toBe(nanos(30_000));
  expect(info.state.messages).toBe(2);
  expect((await bus.jsm.streams.getMessage("S_UPDATE", { seq: 2 }))?.subject).toBe("gap.okx.perpetual.BTC-USDT");
});

test("a storage change that cannot be made in place fails clearly and leaves the data alone", async () => {
  await ensureStream(bus.jsm, settings("S_FIXED"));
  await jetstream(bus.nc).publish("trade.okx.spot.ETH-USDT", new Uint8Array([1]));
  const attempt = ensureStream(bus.jsm, settings("S_FIXED", { storage: "memory" }));
  await expect(attempt).rejects.toBeInstanceOf(StreamConfigError);
  await expect(attempt).rejects.toThrow("nats.stream.storage");
  const info = await bus.jsm.streams.info("S_FIXED");
  expect(info.config.storage).toBe("file");
  expect(info.state.messages).toBe(1);
});

test("the dead-letter stream binds the dead-letter subject, keeps messages for its max age and follows the data stream's storage", async () => {
  const nats = configWith({ nats: { stream: { name: "S_DATA", duplicate_window_s: 60 }, consumer: { dead_letter_stream: "S_DEAD", dead_letter_max_age_s: 3600 } } }).nats;
  await ensureStream(bus.jsm, nats.stream);
  expect((await ensureDeadLetterStream(bus.jsm, nats)).action).toBe("created");
  const cfg = (await bus.jsm.streams.info("S_DEAD")).config;
  expect([cfg.subjects, cfg.retention, cfg.storage, cfg.max_age, cfg.max_bytes, cfg.duplicate_window]).toEqual([
    ["spectra.dead_letter"],
    "limits",
    "file",
    nanos(3_600_000),
    -1,
    nanos(60_000),
  ]);
  await jetstream(bus.nc).publish("spectra.dead_letter", new Uint8Array([7]));
  const again = configWith({ nats: { stream: { name: "S_DATA" }, consumer: { dead_letter_stream: "S_DEAD", dead_letter_max_age_s: 0 } } }).nats;
  expect((await ensureDeadLetterStream(bus.jsm, again)).action).toBe("updated");
  const info = await bus.jsm.streams.info("S_DEAD");
  expect([info.config.max_age, info.state.messages]).toEqual([0, 1]);
});

test("a dead-letter stream named like the data stream is refused", async () => {
  const nats = configWith({ nats: { stream: { name: "S_ONE" }, consumer: { dead_letter_stream: "S_ONE" } } }).nats;
  await expect(ensureDeadLetterStream(bus.jsm, nats)).rejects.toThrow("nats.consumer.dead_letter_stream 'S_ONE' is the data stream's name");
});
