import { afterEach, expect, test } from "bun:test";
import { Worker } from "node:worker_threads";
import { configWith } from "../../src/config/load.ts";
import type { BatchInit } from "../../src/supervisor/messages.ts";

/**
 * The values log lines mask are kept per thread (src/log/redact.ts): every worker thread
 * registers the config's and the environment's secrets before it logs anything.
 */

const PLANTED = { nats_password: "nats-pw-PLANTED-91", okx_secret: "okx-secret-PLANTED-92" };

afterEach(() => {
  delete process.env.OKX_API_SECRET;
});

test("a worker thread masks the config's secrets and the environment's in what it logs", async () => {
  process.env.OKX_API_SECRET = PLANTED.okx_secret;
  const config = configWith({ nats: { user: "spectra", password: PLANTED.nats_password } });
  const init = { kind: "batch", id: "batch:probe:0", config, lanes: [], nats_servers: null, store: false, publish: false } as unknown as BatchInit;
  const text = `nats said ${PLANTED.nats_password}; okx login ${JSON.stringify({ secret: PLANTED.okx_secret })}`;
  const worker = new Worker(new URL("./secret-probe.worker.ts", import.meta.url), { workerData: { init, text } });
  try {
    const shown = await new Promise<string>((resolve, reject) => {
      worker.on("message", (m: { type: string; shown?: string }) => m.type === "probe" && resolve(m.shown ?? ""));
      worker.on("error", reject);
    });
    expect(shown).toBe('nats said ***; okx login {"secret":"***"}');
  } finally {
    await worker.terminate();
  }
});
