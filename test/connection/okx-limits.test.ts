import { afterAll, beforeAll, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { splitConnectLimit } from "../../src/venues/connection/connect-share.ts";
import type { VenueErrorEvent } from "../../src/venues/connection/venue-connection.ts";
import type { IngestStats } from "../../src/venues/ingest.ts";
import type { OkxConnection } from "../../src/venues/okx/connection.ts";
import { OKX_MAX_REQUEST_BYTES } from "../../src/venues/okx/limits.ts";
import { okxRequestFrames, OKX_CREDENTIAL_ENV } from "../../src/venues/okx/requests.ts";
import { runnerFor } from "./support.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The engine's OKX connection inside OKX's limits, against the strict simulator: it keeps a
 * connection with flowing data alive past the idle limit by pinging, logs in before a book
 * channel that needs it, reports an error event once per incident, and reconnects rather than
 * pass 480 requests an hour on a connection.
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50, idle_ms: 500 });
});
afterAll(() => sim.stop());

function statsSink(): { stats: IngestStats; events: VenueErrorEvent[] } {
  const events: VenueErrorEvent[] = [];
  return { events, stats: { messagesIn() {}, reconnect() {}, error() {}, venueError: (e) => events.push(e) } };
}

const okxSpot = () => configWith(replayVenueOverrides(sim)).venues.okx_spot;
/** Pings well inside the simulator's 500 ms idle limit. */
const TUNING = { backoff: { initial_ms: 10, max_ms: 50 }, okx_ping_idle_ms: 200 };

test("subscribe requests are cut at 64 KB, as few as fit, args in order", () => {
  const args = Array.from({ length: 4000 }, (_, i) => ({ channel: "books", instId: `COIN${i}-USDT` }));
  const frames = okxRequestFrames("subscribe", args);
  const parsed = frames.map((f) => (JSON.parse(f) as { op: string; args: unknown[] }).args);
  expect(frames.length).toBeGreaterThan(1);
  for (const f of frames) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(OKX_MAX_REQUEST_BYTES);
  // Each frame is full: the next frame's first arg would not have fit.
  for (let i = 0; i + 1 < frames.length; i++) {
    expect(Buffer.byteLength(frames[i] ?? "") + 1 + Buffer.byteLength(JSON.stringify(parsed[i + 1]?.[0]))).toBeGreaterThan(OKX_MAX_REQUEST_BYTES);
  }
  expect(parsed.flat()).toEqual(args);
  expect(okxRequestFrames("unsubscribe", args.slice(0, 2))).toEqual([`{"op":"unsubscribe","args":[${JSON.stringify(args[0])},${JSON.stringify(args[1])}]}`]);
});

test("threads of one venue family share its connect limit: together never more than 3 a second", () => {
  for (const [threads, max, window_ms] of [
    [1, 3, 1000],
    [2, 1, 1000],
    [3, 1, 1000],
    [4, 1, 1334],
    [10, 1, 3334],
  ] as const) {
    const l = splitConnectLimit({ family: "okx", max: 3, window_ms: 1000 }, threads);
    expect([l.max, l.window_ms]).toEqual([max, window_ms]);
    expect((threads * l.max * 1000) / l.window_ms).toBeLessThanOrEqual(3);
  }
});

test("a connection whose data flows but which sends nothing pings before OKX's idle limit, and is not closed", async () => {
  const before = sim.violations.total;
  const { runner, records } = runnerFor(sim, "okx_spot", { tuning: TUNING });
  await runner.start();
  try {
    // Trades spanning three of the simulator's 500 ms idle limits, on the first connection.
    const span = (): number => {
      const recv = records.filter((r) => r.data_type === "trade").map((r) => r.recv_ts_ms);
      return recv.length === 0 ? 0 : Math.max(...recv) - Math.min(...recv);
    };
    await waitFor("1.5 s of trades", () => span() >= 1500, 10_000);
    expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
    expect(runner.connection?.reconnects).toBe(0);
  } finally {
    await runner.stop();
  }
  expect(sim.violations.total).toBe(before);
});

test("books-l2-tbt without credentials: OKX's 60011 for each book is counted, the first of the incident marked for the log with what happens next", async () => {
  const before = sim.violations.rules().okx_login_required ?? 0;
  const { stats, events } = statsSink();
  const { runner, records } = runnerFor(sim, "okx_spot", { config: { ...okxSpot(), book_channel: "books-l2-tbt" }, stats, tuning: TUNING });
  await runner.start();
  try {
    await waitFor("an error event per book", () => events.length === sim.symbols.okx_spot.length, 10_000);
    expect(events.map((e) => [e.code, e.first])).toEqual(sim.symbols.okx_spot.map((_, i) => ["60011", i === 0]));
    expect(events[0]?.next).toContain("OKX_API_KEY");
    await waitFor("trades still flow", () => records.some((r) => r.data_type === "trade"), 10_000);
    expect(records.some((r) => r.data_type === "orderbook")).toBe(false);
  } finally {
    await runner.stop();
  }
  expect(sim.violations.rules().okx_login_required).toBe(before + sim.symbols.okx_spot.length);
});

test("books-l2-tbt with credentials: the engine logs in first, then subscribes, OKX refuses nothing and books flow", async () => {
  const saved = OKX_CREDENTIAL_ENV.map((k) => process.env[k]);
  OKX_CREDENTIAL_ENV.forEach((k, i) => (process.env[k] = `test-${i}`));
  const before = sim.violations.total;
  const { stats, events } = statsSink();
  const { runner, records } = runnerFor(sim, "okx_spot", { config: { ...okxSpot(), book_channel: "books-l2-tbt" }, stats, tuning: TUNING });
  try {
    await runner.start();
    await waitFor("trades and books", () => records.some((r) => r.data_type === "trade") && records.some((r) => r.data_type === "orderbook"), 10_000);
    const conn = runner.connection as OkxConnection;
    // subscribe (public channels), login, subscribe (books-l2-tbt)
    await waitFor("three requests", () => conn.requestsLeft === 477, 5000);
    expect(events).toEqual([]);
  } finally {
    await runner.stop();
    OKX_CREDENTIAL_ENV.forEach((k, i) => {
      const v = saved[i];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    });
  }
  expect(sim.violations.total).toBe(before);
});

test("a book resubscription round that would pass 480 requests an hour reconnects instead: logged once, the new connection has a fresh budget", async () => {
  const before = sim.violations.total;
  const { stats, events } = statsSink();
  const tuning = { ...TUNING, okx_resubscribe_interval_ms: 0 };
  const { runner, records } = runnerFor(sim, "okx_spot", { tuning, stats });
  await runner.start();
  try {
    await waitFor("first trade", () => records.some((r) => r.data_type === "trade"), 10_000);
    const conn = runner.connection as OkxConnection;
    const native = sim.symbols.okx_spot[0] ?? "";
    const [base = "", quote = ""] = native.split("-");
    const inst = { native, base, quote, market_type: "spot" as const, symbol: native };
    // The symbol dropped and listed again, one request each (unsubscribe, subscribe), until at
    // most one request of the hour is left. (Resubscribing one book over and over cannot spend
    // the budget: its rounds back off, connection/resync-loops.ts.)
    while (conn.requestsLeft > 1) {
      runner.changeSymbols([], [native]);
      runner.changeSymbols([inst], []);
    }
    expect(events).toEqual([]);
    // The reconnect below must not share a second with this file's earlier connects: OKX allows
    // 3 connection requests a second per IP, counted over every runner of the file.
    await Bun.sleep(1000);
    // A round costs 2 (unsubscribe + subscribe): the budget cannot pay for it.
    conn.resubscribeBooks([native]);
    await waitFor("the round refused by the budget", () => events.length > 0, 5000);
    expect(events.map((e) => [e.code, e.first])).toEqual([["request_budget", true]]);
    expect(events[0]?.next).toContain("reconnecting");
    await waitFor("reconnect gap", () => records.some((r) => r.data_type === "gap" && r.cause === "reconnect"), 10_000);
    await waitFor("fresh budget", () => conn.requestsLeft === 479, 5000);
  } finally {
    await runner.stop();
  }
  expect(sim.violations.total).toBe(before);
}, 30_000);

test("every engine connection in this file stayed inside OKX's rules", () => {
  const rules = sim.violations.rules();
  delete rules.okx_login_required;
  expect(rules).toEqual({});
});
