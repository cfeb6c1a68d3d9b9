import { expect, test } from "bun:test";
import { jetstream } from "@nats-io/jetstream";
import { ensureConsumer } from "../../src/bus/durable-consumer.ts";
import { JetStreamPublisher } from "../../src/bus/publisher.ts";
import { configWith } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { NatsMonitor } from "../../src/supervisor/nats-monitor.ts";
import { trade } from "../bus/sample-records.ts";
import { natsForTests } from "../support/nats.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The supervisor's pending counts (src/supervisor/nats-monitor.ts): it reads them from JetStream
 * only for the types it is given, those no consumer of its process counts (role collect); where
 * the process stores, the consumers write the count, and the monitor leaves it alone. Real
 * nats-server.
 */

const config = configWith();
const bus = natsForTests(config.nats);

test("the monitor counts a durable's unacknowledged messages for the types it is given, and only for those", async () => {
  await ensureConsumer(bus.jsm, config.nats.stream.name, "trade", config.nats.consumer);
  const publisher = new JetStreamPublisher({ js: jetstream(bus.nc), type: "trade", settings: { ...config.nats.publish, frame_max_records: 10 } });
  await publisher.publish(Array.from({ length: 30 }, (_, i) => trade(i)));
  await publisher.flush();

  const log = createLogger("silent");
  const collecting = new Counters(counterNames());
  const storing = new Counters(counterNames());
  const collector = await NatsMonitor.connect([bus.server.url], config.nats, collecting, log, ["trade"]);
  const storer = await NatsMonitor.connect([bus.server.url], config.nats, storing, log, []);
  try {
    await waitFor("the collector's count of the trade durable", () => collecting.read("type.trade.consumer_pending") === 3, 5000);
    await Bun.sleep(1500);
    expect(storing.read("type.trade.consumer_pending")).toBe(0);
    expect(collecting.read("type.orderbook.consumer_pending")).toBe(0);
  } finally {
    await collector.close();
    await storer.close();
  }
});
