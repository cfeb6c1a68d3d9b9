import { afterEach, expect, test } from "bun:test";
import type { Server } from "bun";
import { naturalKey } from "../../src/records/natural-key.ts";
import type { DataType } from "../../src/records/types.ts";
import { startSimulator } from "../../src/replay/simulator.ts";
import { BinanceConnection } from "../../src/venues/binance/connection.ts";
import { BinanceSubscriber, SUBSCRIBE_BATCH } from "../../src/venues/binance/subscriber.ts";
import { CONNECTION_TUNING, type ConnectionContext, type ConnectionIncident, type ConnectionTuning } from "../../src/venues/connection/venue-connection.ts";
import { BINANCE_TUNING, type BinanceTuning } from "../../src/venues/binance/tuning.ts";
import type { WsGap } from "../../src/venues/connection/ws-client.ts";
import type { IngestStats } from "../../src/venues/ingest.ts";
import { runnerFor } from "./support.ts";
import { waitFor } from "../support/wait.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function incidentStats(into: ConnectionIncident[]): IngestStats {
  return { messagesIn() {}, reconnect() {}, error() {}, incident: (i) => into.push(i) };
}

function context(
  ws_url: string,
  tuning: Partial<ConnectionTuning & BinanceTuning>,
  into: { gaps: WsGap[]; incidents: ConnectionIncident[]; frames: string[] },
): ConnectionContext<BinanceTuning> {
  return {
    venue: "binance_spot",
    config: { enabled: true, symbols: ["BTCUSDT"], workers: 1, data_types: ["trade"], ws_url, rest_url: "http://127.0.0.1:1", poll_period: "5m", instruments_refresh_s: 0, max_clock_skew_ms: 1000 },
    symbols: ["BTCUSDT"],
    instruments: new Map(),
    tuning: { ...CONNECTION_TUNING, ...BINANCE_TUNING, backoff: { initial_ms: 10, max_ms: 50 }, ...tuning },
    onFrame: (text) => into.frames.push(text),
    onGap: (gap) => into.gaps.push(gap),
    onDisconnect: () => {},
    onStale: () => {},
    onIncident: (i) => into.incidents.push(i),
  };
}

test("USDⓈ-M streams go to /public (books) and /market (the rest), packed per route under the per-connection cap", () => {
  const data_types: DataType[] = ["trade", "orderbook", "liquidation"];
  const conn = new BinanceConnection({
    ...context("ws://x", { binance_max_streams: 2 }, { gaps: [], incidents: [], frames: [] }),
    venue: "binance_derivatives",
    config: { enabled: true, symbols: ["A", "B", "C"], workers: 1, data_types, ws_url: "ws://x", rest_url: "http://x", poll_period: "5m", instruments_refresh_s: 0, max_clock_skew_ms: 1000 },
    symbols: ["A", "B", "C"],
  });
  expect(conn.layout).toEqual([
    { url: "ws://x/public/stream", streams: ["a@depth@100ms", "b@depth@100ms"] },
    { url: "ws://x/public/stream", streams: ["c@depth@100ms"] },
    { url: "ws://x/market/stream", streams: ["a@aggTrade", "a@forceOrder"] },
    { url: "ws://x/market/stream", streams: ["b@aggTrade", "b@forceOrder"] },
    { url: "ws://x/market/stream", streams: ["c@aggTrade", "c@forceOrder"] },
  ]);
});

for (const venue of ["binance_spot", "binance_derivatives"] as const) {
  test(`${venue}: serverShutdown rollovers are make-before-break: no gap, no duplicate record, no resync, no violation`, async () => {
    // Each connection lives 1.2 s and gets serverShutdown 0.6 s before its close.
    const sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50, ping_interval_ms: 1000, lifetime_ms: 1200 });
    cleanups.push(() => sim.stop());
    const incidents: ConnectionIncident[] = [];
    const { runner, records } = runnerFor(sim, venue, { stats: incidentStats(incidents), tuning: { backoff: { initial_ms: 10, max_ms: 50 }, binance_overlap_ms: 200 } });
    await runner.start();
    cleanups.push(() => runner.stop());
    await waitFor("live books", () => runner.normalizer?.bookHealth().every((b) => b.state === "live") ?? false, 10_000);
    const resyncs = runner.normalizer?.bookHealth().map((b) => b.resyncs);
    const start = records.length;
    const shards = venue === "binance_spot" ? 1 : 2;
    const shutdowns = (): number => incidents.filter((i) => i.kind === "server_shutdown").length;
    const from = shutdowns();
    await waitFor("three rollovers per connection", () => shutdowns() >= from + 3 * shards, 15_000);
    const after = records.slice(start);
    expect(after.filter((r) => r.data_type === "gap")).toEqual([]);
    const keys = after.map(naturalKey);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length - new Set(keys).size).toBe(0);
    expect(after.some((r) => r.data_type === "trade")).toBe(true);
    expect(runner.normalizer?.bookHealth().map((b) => b.resyncs)).toEqual(resyncs);
    // Every old connection was closed by the engine before its lifetime ran out.
    expect(sim.violations.rules()).toEqual({});
    expect(incidents.every((i) => i.kind === "server_shutdown")).toBe(true);
  }, 30_000);
}

test("a successor that cannot connect before the server closes the old connection leaves one reconnect gap per symbol and type", async () => {
  // serverShutdown 300 ms after open, the close at 600 ms; the engine may connect once per 2.2 s.
  const sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50, ping_interval_ms: 1000, lifetime_ms: 600 });
  cleanups.push(() => sim.stop());
  const { runner, records } = runnerFor(sim, "binance_spot", { tuning: { backoff: { initial_ms: 10, max_ms: 50 }, binance_connect_limit: { max: 1, window_ms: 2000 } } });
  await runner.start();
  cleanups.push(() => runner.stop());
  const gaps = () => records.flatMap((r) => (r.data_type === "gap" ? [r] : []));
  await waitFor("the hole's gaps", () => gaps().length >= 2 * sim.symbols.binance_spot.length, 10_000);
  const first = gaps().slice(0, 2 * sim.symbols.binance_spot.length);
  expect(new Set(first.map((g) => `${g.symbol}|${g.data_type_affected}`)).size).toBe(first.length);
  for (const g of first) {
    expect(g.cause).toBe("reconnect");
    // From the old connection's last message to the successor's first: about the 1.6 s it waited.
    expect(g.end_ts_ms - g.start_ts_ms).toBeGreaterThanOrEqual(1000);
  }
  expect(sim.violations.venues().binance_spot?.binance_lifetime).toBeGreaterThanOrEqual(1);
  expect(sim.violations.venues().binance_spot?.binance_connect_rate).toBeUndefined();
}, 30_000);

test("a reconnect storm never passes the connection-attempt limit", async () => {
  const limit = { max: 6, window_ms: 2000 };
  const sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50, ping_interval_ms: 1000, connect_limit: limit });
  cleanups.push(() => sim.stop());
  const { runner } = runnerFor(sim, "binance_derivatives", { tuning: { backoff: { initial_ms: 10, max_ms: 50 }, binance_connect_limit: limit } });
  await runner.start();
  cleanups.push(() => runner.stop());
  await waitFor("both routes connected", () => sim.connections("binance_derivatives") === 2, 10_000);
  // The simulator drops every connection every 50 ms for 3 s.
  const t0 = performance.now();
  const drops = setInterval(() => sim.dropConnections("binance_derivatives"), 50);
  cleanups.push(() => clearInterval(drops));
  await waitFor("3 s of drops", () => performance.now() - t0 >= 3000, 5000);
  clearInterval(drops);
  // Unpaced, a 10-50 ms backoff would reconnect two sockets ~100 times in 3 s; the limiter let
  // through at most 6 per 2.2 s window, the simulator refused none.
  expect(sim.connects.binance_derivatives).toBeGreaterThanOrEqual(limit.max);
  expect(sim.connects.binance_derivatives).toBeLessThanOrEqual(2 * limit.max);
  expect(sim.violations.rules()).toEqual({});
  await waitFor("reconnected after the storm", () => sim.connections("binance_derivatives") === 2, 10_000);
}, 30_000);

/** A Binance-like server that answers SUBSCRIBE, then does what `after` says on each connection. */
function fakeBinance(after: (ws: Bun.ServerWebSocket<{ n: number }>, n: number) => void): { server: Server<{ n: number }>; connects: () => number } {
  let connects = 0;
  const server = Bun.serve<{ n: number }>({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req, { data: { n: ++connects } }) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      message(ws, text) {
        const id = (JSON.parse(String(text)) as { id: number }).id;
        ws.send(JSON.stringify({ result: null, id }));
        after(ws, ws.data.n);
      },
    },
  });
  cleanups.push(() => server.stop(true));
  return { server, connects: () => connects };
}

const trade = (n: number): string => `{"stream":"btcusdt@trade","data":{"e":"trade","E":${n},"s":"BTCUSDT","t":${n},"p":"1","q":"1","T":${n},"m":false}}`;

test("a silent connection is reconnected with one stale gap and one incident per silence", async () => {
  const { server, connects } = fakeBinance((ws, n) => ws.send(trade(n)));
  const into = { gaps: [] as WsGap[], incidents: [] as ConnectionIncident[], frames: [] as string[] };
  const conn = new BinanceConnection(context(`ws://127.0.0.1:${server.port}`, { binance_silence_ms: 300 }, into));
  conn.start();
  cleanups.push(() => conn.stop());
  await waitFor("a stale gap", () => into.gaps.length >= 1, 5000);
  expect(into.gaps[0]?.cause).toBe("stale");
  expect(into.frames.slice(0, 2)).toEqual([trade(1), trade(2)]);
  expect(into.incidents.filter((i) => i.kind === "silent").length).toBe(connects() - 1);
  expect(into.incidents[0]?.next).toContain("stale gap");
});

test("1008 closes are counted once each and reconnects stay paced by the attempt limit", async () => {
  const { server, connects } = fakeBinance((ws) => ws.close(1008, "Too many requests"));
  const into = { gaps: [] as WsGap[], incidents: [] as ConnectionIncident[], frames: [] as string[] };
  const conn = new BinanceConnection(context(`ws://127.0.0.1:${server.port}`, { binance_connect_limit: { max: 4, window_ms: 1000 } }, into));
  const t0 = performance.now();
  conn.start();
  cleanups.push(() => conn.stop());
  await waitFor("five closes", () => into.incidents.length >= 5, 5000);
  // The fifth attempt waited for the first to leave the 1.1 s window.
  expect(performance.now() - t0).toBeGreaterThanOrEqual(1100);
  expect(into.incidents.every((i) => i.kind === "rate_limited" && i.detail === "closed 1008 Too many requests")).toBe(true);
  // Spot's 3 requests a second halve to 1 after the first 1008 (and stay at the floor of 1).
  expect(into.incidents.map((i) => i.next.endsWith("subscribing at 1 requests/s"))).toEqual(into.incidents.map(() => true));
  expect(into.incidents.length).toBeLessThanOrEqual(connects());
});

test("SUBSCRIBE requests go in batches at the venue's limit less the pongs' headroom, halved after a 1008", async () => {
  const streams = Array.from({ length: 4 * SUBSCRIBE_BATCH }, (_, i) => `s${i}usdt@trade`);
  const sent: { at: number; params: string[]; id: number }[] = [];
  let up = 0;
  const t0 = performance.now();
  const sub = new BinanceSubscriber(streams, 5, (text) => sent.push({ at: performance.now() - t0, ...(JSON.parse(text) as { params: string[]; id: number }) }), () => up++);
  cleanups.push(() => sub.stop());
  sub.start();
  // Spot allows 5 incoming messages a second: 3 requests a second, one every 333 ms.
  expect(sent.map((s) => s.params.length)).toEqual([SUBSCRIBE_BATCH]);
  await waitFor("the fourth request", () => sent.length === 4, 3000);
  for (let i = 1; i < 4; i++) expect((sent[i]?.at ?? 0) - (sent[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(333);
  expect(sent[3]?.at).toBeGreaterThanOrEqual(1000);
  expect(sent.flatMap((s) => s.params)).toEqual(streams);
  for (const s of sent.slice(0, 3)) sub.reply(s.id);
  expect([up, sub.subscribed]).toEqual([0, false]);
  sub.reply(sent[3]?.id ?? 0);
  expect([up, sub.subscribed, sub.peak_per_s]).toEqual([1, true, 3]);
  // A new connection after a 1008: one request a second.
  sub.slowDown();
  const t1 = performance.now();
  sent.length = 0;
  sub.start();
  expect(sent.length).toBe(1);
  await waitFor("the second request", () => sent.length === 2, 3000);
  expect((sent[1]?.at ?? 0) + t0 - t1).toBeGreaterThanOrEqual(1000);
});
