import { afterAll, beforeAll, beforeEach } from "bun:test";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedNats, type EmbeddedNats } from "../../src/bus/embedded-nats.ts";
import { ensureDeadLetterStream, ensureStream } from "../../src/bus/stream.ts";
import type { Config } from "../../src/config/schema.ts";

/**
 * A real nats-server per test file, with its own temporary JetStream store.
 * `down()`/`up()` stop and start it on the same port with the same store (messages survive);
 * `restart()` is both; `stop()` ends it and removes the store.
 */
export interface TestNats {
  readonly url: string;
  readonly port: number;
  readonly store_dir: string;
  down(): Promise<void>;
  up(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const NATS_BINARY = process.env.NATS_SERVER_BIN ?? "nats-server";

export async function startTestNats(): Promise<TestNats> {
  const store_dir = mkdtempSync(join(tmpdir(), "spectra-nats-test-"));
  let server: EmbeddedNats | null = await startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port: 0, store_dir });
  const port = server.port;
  const down = async (): Promise<void> => {
    await server?.stop();
    server = null;
  };
  const up = async (): Promise<void> => {
    if (server !== null) return;
    server = await startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port, store_dir });
  };
  return {
    url: server.url,
    port,
    store_dir,
    down,
    up,
    async restart() {
      await down();
      await up();
    },
    async stop() {
      await down();
      rmSync(store_dir, { recursive: true, force: true });
    },
  };
}

export interface TestBus {
  server: TestNats;
  nc: NatsConnection;
  jsm: JetStreamManager;
}

/**
 * A test file's nats-server and client connection, opened in `beforeAll` and closed in
 * `afterAll`. Before each test every stream is deleted (they all bind the same subjects, so only
 * one may exist at a time) and, given `nats`, its data and dead-letter streams are created fresh.
 */
export function natsForTests(nats?: Pick<Config["nats"], "stream" | "consumer">): TestBus {
  const bus = {} as TestBus;
  beforeAll(async () => {
    bus.server = await startTestNats();
    bus.nc = await connect({ servers: bus.server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    bus.jsm = await jetstreamManager(bus.nc);
  });
  afterAll(async () => {
    await bus.nc.close();
    await bus.server.stop();
  });
  beforeEach(async () => {
    for (const name of await bus.jsm.streams.names().next()) await bus.jsm.streams.delete(name);
    if (nats === undefined) return;
    await ensureStream(bus.jsm, nats.stream);
    await ensureDeadLetterStream(bus.jsm, nats);
  });
  return bus;
}
