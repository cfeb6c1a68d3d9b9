import { describe, expect, test } from "bun:test";
import { jetstream } from "@nats-io/jetstream";
import { JetStreamPublisher } from "../../src/bus/publisher.ts";
import { configWith } from "../../src/config/load.ts";
import type { DataType, Exchange, MarketRecord, RecordType } from "../../src/records/types.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import { lastKeptInClickHouse, lastKeptInStream } from "../../src/supervisor/engine-down.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { natsForTests } from "../support/nats.ts";
import { ONE_OF_EACH, trade } from "../bus/sample-records.ts";

const bus = natsForTests(configWith().nats);
const COLLECTED = new Map<Exchange, Set<DataType>>([
  ["binance", new Set<DataType>(["trade", "funding_rate"])],
  ["okx", new Set<DataType>(["orderbook"])],
]);

async function publish(type: RecordType, records: MarketRecord[], mode: "frames" | "json" = "frames"): Promise<void> {
  const p = new JetStreamPublisher({ js: jetstream(bus.nc), type, settings: { ...configWith().nats.publish, mode } });
  await p.publish(records);
  await p.flush();
}

describe("where engine_down gaps start", () => {
  test("JetStream: the newest record of the last message on each subject of a collected kind, frames or JSON", async () => {
    await publish("trade", [trade(1), trade(2), trade(3, "ETH-USDT")]);
    // A later frame on the subject holds the newer records.
    await publish("trade", [trade(7), trade(5)]);
    await publish("funding_rate", ONE_OF_EACH.filter((r) => r.data_type === "funding_rate"), "json");
    // Collected on another exchange only, and not collected at all: left out.
    await publish("trade", [{ ...trade(9), exchange: "okx" }]);
    await publish("volatility_index", ONE_OF_EACH.filter((r) => r.data_type === "volatility_index"));
    await publish("orderbook", ONE_OF_EACH.filter((r) => r.data_type === "orderbook"));
    const funding = ONE_OF_EACH.find((r) => r.data_type === "funding_rate");
    const book = ONE_OF_EACH.find((r) => r.data_type === "orderbook");
    if (funding === undefined || book === undefined) throw new Error("sample records changed");
    const kept = await lastKeptInStream(bus.jsm, "MARKET_DATA", COLLECTED);
    expect(Object.fromEntries(kept)).toEqual({
      "trade.binance.spot.BTC-USDT": { ts_ms: trade(7).ts_ms, recv_ts_ms: trade(7).recv_ts_ms },
      "trade.binance.spot.ETH-USDT": { ts_ms: trade(3).ts_ms, recv_ts_ms: trade(3).recv_ts_ms },
      "funding_rate.binance.perpetual.ETH-USDT": { ts_ms: funding.ts_ms, recv_ts_ms: funding.recv_ts_ms },
      "orderbook.okx.perpetual.BTC-USDT": { ts_ms: book.ts_ms, recv_ts_ms: book.recv_ts_ms },
    });
  });

  test("ClickHouse: max(timestamp) per collected kind over rows received since the crashed run started", async () => {
    const client = testClickHouse();
    const hot = uniqueDatabase("down_hot");
    await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("down_cold") });
    const rows: [string, string, number, number][] = [
      ["binance", "BTC-USDT", 5000, 5010],
      ["binance", "BTC-USDT", 6000, 6010],
      // Received before the crashed run started: another run's.
      ["binance", "OLD-USDT", 9000, 900],
      ["okx", "BTC-USDT", 7000, 7010],
    ];
    const t0 = Math.floor(Date.now() / 60_000) * 60_000;
    const values = rows
      .map(([exchange, symbol, ts, recv]) => `(fromUnixTimestamp64Milli(toInt64(${t0 + ts}), 'UTC'), '${exchange}', 'spot', '${symbol}', '${ts}', 1, 1, 'buy', false, fromUnixTimestamp64Milli(toInt64(${t0 + ts}), 'UTC'), fromUnixTimestamp64Milli(toInt64(${t0 + recv}), 'UTC'))`)
      .join(", ");
    await client.command({ query: `INSERT INTO ${hot}.trades (timestamp, exchange, market_type, symbol, trade_id, price, quantity, side, is_maker, trade_time, received_at) VALUES ${values}` });
    const kept = await lastKeptInClickHouse(client, hot, COLLECTED, t0 + 1000);
    expect(Object.fromEntries(kept)).toEqual({ "trade.binance.spot.BTC-USDT": { ts_ms: t0 + 6000, recv_ts_ms: t0 + 6010 } });
  });
});
