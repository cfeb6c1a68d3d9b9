import { afterAll, beforeAll, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { BucketPoller } from "../../src/venues/connection/bucket-poller.ts";
import { RestClient } from "../../src/venues/connection/rest-client.ts";
import { waitFor } from "../support/wait.ts";

let sim: Simulator;
beforeAll(async () => {
  // Pings every second: a pong a second stays inside the spot limit beside the engine's requests.
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50, binance_ping_interval_ms: 1000 });
});
afterAll(async () => {
  expect(sim.violations.rules()).toEqual({});
  await sim.stop();
});

test("the bucket poller fetches each closed bucket once, however often it is woken", async () => {
  const rest = new RestClient({ timeout_ms: 5000, default_retry_after_ms: 1000 });
  const bodies: string[] = [];
  const poller = new BucketPoller({
    period_ms: 300_000,
    delay_ms: 5_000,
    tasks: [{ key: "SUSHIUSDT/lsr", url: `${sim.url}/binance_derivatives/futures/data/globalLongShortAccountRatio?symbol=SUSHIUSDT&period=5m&limit=1` }],
    rest,
    onBody: (_t, body) => bodies.push(body),
    onError: (_t, e) => bodies.push(`error ${e}`),
  });
  const bucket = 1_700_000_100_000 - (1_700_000_100_000 % 300_000);
  const before = sim.rest.binance_derivatives;
  await poller.poll(bucket + 4_999); // previous bucket's window
  await poller.poll(bucket + 5_000);
  await poller.poll(bucket + 60_000);
  await poller.poll(bucket + 299_999);
  await poller.poll(bucket + 305_000);
  expect(sim.rest.binance_derivatives - before).toBe(3);
  expect(poller.last_boundary_ms).toBe(bucket + 300_000);
  expect(bodies.every((b) => b.startsWith('[{"symbol":"SUSHIUSDT"'))).toBe(true);
});

test("a 429 with Retry-After blocks every request until the deadline", async () => {
  let now = 1_000_000;
  const rest = new RestClient({ timeout_ms: 5000, default_retry_after_ms: 60_000, now: () => now });
  sim.rateLimit("binance_derivatives", 1, 7);
  const url = `${sim.url}/binance_derivatives/fapi/v1/openInterest?symbol=SUSHIUSDT`;
  const first = await rest.get(url);
  expect(first.ok).toBe(false);
  expect(first.status).toBe(429);
  expect(rest.blocked_until_ms).toBe(1_000_000 + 7_000);
  now += 7_000;
  const second = await rest.get(url);
  expect(second.ok).toBe(true);
  expect(rest.requests).toBe(2);
});

test("Bun's WebSocket client answers the Binance server's pings by itself", async () => {
  const ws = new WebSocket(`${sim.url.replace("http", "ws")}/binance_spot/stream?streams=nknusdt@depth@100ms`);
  const before = sim.pongs.count;
  try {
    await waitFor("pongs", () => sim.pongs.count >= before + 2, 5000);
  } finally {
    ws.close();
  }
});
