import { afterEach, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { OKX_REQUESTS_PER_HOUR } from "../../src/venues/okx/limits.ts";
import { DERIBIT_MAX_CONNECTIONS } from "../../src/venues/deribit/limits.ts";
import { waitFor } from "../support/wait.ts";

/**
 * One test per OKX and Deribit rule: the simulator enforces it the way the venue does and
 * counts the violation under the rule's name (GET /simulator/stats).
 */

interface Client {
  readonly ws: WebSocket;
  readonly messages: string[];
  state: "connecting" | "open" | "closed";
  close_code: number;
}

function connect(sim: Simulator, path: string): Client {
  const ws = new WebSocket(`${sim.url.replace("http", "ws")}${path}`);
  const c: Client = { ws, messages: [], state: "connecting", close_code: 0 };
  ws.onopen = () => (c.state = "open");
  ws.onmessage = (e) => c.messages.push(String(e.data));
  ws.onclose = (e) => {
    c.state = "closed";
    c.close_code = e.code;
  };
  return c;
}

async function opened(c: Client): Promise<void> {
  await waitFor("connection open", () => c.state === "open", 5000);
}

const errorsOf = (c: Client): { code: string; msg: string }[] =>
  c.messages.filter((m) => m.startsWith('{"event":"error"')).map((m) => JSON.parse(m) as { code: string; msg: string });

let sim: Simulator | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.close();
  await sim?.stop();
  sim = undefined;
});

async function start(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  sim = await startSimulator({ rate: 50, ...options });
  return sim;
}

function client(s: Simulator, path: string): Client {
  const c = connect(s, path);
  clients.push(c);
  return c;
}

test("OKX refuses a 4th connection request within a second from one IP (okx_connect_rate)", async () => {
  const s = await start();
  const first = [client(s, "/okx_spot/ws/v5/public"), client(s, "/okx_derivatives/ws/v5/public"), client(s, "/okx_spot/ws/v5/public")];
  for (const c of first) await opened(c);
  const fourth = client(s, "/okx_spot/ws/v5/public");
  await waitFor("4th connection refused", () => fourth.state === "closed", 5000);
  expect(s.violations.rules()).toEqual({ okx_connect_rate: 1 });
  expect(s.connections("okx_spot") + s.connections("okx_derivatives")).toBe(3);
});

test("the connect_limit option shrinks OKX's connection limit, which okx_spot and okx_derivatives share", async () => {
  const s = await start({ connect_limit: { max: 1, window_ms: 60_000 } });
  const first = client(s, "/okx_spot/ws/v5/public");
  await opened(first);
  const second = client(s, "/okx_derivatives/ws/v5/public");
  await waitFor("2nd connection refused", () => second.state === "closed", 5000);
  expect(s.violations.venues()).toEqual({ okx_derivatives: { okx_connect_rate: 1 } });
  expect(s.connects).toEqual({ binance_spot: 0, binance_derivatives: 0, okx_spot: 1, okx_derivatives: 0, deribit_derivatives: 0 });
});

test("OKX answers the 481st subscribe/unsubscribe/login request of an hour with error 60014 (okx_request_rate)", async () => {
  const s = await start();
  const c = client(s, "/okx_spot/ws/v5/public");
  await opened(c);
  const sub = (i: number) => JSON.stringify({ op: i % 2 === 0 ? "subscribe" : "unsubscribe", args: [{ channel: "trades", instId: "BTC-USDT" }] });
  for (let i = 0; i < OKX_REQUESTS_PER_HOUR; i++) c.ws.send(sub(i));
  await waitFor("480 acks", () => c.messages.filter((m) => m.startsWith('{"event":"subscribe"') || m.startsWith('{"event":"unsubscribe"')).length === OKX_REQUESTS_PER_HOUR, 10_000);
  expect(errorsOf(c)).toEqual([]);
  c.ws.send(sub(0));
  await waitFor("error", () => errorsOf(c).length === 1, 5000);
  expect(errorsOf(c)[0]?.code).toBe("60014");
  // Pings are not requests: they still get their pong.
  c.ws.send("ping");
  await waitFor("pong", () => c.messages.includes("pong"), 5000);
  expect(s.violations.rules()).toEqual({ okx_request_rate: 1 });
});

test("OKX refuses a subscribe request over 64 KB with error 60012 (okx_request_size)", async () => {
  const s = await start();
  const c = client(s, "/okx_spot/ws/v5/public");
  await opened(c);
  const args = Array.from({ length: 1500 }, (_, i) => ({ channel: "trades", instId: `SYMBOL${i}-USDT` }));
  const text = JSON.stringify({ op: "subscribe", args });
  expect(Buffer.byteLength(text)).toBeGreaterThan(64 * 1024);
  c.ws.send(text);
  await waitFor("error", () => errorsOf(c).length === 1, 5000);
  expect(errorsOf(c)[0]?.code).toBe("60012");
  // Nothing of the refused request was subscribed.
  expect(c.messages.filter((m) => m.startsWith('{"event":"subscribe"'))).toEqual([]);
  expect(s.violations.rules()).toEqual({ okx_request_size: 1 });
});

test("OKX closes a connection whose client sent nothing for the idle limit, and keeps one that pings (okx_idle)", async () => {
  const s = await start({ idle_ms: 400 });
  const quiet = client(s, "/okx_spot/ws/v5/public");
  const pinging = client(s, "/okx_derivatives/ws/v5/public");
  await opened(quiet);
  await opened(pinging);
  quiet.ws.send(JSON.stringify({ op: "subscribe", args: [{ channel: "trades", instId: "BTC-USDT" }] }));
  const timer = setInterval(() => pinging.ws.send("ping"), 100);
  try {
    await waitFor("quiet connection closed", () => quiet.state === "closed", 5000);
    expect(quiet.close_code).toBe(4004);
    expect(pinging.state).toBe("open");
    expect(s.violations.venues()).toEqual({ okx_spot: { okx_idle: 1 } });
  } finally {
    clearInterval(timer);
  }
});

test("OKX answers an unauthenticated books-l2-tbt or books50-l2-tbt subscribe with 60011 'Please log in', and acks it after login (okx_login_required)", async () => {
  const s = await start();
  const c = client(s, "/okx_spot/ws/v5/public");
  await opened(c);
  c.ws.send(JSON.stringify({ op: "subscribe", args: [{ channel: "books-l2-tbt", instId: "BTC-USDT" }, { channel: "books50-l2-tbt", instId: "BTC-USDT" }, { channel: "books", instId: "BTC-USDT" }] }));
  await waitFor("two errors and one ack", () => errorsOf(c).length === 2 && c.messages.some((m) => m.startsWith('{"event":"subscribe"')), 5000);
  expect(errorsOf(c).map((e) => [e.code, e.msg])).toEqual([
    ["60011", "Please log in"],
    ["60011", "Please log in"],
  ]);
  c.ws.send(JSON.stringify({ op: "login", args: [{ apiKey: "k", passphrase: "p", timestamp: "1", sign: "s" }] }));
  c.ws.send(JSON.stringify({ op: "subscribe", args: [{ channel: "books-l2-tbt", instId: "BTC-USDT" }] }));
  await waitFor("l2-tbt ack", () => c.messages.some((m) => m.startsWith('{"event":"subscribe"') && m.includes("books-l2-tbt")), 5000);
  expect(c.messages.some((m) => m.startsWith('{"event":"login","code":"0"'))).toBe(true);
  expect(s.violations.rules()).toEqual({ okx_login_required: 2 });
});

test("under subscribe_refused, OKX answers each arg of the refused instId with 60018 and acks the others; Deribit leaves its channel out of the subscribe result", async () => {
  const s = await start();
  s.fault({ venue: "okx_spot", kind: "subscribe_refused", symbol: "ETH-USDT", seconds: 30 });
  s.fault({ venue: "deribit_derivatives", kind: "subscribe_refused", symbol: "ETH", seconds: 30 });
  const okx = client(s, "/okx_spot/ws/v5/public");
  const deribit = client(s, "/deribit_derivatives/ws/api/v2");
  await opened(okx);
  await opened(deribit);
  const args = ["BTC-USDT", "ETH-USDT"].flatMap((instId) => [{ channel: "books", instId }, { channel: "trades", instId }]);
  okx.ws.send(JSON.stringify({ op: "subscribe", args }));
  deribit.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "public/subscribe", params: { channels: ["deribit_volatility_index.btc_usd", "deribit_volatility_index.eth_usd"] } }));
  const acks = () => okx.messages.filter((m) => m.startsWith('{"event":"subscribe"')).map((m) => (JSON.parse(m) as { arg: { channel: string; instId: string } }).arg);
  await waitFor("two errors and two acks", () => errorsOf(okx).length === 2 && acks().length === 2, 5000);
  expect(errorsOf(okx).map((e) => [e.code, e.msg])).toEqual([
    ["60018", "Wrong URL or channel:books,instId:ETH-USDT doesn't exist. Please use the correct URL, channel and parameters referring to API document."],
    ["60018", "Wrong URL or channel:trades,instId:ETH-USDT doesn't exist. Please use the correct URL, channel and parameters referring to API document."],
  ]);
  expect(acks()).toEqual([{ channel: "books", instId: "BTC-USDT" }, { channel: "trades", instId: "BTC-USDT" }]);
  await waitFor("the subscribe result", () => deribit.messages.some((m) => m.includes('"id":7')), 5000);
  expect(JSON.parse(deribit.messages.find((m) => m.includes('"id":7')) ?? "{}")).toMatchObject({ id: 7, result: ["deribit_volatility_index.btc_usd"] });
  // Counted as the faults' effects, not as violations: the client broke no rule.
  expect(s.faultEffects("okx_spot", "subscribe_refused")).toBe(2);
  expect(s.faultEffects("deribit_derivatives", "subscribe_refused")).toBe(1);
  expect(s.violations.rules()).toEqual({});
});

test(`Deribit refuses a connection beyond ${DERIBIT_MAX_CONNECTIONS} open at once (deribit_connection_cap)`, async () => {
  const s = await start();
  const open = Array.from({ length: DERIBIT_MAX_CONNECTIONS }, () => client(s, "/deribit_derivatives/ws/api/v2"));
  for (const c of open) await opened(c);
  const extra = client(s, "/deribit_derivatives/ws/api/v2");
  await waitFor("33rd refused", () => extra.state === "closed", 5000);
  expect(s.connections("deribit_derivatives")).toBe(DERIBIT_MAX_CONNECTIONS);
  expect(s.violations.rules()).toEqual({ deribit_connection_cap: 1 });
  // Once one closes, a new one is admitted.
  open[0]?.ws.close();
  await waitFor("one closed", () => s.connections("deribit_derivatives") === DERIBIT_MAX_CONNECTIONS - 1, 5000);
  const again = client(s, "/deribit_derivatives/ws/api/v2");
  await opened(again);
  expect(s.violations.rules()).toEqual({ deribit_connection_cap: 1 });
});

test("POST /simulator/faults sets a fault that GET /simulator/stats lists; bad requests get 400 with a message", async () => {
  const s = await start();
  const post = (body: string) => fetch(`${s.url}/simulator/faults`, { method: "POST", body, headers: { "content-type": "application/json" } });
  const ok = await post(JSON.stringify({ venue: "okx_spot", kind: "checksum", seconds: 30 }));
  expect(ok.status).toBe(200);
  const stats = (await (await fetch(`${s.url}/simulator/stats`)).json()) as { faults: unknown[] };
  expect(stats.faults).toEqual([{ venue: "okx_spot", kind: "checksum", seconds_left: 30 }]);
  const bad: [string, string][] = [
    ["not json", "not JSON"],
    [JSON.stringify({ venue: "kraken", kind: "silence", seconds: 1 }), '"venue" must be one of'],
    [JSON.stringify({ venue: "okx_spot", kind: "explode", seconds: 1 }), '"kind" must be one of'],
    [JSON.stringify({ venue: "okx_spot", kind: "silence", seconds: -1 }), '"seconds" must be a number'],
    [JSON.stringify({ venue: "binance_spot", kind: "checksum", seconds: 1 }), "binance_spot book updates carry no checksum"],
    [JSON.stringify({ venue: "deribit_derivatives", kind: "sequence_gap", seconds: 1 }), "deribit_derivatives serves no order book"],
    [JSON.stringify({ venue: "okx_spot", kind: "subscribe_refused", seconds: 1 }), '"subscribe_refused" needs "symbol"'],
    [JSON.stringify({ venue: "okx_spot", kind: "silence", seconds: 1, symbol: "BTC-USDT" }), '"symbol" goes with "subscribe_refused" only'],
    [JSON.stringify({ venue: "binance_spot", kind: "subscribe_refused", seconds: 1, symbol: "BTCUSDT" }), "binance_spot's simulated server has no subscription refusal to show"],
  ];
  for (const [body, message] of bad) {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain(message);
  }
  expect((await fetch(`${s.url}/simulator/faults`)).status).toBe(405);
  expect(() => s.fault({ venue: "deribit_derivatives", kind: "checksum", seconds: 1 })).toThrow("no checksum");
  expect(s.faults()).toEqual([{ venue: "okx_spot", kind: "checksum", seconds_left: 30 }]);
});
