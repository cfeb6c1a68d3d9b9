import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  NatsBinaryMissingError,
  NatsPortInUseError,
  startEmbeddedNats,
} from "../../src/bus/embedded-nats.ts";
import { NATS_BINARY, processEnviron, startTestNats } from "../support/nats.ts";

const dirs: string[] = [];
function tempStore(): string {
  const dir = mkdtempSync(join(tmpdir(), "spectra-embedded-nats-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test("port 0 starts a JetStream server on a free port that accepts clients, and stop ends the process", async () => {
  const server = await startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port: 0, store_dir: tempStore() });
  expect(server.port).toBeGreaterThan(0);
  expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
  const nc = await connect({ servers: server.url });
  const info = await (await jetstreamManager(nc)).getAccountInfo();
  expect(info.streams).toBe(0);
  await nc.close();
  await server.stop();
  await server.exited;
  expect(() => process.kill(server.pid, 0)).toThrow();
});

test.skipIf(process.platform !== "linux")("max_procs runs nats-server's Go runtime on that many cores (GOMAXPROCS); 0 leaves the environment's", async () => {
  const one = await startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port: 0, store_dir: tempStore(), max_procs: 1 });
  try {
    expect(processEnviron(one.pid)).toContain("GOMAXPROCS=1");
  } finally {
    await one.stop();
  }
  const all = await startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port: 0, store_dir: tempStore(), max_procs: 0 });
  try {
    const expected = process.env.GOMAXPROCS === undefined ? [] : [`GOMAXPROCS=${process.env.GOMAXPROCS}`];
    expect(processEnviron(all.pid).filter((e) => e.startsWith("GOMAXPROCS="))).toEqual(expected);
  } finally {
    await all.stop();
  }
});

test("a missing binary fails with the install command in the message", async () => {
  const start = startEmbeddedNats({ binary: "nats-server-does-not-exist", host: "127.0.0.1", port: 0, store_dir: tempStore() });
  await expect(start).rejects.toBeInstanceOf(NatsBinaryMissingError);
  await expect(start).rejects.toThrow("apt-get update && apt-get install -y nats-server");
  await expect(start).rejects.toThrow("nats.servers");
});

test("a taken port fails naming host:port", async () => {
  const first = await startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port: 0, store_dir: tempStore() });
  try {
    const second = startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port: first.port, store_dir: tempStore() });
    await expect(second).rejects.toBeInstanceOf(NatsPortInUseError);
    await expect(second).rejects.toThrow(`127.0.0.1:${first.port}`);
  } finally {
    await first.stop();
  }
});

test("restart keeps the JetStream store and the port", async () => {
  const nats = await startTestNats();
  try {
    let nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.add({ name: "KEEP", subjects: ["keep.>"] });
    await nc.close();
    await nats.restart();
    nc = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(nc)).streams.info("KEEP");
    expect(info.config.subjects).toEqual(["keep.>"]);
    await nc.close();
  } finally {
    await nats.stop();
  }
});
