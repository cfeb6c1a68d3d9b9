import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { ManagedNats } from "../../src/supervisor/nats-process.ts";
import { NATS_BINARY } from "../support/nats.ts";
import { waitFor } from "../support/wait.ts";

const store_dir = mkdtempSync(join(tmpdir(), "spectra-managed-nats-"));
afterAll(() => rmSync(store_dir, { recursive: true, force: true }));

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

test("a nats-server that dies is started again on its port with its store, also after a failed start; stop ends it for good", async () => {
  const lines: { msg: string; exit?: string; err?: unknown }[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as { msg: string }) });
  const started: number[] = [];
  const nats = await ManagedNats.start({ binary: NATS_BINARY, host: "127.0.0.1", port: 0, store_dir }, { initial_ms: 300, max_ms: 1000 }, log, (s) => started.push(s.pid));
  const url = nats.url;
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  const jsm = await jetstreamManager(nc, { timeout: 500 });
  // The client reconnects on its own; the stream is there again once it has.
  const kept = async () => (await jsm.streams.info("KEEP").catch(() => null))?.config.name === "KEEP";
  try {
    await jsm.streams.add({ name: "KEEP", subjects: ["keep.>"] });
    const first = nats.pid;
    process.kill(first, "SIGKILL");
    await waitFor("a restart", () => nats.restarts === 1, 10000);
    expect(nats.url).toBe(url);
    expect(nats.pid).not.toBe(first);
    expect(lines.find((l) => l.msg.startsWith("embedded nats-server exited unexpectedly"))?.exit).toBe("signal SIGKILL");
    await waitFor("the stream, kept in the store, through the reconnected client", kept, 10000);

    // Killed again while another process takes its port: the start fails and is tried again.
    const second = nats.pid;
    process.kill(second, "SIGKILL");
    await waitFor("the killed server gone", () => gone(second), 5000);
    const port = Number(new URL(url.replace("nats:", "http:")).port);
    const blocker = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    await waitFor("a failed start", () => lines.some((l) => l.msg.startsWith("embedded nats-server did not start again")), 10000);
    blocker.stop(true);
    await waitFor("the second restart", () => nats.restarts === 2, 10000);
    expect(started).toEqual([first, second, nats.pid]);
    await waitFor("the stream after the second restart", kept, 10000);
  } finally {
    await nc.close();
  }
  const last = nats.pid;
  await nats.stop();
  expect(gone(last)).toBe(true);
  expect(nats.restarts).toBe(2);
});
