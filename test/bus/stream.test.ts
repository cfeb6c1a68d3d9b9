import { expect, test } from "bun:test";
import { jetstream } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { ensureStream, StreamConfigError } from "../../src/bus/stream.ts";
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
