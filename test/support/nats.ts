import { afterAll, beforeAll, beforeEach } from "bun:test";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedNats, type EmbeddedNats } from "../../src/bus/embedded-nats.ts";
import { ensureDeadLetterStream, ensureStream } from "../../src/bus/stream.ts";
import type { Config } from "../../src/config/schema.ts";
import { waitFor } from "./wait.ts";

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

/** The environment a process runs with, as Linux shows it (`/proc/<pid>/environ`). */
export function processEnviron(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
}

/** The pid of the nats-server whose JetStream store is `store_dir` (Linux /proc). */
export function natsServerPid(store_dir: string): number {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "nats-server") continue;
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(store_dir)) return Number(pid);
    } catch {
      // The process ended while it was being read.
    }
  }
  throw new Error(`no nats-server with store ${store_dir}`);
}

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

/** One node of a test cluster: `kill()` is `kill -9`, `up()` starts it again on its ports and store. */
export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly pid: number | null;
  kill(): Promise<void>;
  up(): Promise<void>;
}

export interface TestNatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL. */
  readonly servers: readonly string[];
  stop(): Promise<void>;
}

/** A TCP port free now on 127.0.0.1 (a cluster's route ports must be known before the nodes start). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Waits until the cluster has elected its JetStream meta leader and answers JetStream requests. */
async function jetStreamReady(servers: readonly string[]): Promise<void> {
  const nc = await connect({ servers: [...servers], maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  try {
    await waitFor("the cluster's JetStream to answer", async () => {
      try {
        await jetstreamManager(nc, { timeout: 1000 });
        return true;
      } catch {
        return false;
      }
    }, 30_000, 200);
  } finally {
    await nc.close();
  }
}

/**
 * `size` nats-server processes forming one JetStream cluster on loopback, each with its own
 * store, routes to every other node, and a server name (JetStream clustering needs one). The
 * first `started` nodes start now (the rest with `up()`), and the cluster is awaited only when
 * they are a quorum: fewer leave it without a JetStream meta leader, as a cluster still forming.
 */
export async function startTestNatsCluster(size = 3, started = size): Promise<TestNatsCluster> {
  const root = mkdtempSync(join(tmpdir(), "spectra-nats-cluster-"));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`).join(",");
  const nodes = ports.map(({ client, route }, i) => {
    const name = `n${i + 1}`;
    const options = {
      binary: NATS_BINARY,
      host: "127.0.0.1",
      port: client,
      store_dir: join(root, name),
      start_timeout_ms: 20_000,
      extra_args: ["--server_name", name, "--cluster_name", "spectra-test", "--cluster", `nats://127.0.0.1:${route}`, "--routes", routes],
    };
    let server: EmbeddedNats | null = null;
    return {
      name,
      url: `nats://127.0.0.1:${client}`,
      get pid() {
        return server?.pid ?? null;
      },
      async up() {
        if (server === null) server = await startEmbeddedNats(options);
      },
      async kill() {
        if (server === null) return;
        process.kill(server.pid, "SIGKILL");
        await server.exited;
        server = null;
      },
      async stop() {
        await server?.stop();
        server = null;
      },
    };
  });
  await Promise.all(nodes.slice(0, started).map((n) => n.up()));
  if (started > size / 2) await jetStreamReady(nodes.map((n) => n.url));
  return {
    nodes,
    servers: nodes.map((n) => n.url),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(root, { recursive: true, force: true });
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
