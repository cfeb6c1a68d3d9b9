import { afterAll, beforeAll, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { BucketPoller } from "../../src/venues/connection/bucket-poller.ts";
import { RestClient } from "../../src/venues/connection/rest-client.ts";
import { BinanceConnection } from "../../src/venues/binance/connection.ts";
import { DEFAULT_TUNING } from "../../src/venues/connection/venue-connection.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { runnerFor } from "./support.ts";
import { waitFor } from "../support/wait.ts";

let sim: Simulator;
beforeAll(async () => {
  // 500 frames/s: a paced stream, so the rollover window sees a few seconds of the recordings.
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50, binance_ping_interval_ms: 50 });
});
afterAll(() => sim.stop());

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

test("Binance streams are sharded over connections by the per-connection limit", () => {
  const config = { enabled: true, symbols: ["A", "B", "C"], workers: 1, data_types: ["trade", "orderbook"] as const, ws_url: "ws://x", rest_url: "http://x", poll_period: "5m" as const };
  const conn = new BinanceConnection({
    venue: "binance_derivatives",
    config: { ...config, data_types: [...config.data_types] },
    symbols: config.symbols,
    instruments: new Map(),
    tuning: { ...DEFAULT_TUNING, binance_max_streams: 4 },
    onFrame: () => {},
    onGap: () => {},
    onDisconnect: () => {},
    onStale: () => {},
  });
  expect(conn.urls).toEqual([
    "ws://x/stream?streams=a@depth@100ms/a@aggTrade/b@depth@100ms/b@aggTrade",
    "ws://x/stream?streams=c@depth@100ms/c@aggTrade",
  ]);
});

test("the Binance 24 h rollover overlaps connections: no gap, no repeated trade, no book resync", async () => {
  const { runner, records } = runnerFor(sim, "binance_derivatives", {
    tuning: { backoff: { initial_ms: 10, max_ms: 50 }, binance_max_lifetime_ms: 300, binance_overlap_ms: 2000 },
  });
  await runner.start();
  try {
    await waitFor("live books", () => (runner.normalizer?.bookHealth().every((b) => b.state === "live") ?? false) && sim.connections("binance_derivatives") >= 1, 10_000);
    const resyncs = runner.normalizer?.bookHealth().map((b) => b.resyncs);
    const start = records.length;
    // Three lifetimes pass: at least two rollovers.
    const t0 = performance.now();
    await waitFor("rollovers", () => performance.now() - t0 > 1200, 5000);
    const after = records.slice(start);
    expect(after.filter((r) => r.data_type === "gap")).toEqual([]);
    const tradeIds = after.flatMap((r) => (r.data_type === "trade" ? [`${r.symbol}|${r.trade_id}`] : []));
    expect(new Set(tradeIds).size).toBe(tradeIds.length);
    expect(tradeIds.length).toBeGreaterThan(0);
    expect(runner.normalizer?.bookHealth().map((b) => b.resyncs)).toEqual(resyncs);
  } finally {
    await runner.stop();
  }
}, 30_000);

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
