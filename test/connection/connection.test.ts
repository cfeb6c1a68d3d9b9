import { afterAll, beforeAll, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { BucketPoller } from "../../src/venues/connection/bucket-poller.ts";
import { RestClient } from "../../src/venues/connection/rest-client.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { waitFor } from "../support/wait.ts";

let sim: Simulator;
beforeAll(async () => {
  // Pings every second: a pong a second stays inside the spot limit beside the engine's requests.
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50, ping_interval_ms: 1000 });
});
afterAll(async () => {
  expect(sim.violations.rules()).toEqual({});
  await sim.stop();
});

test("the bucket poller fetches each closed bucket once, however often it is woken", async () => {
  const rest = new RestClient({ base_url: `${sim.url}/binance_derivatives`, limits: getVenue("binance_derivatives").rest_limits, timeout_ms: 5000 });
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

test("a failed poll is tried again within its bucket; a refused one (4xx) is not", async () => {
  const answers = new Map<string, number[]>([["/flaky", [503, 200]], ["/wrong", [400, 200]]]);
  const seen: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      seen.push(path);
      const status = answers.get(path)?.shift() ?? 500;
      return new Response(status === 200 ? "[]" : "no", { status });
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  const rest = new RestClient({ base_url: base, limits: getVenue("binance_derivatives").rest_limits, timeout_ms: 5000 });
  const bodies: string[] = [];
  const errors: string[] = [];
  const poller = new BucketPoller({
    period_ms: 300_000,
    delay_ms: 0,
    retry_ms: 20,
    tasks: [{ key: "flaky", url: `${base}/flaky` }, { key: "wrong", url: `${base}/wrong` }],
    rest,
    onBody: (t, body) => bodies.push(`${t.key} ${body}`),
    onError: (t, e) => errors.push(`${t.key} ${e}`),
  });
  try {
    await poller.poll(1_700_000_100_000);
    expect(bodies).toEqual(["flaky []"]);
    expect(errors.sort()).toEqual(["flaky 503 no", "wrong 400 no"]);
    expect(seen.sort()).toEqual(["/flaky", "/flaky", "/wrong"]);
  } finally {
    await poller.stop();
    server.stop(true);
  }
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

test("no test of this file broke a venue REST rule (weight, Retry-After, ban)", () => {
  const rest = Object.entries(sim.violations.rules()).filter(([rule]) => rule.startsWith("rest_"));
  expect(rest).toEqual([]);
});
