import { afterAll, describe, expect, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { configWith } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { Counters } from "../../src/stats/counters.ts";
import { NatsMonitor } from "../../src/supervisor/nats-monitor.ts";
import { startTestNatsCluster, type TestNatsCluster } from "../support/nats.ts";

/**
 * The start against a cluster still forming, as when containers start together
 * (src/bus/jetstream-ready.ts): one node of three is up, so no JetStream meta leader is elected
 * and the supervisor's stream requests time out; it asks again until `nats.jetstream_wait_ms`.
 * Real Debian nats-server 2.9.10 on loopback.
 */

let cluster: TestNatsCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
});

function natsConfig(servers: readonly string[], jetstream_wait_ms: number, stream: string) {
  return configWith({ nats: { servers: [...servers], jetstream_wait_ms, stream: { name: stream, replicas: 1 }, consumer: { dead_letter_stream: `${stream}_DL`, dead_letter_subject: `spectra.${stream.toLowerCase()}_dead` } } }).nats;
}

describe("waiting for JetStream at start", () => {
  test("a cluster without a meta leader: the start waits, and goes on with the streams once the other nodes join", async () => {
    cluster = await startTestNatsCluster(3, 1);
    const [n1, n2, n3] = cluster.nodes as [TestNatsCluster["nodes"][number], TestNatsCluster["nodes"][number], TestNatsCluster["nodes"][number]];
    const log = createLogger("silent");
    const started = performance.now();

    // Too short a wait: the one attempt times out and the start fails, saying why.
    const refused = await NatsMonitor.connect([n1.url], natsConfig([n1.url], 1000, "WAIT_SHORT"), new Counters(counterNames()), log, []).then(
      () => "connected",
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/^NATS at nats:\/\/127\.0\.0\.1:\d+ could not set up the streams: JetStream did not answer within nats\.jetstream_wait_ms \(1000 ms\): (cannot create stream WAIT_SHORT: )?timeout$/);

    // A long wait: the other two nodes come up meanwhile, a meta leader is elected, the streams are made.
    const pending = NatsMonitor.connect([n1.url], natsConfig([n1.url], 60_000, "WAIT_LONG"), new Counters(counterNames()), log, []);
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    await Bun.sleep(2000);
    expect(settled).toBe(false);
    await Promise.all([n2.up(), n3.up()]);
    const monitor = await pending;
    try {
      expect(performance.now() - started).toBeGreaterThan(2000);
      const nc = await connect({ servers: [n1.url] });
      const jsm = await jetstreamManager(nc);
      const names = (await jsm.streams.names().next()).sort();
      await nc.close();
      expect(names).toEqual(["WAIT_LONG", "WAIT_LONG_DL"]);
    } finally {
      await monitor.close();
    }
  }, 90_000);
});
