import { afterEach, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import type { VenueConfig } from "../../src/config/schema.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { RestBudget, scaleLimits, type RestLimitScale } from "../../src/venues/connection/rest-budget.ts";
import { RestClient } from "../../src/venues/connection/rest-client.ts";
import { BookSyncQueue } from "../../src/venues/connection/sync-queue.ts";
import type { IngestRunner } from "../../src/venues/ingest.ts";
import { getVenue } from "../../src/venues/registry.ts";
import type { BookHealth } from "../../src/venues/types.ts";
import { waitFor } from "../support/wait.ts";
import { binanceDepthDiff, binanceExchangeInfo, ingestRunner } from "./support.ts";

/**
 * Book storms through the venue's REST weight budget, against the simulator's generator with
 * many symbols and Binance spot's limit shrunk to 1,000 weight per 2 s window (the engine's
 * budget and the simulator count the same shrunken limit): every depth-1000 snapshot weighs 50,
 * so 60 books need 3,000 weight, several windows' worth.
 */

const SCALE: RestLimitScale = { limit: 1000 / 6000, window: 2000 / 60_000 };
const STORM_BOOKS = 60;

const sims: Simulator[] = [];
const runners: IngestRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function simulator(symbols: number): Promise<Simulator> {
  const sim = await startSimulator({ source: generatorSource(symbols), rate: 400, rest: { scale: { binance_spot: SCALE } } });
  sims.push(sim);
  return sim;
}

/** An ingest runner of binance_spot books on `sim`, drawing on the shared `budget`. */
function bookRunner(sim: Simulator, budget: SharedArrayBuffer, symbols = sim.symbols.binance_spot): IngestRunner {
  const config = { ...configWith(replayVenueOverrides(sim)).venues.binance_spot, symbols, data_types: ["orderbook" as const] };
  const { runner } = ingestRunner("binance_spot", config, { rest: { budget, scale: SCALE } });
  runners.push(runner);
  return runner;
}

function budgetBuffer(): SharedArrayBuffer {
  return new RestBudget(scaleLimits(getVenue("binance_spot").rest_limits.buckets, SCALE)).buffer;
}

function liveBooks(runner: IngestRunner): Set<string> {
  return new Set((runner.normalizer?.bookHealth() ?? []).filter((b) => b.state === "live").map((b) => b.native));
}

test("a start-up storm of 60 books goes live in symbol order under a small budget, with no 429 and nothing past the limit", async () => {
  const sim = await simulator(STORM_BOOKS);
  const symbols = sim.symbols.binance_spot;
  expect(symbols.length).toBe(STORM_BOOKS);
  const runner = bookRunner(sim, budgetBuffer());
  const order: string[] = [];
  let peakWaiting = 0;
  const t0 = performance.now();
  await runner.start();
  await waitFor(
    "every book live",
    () => {
      const live = liveBooks(runner);
      for (const native of symbols) if (live.has(native) && !order.includes(native)) order.push(native);
      peakWaiting = Math.max(peakWaiting, runner.bookSync?.report(runner.normalizer?.bookHealth() ?? []).waiting ?? 0);
      return order.length === STORM_BOOKS;
    },
    60_000,
  );
  const elapsed_ms = performance.now() - t0;
  // Books went live in the order of the symbol list: with three requests on the wire at most,
  // no book overtakes one listed three or more places before it.
  const ranks = order.map((native) => symbols.indexOf(native));
  const overtakes = ranks.filter((rank, i) => ranks.slice(i + 1).some((later) => later < rank - 2));
  expect(overtakes).toEqual([]);
  // Most of the storm waited for the budget: 3,000 weight against 900 a window, a fifth of it at once.
  expect(peakWaiting).toBeGreaterThan(STORM_BOOKS / 2);
  expect(elapsed_ms).toBeGreaterThan(4000);
  expect(runner.rest.rate_limited).toBe(0);
  expect(sim.rest_limits.peaks().binance_spot?.request_weight ?? 0).toBeLessThanOrEqual(1000);
  expect(sim.violations.rules()).toEqual({});
  const report = runner.bookSync?.report(runner.normalizer?.bookHealth() ?? []);
  expect(report).toEqual({ waiting: 0, failures: [] });
}, 90_000);

test("a lost connection starts the storm again: every book resyncs through the budget in symbol order, no 429", async () => {
  const sim = await simulator(30);
  const symbols = sim.symbols.binance_spot;
  const runner = bookRunner(sim, budgetBuffer());
  await runner.start();
  await waitFor("30 live books", () => liveBooks(runner).size === 30, 30_000);
  const requests = runner.rest.requests;
  const order: string[] = [];
  let peakWaiting = 0;
  expect(sim.dropConnections("binance_spot")).toBeGreaterThan(0);
  await waitFor("every book stale", () => liveBooks(runner).size === 0, 5000, 1);
  await waitFor(
    "every book live again",
    () => {
      const live = liveBooks(runner);
      for (const native of symbols) if (live.has(native) && !order.includes(native)) order.push(native);
      peakWaiting = Math.max(peakWaiting, runner.bookSync?.report(runner.normalizer?.bookHealth() ?? []).waiting ?? 0);
      return order.length === 30;
    },
    30_000,
  );
  // One snapshot per book, the storm's order kept, most of it waiting its turn (1,500 weight).
  expect(runner.rest.requests - requests).toBe(30);
  const ranks = order.map((native) => symbols.indexOf(native));
  expect(ranks.filter((rank, i) => ranks.slice(i + 1).some((later) => later < rank - 2))).toEqual([]);
  expect(peakWaiting).toBeGreaterThan(10);
  expect(runner.rest.rate_limited).toBe(0);
  expect(sim.violations.rules()).toEqual({});
}, 90_000);

test("a resync of one book on another thread is served before the storm's remaining books", async () => {
  // Two ingest threads of one venue share the budget: one resyncs a single book while the other
  // works through a start-up storm. Each has its own simulator, so a sequence gap reaches only
  // the single book; the budget between them is one.
  const budget = budgetBuffer();
  const stormSim = await simulator(STORM_BOOKS);
  const singleSim = await simulator(1);
  const single = bookRunner(singleSim, budget);
  await single.start();
  const native = singleSim.symbols.binance_spot[0] as string;
  await waitFor("the single book live", () => liveBooks(single).has(native), 20_000);
  const live_ms = performance.now();

  const storm = bookRunner(stormSim, budget);
  await storm.start();
  const waiting = () => storm.bookSync?.report(storm.normalizer?.bookHealth() ?? []).waiting ?? 0;
  // A symbol's snapshots are at least a second apart (sync-queue.ts), so the gap comes a second
  // after the single book's first snapshot: what it then waits for is the budget alone.
  await waitFor("the storm waiting for the budget", () => waiting() > STORM_BOOKS / 2 && performance.now() - live_ms > 1100, 20_000);

  const resyncsBefore = single.normalizer?.bookHealth()[0]?.resyncs ?? 0;
  singleSim.fault({ venue: "binance_spot", kind: "sequence_gap", seconds: 1 });
  let broke_ms = 0;
  let stormSent = 0;
  await waitFor("the single book to break its chain", () => {
    broke_ms = performance.now();
    stormSent = storm.rest.requests;
    return (single.normalizer?.bookHealth()[0]?.resyncs ?? 0) > resyncsBefore;
  }, 10_000, 1);
  const stormLeft = waiting();
  await waitFor("the single book live again", () => liveBooks(single).has(native), 10_000, 1);
  const resync_wait_ms = performance.now() - broke_ms;
  stormSent = storm.rest.requests - stormSent;
  // The storm had most of its books left and still has; at most the one storm snapshot that had
  // its weight already went out while the resync waited.
  expect(stormLeft).toBeGreaterThan(STORM_BOOKS / 3);
  expect(waiting()).toBeGreaterThan(STORM_BOOKS / 4);
  expect(stormSent).toBeLessThanOrEqual(1);
  expect(resync_wait_ms).toBeLessThan(1000);

  await waitFor("the storm done", () => liveBooks(storm).size === STORM_BOOKS, 60_000);
  expect(storm.rest.rate_limited + single.rest.rate_limited).toBe(0);
  expect(stormSim.violations.rules()).toEqual({});
  expect(singleSim.violations.rules()).toEqual({});
}, 90_000);

test("a symbol whose snapshot is refused and one whose stream is silent are listed on their own; the other book stays live", async () => {
  const symbols = ["AUSDT", "BUSDT", "CUSDT"];
  // CUSDT's depth is refused as Binance refuses an unknown symbol; BUSDT's stream sends nothing.
  const refusedAt: number[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      if (srv.upgrade(req)) return undefined;
      const url = new URL(req.url);
      if (url.pathname === "/api/v3/exchangeInfo") return new Response(binanceExchangeInfo(symbols));
      if (url.searchParams.get("symbol") === "CUSDT") {
        refusedAt.push(performance.now());
        return Response.json({ code: -1121, msg: "Invalid symbol." }, { status: 400 });
      }
      return Response.json({ lastUpdateId: 10, bids: [["1.00", "1"]], asks: [["2.00", "1"]] });
    },
    websocket: {
      open(ws) {
        ws.send(binanceDepthDiff("AUSDT", 11, 11));
      },
      message() {},
    },
  });
  const errors: string[] = [];
  const config: VenueConfig = {
    ...configWith().venues.binance_spot,
    symbols,
    workers: 1,
    data_types: ["orderbook"],
    ws_url: `ws://127.0.0.1:${server.port}`,
    rest_url: `http://127.0.0.1:${server.port}`,
  };
  // stale_factor 0.02: a book whose snapshot nothing bridged is silent after 600 ms.
  const { runner } = ingestRunner("binance_spot", config, {
    tuning: { backoff: { initial_ms: 10, max_ms: 50 }, stale_factor: 0.02 },
    stats: { messagesIn() {}, reconnect() {}, error: (channel, detail) => errors.push(`${channel} ${detail}`) },
  });
  runners.push(runner);
  try {
    await runner.start();
    const report = () => runner.bookSync?.report(runner.normalizer?.bookHealth() ?? []) ?? { waiting: 0, failures: [] };
    const refusals = () => report().failures.find((f) => f.native === "CUSDT")?.attempts ?? 0;
    await waitFor("three refusals of CUSDT and a silent BUSDT", () => refusals() >= 3 && report().failures.length === 2, 15_000);
    expect(liveBooks(runner)).toEqual(new Set(["AUSDT"]));
    const failures = report().failures;
    expect(failures.map((f) => [f.native, f.kind])).toEqual([
      ["BUSDT", "book_unbridged"],
      ["CUSDT", "snapshot_refused"],
    ]);
    expect(failures[1]?.detail).toContain("-1121");
    expect(failures[1]?.attempts).toBe(refusedAt.length);
    expect(failures[0]?.detail).toMatch(/^no depth update bridged its snapshot in \d+ s$/);
    // The refused symbol backs off (1 s, then 2 s), so it never spends the budget of the others.
    expect((refusedAt[1] ?? 0) - (refusedAt[0] ?? 0)).toBeGreaterThanOrEqual(950);
    expect((refusedAt[2] ?? 0) - (refusedAt[1] ?? 0)).toBeGreaterThanOrEqual(1950);
    expect(errors.filter((e) => e.startsWith("depth CUSDT: 400")).length).toBe(refusedAt.length);
    // Neither failure reconnected anything.
    expect(runner.connection?.reconnects).toBe(0);
    // An instrument refresh that drops the refused symbol ends its retries and its listing.
    runner.changeSymbols([], ["CUSDT"]);
    expect(report().failures.map((f) => f.native)).toEqual(["BUSDT"]);
  } finally {
    server.stop(true);
  }
}, 30_000);

test("a book whose chain breaks after every snapshot backs off and is listed; the other book stays live", async () => {
  const symbols = ["AUSDT", "BUSDT"];
  const asked: number[] = [];
  let tick = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      if (srv.upgrade(req)) return undefined;
      const url = new URL(req.url);
      if (url.pathname === "/api/v3/exchangeInfo") return new Response(binanceExchangeInfo(symbols));
      if (url.searchParams.get("symbol") === "AUSDT") {
        asked.push(performance.now());
        // The next tick's first diff (U = u = tick + 11) bridges this snapshot.
        return Response.json({ lastUpdateId: tick + 10, bids: [["1.00", "1"]], asks: [["2.00", "1"]] });
      }
      return Response.json({ lastUpdateId: 10, bids: [["1.00", "1"]], asks: [["2.00", "1"]] });
    },
    websocket: {
      open(ws) {
        const send = (s: string, U: number, u: number) => ws.send(binanceDepthDiff(s, U, u));
        send("BUSDT", 11, 11);
        // AUSDT: every 50 ms a diff that continues the chain, then one that skips an id.
        const timer = setInterval(() => {
          if (ws.readyState !== 1) return clearInterval(timer);
          tick += 10;
          send("AUSDT", tick + 1, tick + 1);
          send("AUSDT", tick + 3, tick + 3);
        }, 50);
      },
      message() {},
    },
  });
  const config: VenueConfig = {
    ...configWith().venues.binance_spot,
    symbols,
    workers: 1,
    data_types: ["orderbook"],
    ws_url: `ws://127.0.0.1:${server.port}`,
    rest_url: `http://127.0.0.1:${server.port}`,
  };
  const { runner } = ingestRunner("binance_spot", config);
  runners.push(runner);
  try {
    await runner.start();
    const report = () => runner.bookSync?.report(runner.normalizer?.bookHealth() ?? []) ?? { waiting: 0, failures: [] };
    await waitFor("AUSDT listed as a resync loop after four snapshots", () => asked.length >= 4 && report().failures.length === 1, 20_000);
    const [failure] = report().failures;
    expect(failure).toMatchObject({ native: "AUSDT", kind: "resync_loop" });
    expect(failure?.detail).toMatch(/^its chain broke within a minute of each of its last \d snapshots; next snapshot in \d+ s$/);
    expect(liveBooks(runner).has("BUSDT")).toBe(true);
    // A second apart twice, then 2 s: the loop slows down instead of asking once a second forever.
    const gaps = asked.slice(1).map((t, i) => t - (asked[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(950);
    expect(gaps[1]).toBeGreaterThanOrEqual(950);
    expect(gaps[2]).toBeGreaterThanOrEqual(1950);
    expect(runner.connection?.reconnects).toBe(0);
    // It did go live each time: every snapshot bridged, and the next diff broke the chain.
    expect(runner.normalizer?.bookHealth().find((b) => b.native === "AUSDT")?.sequence_gaps).toBeGreaterThanOrEqual(asked.length - 1);
  } finally {
    server.stop(true);
  }
}, 30_000);

test("a snapshot request that gets no answer is retried without the refusal backoff, and its book goes live", async () => {
  // The venue leaves HANGUSDT's first four depth requests unanswered (each times out at 200 ms), then answers.
  const sent: number[] = [];
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch() {
      sent.push(performance.now());
      if (sent.length <= 4) await released;
      return Response.json({ lastUpdateId: 10, bids: [["1.00", "1"]], asks: [["2.00", "1"]] });
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  const rest = new RestClient({ base_url: base, limits: getVenue("binance_spot").rest_limits, timeout_ms: 200 });
  const delivered: string[] = [];
  const refused: string[] = [];
  const queue = new BookSyncQueue(["HANGUSDT"], {
    rest,
    url: (native) => `${base}/api/v3/depth?symbol=${native}&limit=1000`,
    deliver: (_url, body) => delivered.push(body),
    onRefused: (native, detail) => refused.push(`${native}: ${detail}`),
    unanswered_retry_max_ms: 1500,
  });
  const book = (state: BookHealth["state"]): BookHealth[] => [{ symbol: "HANG-USDT", native: "HANGUSDT", state, resyncs: 0, checksum_failures: 0, sequence_gaps: 0, last_update_ts_ms: 0 }];
  try {
    queue.want(["HANGUSDT"]);
    await waitFor("two unanswered requests", () => refused.length >= 2, 10_000);
    const failure = queue.report(book("syncing")).failures[0];
    expect(failure?.kind).toBe("snapshot_unanswered");
    expect(failure?.detail).toContain("timed out");
    expect(failure?.attempts).toBe(2);
    await waitFor("the fifth request answered", () => delivered.length === 1, 15_000);
    expect(sent.length).toBe(5);
    expect(refused.length).toBe(4);
    expect(JSON.parse(delivered[0] ?? "{}").lastUpdateId).toBe(10);
    // Waits between requests (200 ms timeout + retry): 1 s, then 1.5 s capped, where a refusal doubles to 2, 4 and 8 s.
    const gaps = sent.slice(1).map((t, i) => t - (sent[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(1150);
    for (const gap of gaps.slice(1)) {
      expect(gap).toBeGreaterThanOrEqual(1650);
      expect(gap).toBeLessThan(3000);
    }
    // A live book clears the listing.
    expect(queue.report(book("live")).failures).toEqual([]);
  } finally {
    queue.stop();
    rest.stop();
    release();
    server.stop(true);
  }
}, 30_000);
