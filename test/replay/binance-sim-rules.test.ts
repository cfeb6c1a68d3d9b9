import { afterAll, beforeAll, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The simulator enforces Binance's WebSocket rules the way the venue does, one test per rule
 * (venues/binance/sim-protocol.ts), and speaks its subscribe protocol.
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50, ping_interval_ms: 0 });
});
afterAll(() => sim.stop());

const ws = (s: Simulator, path: string): string => `${s.url.replace("http", "ws")}${path}`;
const violations = (s: Simulator, venue: string, rule: string): number => s.violations.venues()[venue]?.[rule] ?? 0;

interface Client {
  readonly socket: WebSocket;
  readonly frames: string[];
  readonly closed: { code: number; reason: string } | undefined;
  readonly opened: Promise<boolean>;
}

function connect(url: string): Client {
  const socket = new WebSocket(url);
  const frames: string[] = [];
  const client = { socket, frames, closed: undefined as { code: number; reason: string } | undefined, opened: Promise.resolve(false) };
  client.opened = new Promise((resolve) => {
    socket.onopen = () => resolve(true);
    socket.onerror = () => resolve(false);
  });
  socket.onmessage = (e) => frames.push(String(e.data));
  socket.onclose = (e) => {
    client.closed = { code: e.code, reason: e.reason };
  };
  return client;
}

test("SUBSCRIBE, LIST_SUBSCRIPTIONS and UNSUBSCRIBE on /ws: raw payloads, replies by id", async () => {
  // The first symbol the simulator serves: NKNUSDT on the recordings, BTCUSDT on the generator.
  const first = (sim.symbols.binance_spot[0] ?? "").toLowerCase();
  const c = connect(ws(sim, "/binance_spot/ws"));
  try {
    expect(await c.opened).toBe(true);
    c.socket.send(JSON.stringify({ method: "SUBSCRIBE", params: [`${first}@depth@100ms`], id: 7 }));
    await waitFor("a depth event", () => c.frames.some((f) => f.startsWith('{"e":"depthUpdate"')), 5000);
    expect(c.frames[0]).toBe('{"result":null,"id":7}');
    c.socket.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 8 }));
    await waitFor("the list", () => c.frames.includes(`{"result":["${first}@depth@100ms"],"id":8}`), 5000);
    c.socket.send(JSON.stringify({ method: "UNSUBSCRIBE", params: [`${first}@depth@100ms`], id: 9 }));
    await waitFor("the unsubscribe reply", () => c.frames.includes('{"result":null,"id":9}'), 5000);
    const at = c.frames.indexOf('{"result":null,"id":9}');
    // Another symbol's book from the same feed: once ten of its events came, any left of the first would have too.
    const other = (sim.symbols.binance_spot.find((s) => s.toLowerCase() !== first) ?? "").toLowerCase();
    c.socket.send(JSON.stringify({ method: "SUBSCRIBE", params: [`${other}@depth@100ms`], id: 10 }));
    await waitFor("ten events of the other book", () => c.frames.filter((f) => f.includes(`"s":"${other.toUpperCase()}"`)).length >= 10, 5000);
    expect(c.frames.slice(at + 1).filter((f) => f.includes(`"s":"${first.toUpperCase()}"`))).toEqual([]);
    expect(sim.violations.rules()).toEqual({});
  } finally {
    c.socket.close();
  }
});

test("more incoming messages a second than spot allows (5) closes the connection with 1008", async () => {
  const c = connect(ws(sim, "/binance_spot/stream"));
  expect(await c.opened).toBe(true);
  for (let id = 1; id <= 6; id++) c.socket.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id }));
  await waitFor("the close", () => c.closed !== undefined, 5000);
  expect(c.closed).toEqual({ code: 1008, reason: "Too many requests" });
  expect(c.frames.length).toBe(5);
  expect(violations(sim, "binance_spot", "binance_ws_message_rate")).toBe(1);
});

test("USDⓈ-M delivers nothing on the legacy path or the wrong route, and everything on the right one", async () => {
  const sym = (sim.symbols.binance_derivatives[0] ?? "").toLowerCase();
  const legacy = connect(ws(sim, `/binance_derivatives/stream?streams=${sym}@aggtrade/${sym}@depth@100ms`));
  const wrong = connect(ws(sim, `/binance_derivatives/public/stream?streams=${sym}@aggTrade`));
  const right = connect(ws(sim, `/binance_derivatives/market/stream?streams=${sym}@aggTrade`));
  try {
    await waitFor("ten trades on /market", () => right.frames.length >= 10, 10_000);
    expect(right.frames.every((f) => f.startsWith(`{"stream":"${sym}@aggTrade","data":{"e":"aggTrade"`))).toBe(true);
    expect(legacy.frames).toEqual([]);
    expect(wrong.frames).toEqual([]);
    expect(violations(sim, "binance_derivatives", "binance_legacy_path")).toBe(2);
    expect(violations(sim, "binance_derivatives", "binance_wrong_route")).toBe(1);
  } finally {
    for (const c of [legacy, wrong, right]) c.socket.close();
  }
});

test("more than 1024 streams on one connection is refused in the URL and closed by SUBSCRIBE", async () => {
  const names = Array.from({ length: 1025 }, (_, i) => `s${i}usdt@trade`);
  const url = connect(ws(sim, `/binance_spot/stream?streams=${names.join("/")}`));
  expect(await url.opened).toBe(false);
  expect(violations(sim, "binance_spot", "binance_stream_cap")).toBe(1);
  const req = connect(ws(sim, "/binance_spot/ws"));
  expect(await req.opened).toBe(true);
  req.socket.send(JSON.stringify({ method: "SUBSCRIBE", params: names, id: 1 }));
  await waitFor("the close", () => req.closed !== undefined, 5000);
  expect(req.closed?.code).toBe(1008);
  expect(violations(sim, "binance_spot", "binance_stream_cap")).toBe(2);
});

test("connection attempts past the limit per venue are refused", async () => {
  const own = await startSimulator({ rate: 500, ping_interval_ms: 0, connect_limit: { max: 3, window_ms: 60_000 } });
  const clients: Client[] = [];
  try {
    for (let i = 0; i < 3; i++) clients.push(connect(ws(own, "/binance_spot/ws")));
    expect(await Promise.all(clients.map((c) => c.opened))).toEqual([true, true, true]);
    // The limit is per venue: USDⓈ-M still has its own attempts.
    const other = connect(ws(own, "/binance_derivatives/market/ws"));
    clients.push(other);
    expect(await other.opened).toBe(true);
    const fourth = connect(ws(own, "/binance_spot/ws"));
    clients.push(fourth);
    expect(await fourth.opened).toBe(false);
    expect(own.violations.rules()).toEqual({ binance_connect_rate: 1 });
    expect(own.connects).toEqual({ binance_spot: 3, binance_derivatives: 1, okx_spot: 0, okx_derivatives: 0, deribit_derivatives: 0 });
  } finally {
    for (const c of clients) c.socket.close();
    await own.stop();
  }
});

test("a connection's lifetime ends with serverShutdown, then the close; one kept open past the notice counts", async () => {
  const own = await startSimulator({ rate: 500, ping_interval_ms: 0, lifetime_ms: 600 });
  const c = connect(ws(own, "/binance_spot/ws"));
  try {
    const t0 = performance.now();
    expect(await c.opened).toBe(true);
    await waitFor("the close", () => c.closed !== undefined, 5000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(550);
    expect(c.frames.length).toBe(1);
    expect(JSON.parse(c.frames[0] ?? "{}").e).toBe("serverShutdown");
    expect(c.closed).toEqual({ code: 1001, reason: "Connection lifetime reached" });
    expect(own.violations.rules()).toEqual({ binance_lifetime: 1 });
  } finally {
    await own.stop();
  }
});

test("a silence fault holds Binance's replies and serverShutdown as it holds data; replies resume when it ends", async () => {
  // Notice at 1 s, close at 2 s; the silence covers the notice and ends 0.6 s before the close.
  const own = await startSimulator({ rate: 500, ping_interval_ms: 0, lifetime_ms: 2000 });
  const first = (own.symbols.binance_spot[0] ?? "").toLowerCase();
  const c = connect(ws(own, "/binance_spot/ws"));
  try {
    expect(await c.opened).toBe(true);
    own.fault({ venue: "binance_spot", kind: "silence", seconds: 1.4 });
    c.socket.send(JSON.stringify({ method: "SUBSCRIBE", params: [`${first}@depth@100ms`], id: 1 }));
    c.socket.send(JSON.stringify({ method: "PING", id: 2 }));
    await waitFor("the silence ends", () => own.faults().length === 0, 5000);
    const held = c.frames.length;
    c.socket.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 3 }));
    await waitFor("the list reply", () => c.frames.includes(`{"result":["${first}@depth@100ms"],"id":3}`), 5000);
    await waitFor("the close", () => c.closed !== undefined, 5000);
    expect(held).toBe(0);
    // Neither the SUBSCRIBE reply, the error for PING nor the shutdown notice comes later.
    expect(c.frames.filter((f) => !f.startsWith('{"e":"depthUpdate"'))).toEqual([`{"result":["${first}@depth@100ms"],"id":3}`]);
    expect(own.faultEffects("binance_spot", "silence")).toBeGreaterThanOrEqual(3);
    expect(c.closed).toEqual({ code: 1001, reason: "Connection lifetime reached" });
    // The client never got the notice, so keeping the connection to the end breaks no rule.
    expect(own.violations.rules()).toEqual({});
  } finally {
    await own.stop();
  }
});
