import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import type { VenueKey } from "../../src/config/schema.ts";
import { defaultRecordingsDir } from "../../src/replay/recording.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { RestBudget, scaleLimits, type RestLimitScale, type RestPriority } from "../../src/venues/connection/rest-budget.ts";
import { IN_FLIGHT, RestClient, type RestLimitIncident } from "../../src/venues/connection/rest-client.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { waitFor } from "../support/wait.ts";
import type { DrawRequest } from "./budget-draw.worker.ts";

const DIR = defaultRecordingsDir();
const missing = !existsSync(DIR);

/** Binance spot shrunk to 1,000 weight per 2 s window (documented: 6,000 per minute). */
const SPOT_SCALE: RestLimitScale = { limit: 1000 / 6000, window: 2000 / 60_000 };

let sim: Simulator;

function client(venue: VenueKey, options: { scale?: RestLimitScale; budget?: SharedArrayBuffer; incidents?: RestLimitIncident[] } = {}): RestClient {
  const limits = getVenue(venue).rest_limits;
  return new RestClient({
    base_url: `${sim.url}/${venue}`,
    limits,
    budget: new RestBudget(scaleLimits(limits.buckets, options.scale), options.budget),
    timeout_ms: 5000,
    onIncident: (i) => options.incidents?.push(i),
  });
}

describe.skipIf(missing)(missing ? `skipped: exchange recordings folder missing: ${DIR}` : "REST weight budget", () => {
  beforeAll(async () => {
    sim = await startSimulator({ rate: 200, rest: { scale: { binance_spot: SPOT_SCALE }, in_flight_grace_ms: 0, ban_s: 2 } });
  });
  afterAll(() => sim.stop());

  test("a storm of 50 book snapshots stays under a shrunken budget: all answered, no violation", async () => {
    const rest = client("binance_spot", { scale: SPOT_SCALE });
    const symbol = sim.symbols.binance_spot[0];
    // limit 501..550 weigh 50 each: 2,500 weight, two and a half windows' worth.
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => rest.get(`${sim.url}/binance_spot/api/v3/depth?symbol=${symbol}&limit=${501 + i}`, "sync")),
    );
    const elapsed = performance.now() - t0;
    expect(results.filter((r) => r.ok).length).toBe(50);
    expect(rest.requests).toBe(50);
    expect(rest.rate_limited).toBe(0);
    expect(sim.violations.rules()).toEqual({});
    // The venue's count never passed the limit in any window, and the budget did use it.
    const peak = sim.rest_limits.peaks().binance_spot?.request_weight ?? 0;
    expect(peak).toBeLessThanOrEqual(1000);
    expect(peak).toBeGreaterThanOrEqual(600);
    // 2,500 weight cannot pass in fewer than three 2 s windows' reach.
    expect(elapsed).toBeGreaterThan(2000);
  }, 20_000);

  test("bucket polls go before the snapshot storm queued ahead of them on a small budget", async () => {
    const rest = client("binance_derivatives", { scale: SPOT_SCALE });
    const symbol = sim.symbols.binance_derivatives[0];
    const order: string[] = [];
    const ask = (path: string, priority: RestPriority, tag: string) =>
      rest.get(`${sim.url}/binance_derivatives${path}`, priority).then((r) => {
        expect(r.ok).toBe(true);
        order.push(tag);
      });
    // 20 storm snapshots of depth 1000 (weight 20 each): 400 weight, several windows of the shrunken budget.
    const storm = Array.from({ length: 20 }, (_, i) => ask(`/fapi/v1/depth?symbol=${symbol}&limit=1000&n=${i}`, "sync", `storm${i}`));
    const polls = Array.from({ length: 3 }, (_, i) => ask(`/fapi/v1/openInterest?symbol=${symbol}&n=${i}`, "poll", `poll${i}`));
    await Promise.all([...storm, ...polls]);
    // The storm's slots may be on the wire already; every poll precedes the rest of the storm.
    const lastPoll = Math.max(...["poll0", "poll1", "poll2"].map((t) => order.indexOf(t)));
    expect(lastPoll).toBeLessThanOrEqual(IN_FLIGHT.sync + 2);
    expect(order.length).toBe(23);
    expect(rest.rate_limited).toBe(0);
    expect(sim.violations.rules()).toEqual({});
  }, 30_000);

  test("a resync goes before the storm queued ahead of it on the same thread", async () => {
    const rest = client("binance_spot", { scale: SPOT_SCALE });
    const symbol = sim.symbols.binance_spot[0];
    const order: string[] = [];
    const ask = (limit: number, priority: RestPriority, tag: string) =>
      rest.get(`${sim.url}/binance_spot/api/v3/depth?symbol=${symbol}&limit=${limit}`, priority).then((r) => {
        expect(r.ok).toBe(true);
        order.push(tag);
      });
    // 20 storm snapshots of weight 50: 1,000 weight, more than a shrunken window allows at once.
    const storm = Array.from({ length: 20 }, (_, i) => ask(501 + i, "sync", `storm${i}`));
    const resync = ask(1000, "resync", "resync");
    await Promise.all([...storm, resync]);
    // The storm's slots may be on the wire already; the resync precedes the rest of the storm.
    expect(order.indexOf("resync")).toBeLessThanOrEqual(IN_FLIGHT.sync);
    expect(order.length).toBe(21);
    expect(rest.rate_limited).toBe(0);
  }, 20_000);

  test("a 429 is waited out for its Retry-After, then the request is answered", async () => {
    const incidents: RestLimitIncident[] = [];
    const rest = client("binance_derivatives", { incidents });
    const before = sim.rest.binance_derivatives;
    sim.rateLimit("binance_derivatives", 1, 1);
    const t0 = Date.now();
    const result = await rest.get(`${sim.url}/binance_derivatives/fapi/v1/premiumIndex?symbol=${sim.symbols.binance_derivatives[0]}`, "other");
    expect(result.ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(rest.requests).toBe(2);
    expect(rest.rate_limited).toBe(1);
    expect(sim.rest.binance_derivatives - before).toBe(1);
    expect(incidents.map((i) => [i.status, i.wait_ms])).toEqual([[429, 1000]]);
    expect(sim.violations.rules()).toEqual({});
  });

  test("a 418 stops all REST of the venue, every thread's, until the ban ends", async () => {
    // Another client of the IP ignores a 429 and gets the IP banned for 2 s.
    const url = `${sim.url}/binance_spot/api/v3/exchangeInfo`;
    sim.rateLimit("binance_spot", 1, 1);
    expect((await fetch(url)).status).toBe(429);
    const banned = await fetch(url);
    expect(banned.status).toBe(418);
    expect(banned.headers.get("retry-after")).toBe("2");
    expect(sim.violations.rules()).toEqual({ rest_after_429: 1 });

    // Two ingest threads of the venue share one budget.
    const incidents: RestLimitIncident[] = [];
    const first = client("binance_spot", { scale: SPOT_SCALE, incidents });
    const second = client("binance_spot", { scale: SPOT_SCALE, budget: first.budget.buffer, incidents });
    const t0 = Date.now();
    const a = first.get(url, "other");
    // The first thread's request meets the ban; the second thread's waits without being sent.
    await waitFor("the ban incident", () => incidents.length > 0, 5000);
    const b = second.get(`${sim.url}/binance_spot/api/v3/depth?symbol=${sim.symbols.binance_spot[0]}&limit=100`, "resync");
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.ok && rb.ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(first.requests + second.requests).toBe(3);
    expect(second.requests).toBe(1);
    expect(incidents.map((i) => i.status)).toEqual([418]);
    // Only the request that learned of the ban reached the venue during it.
    expect(sim.violations.rules()).toEqual({ rest_after_429: 1, rest_during_ban: 1 });
  });
});

describe("the budget's arithmetic (shared memory, fake clock)", () => {
  const SPOT = getVenue("binance_spot").rest_limits.buckets;
  const depth1000 = { bucket: 0, weight: 50 };

  test("a window limit spends at most 90 % of it in any window: a fifth at once, the rest evenly", () => {
    let now = 1_000_000;
    const budget = new RestBudget(SPOT, undefined, () => now);
    let sent = 0;
    // 6,000 a minute: usable 5,400, of which 1,080 at once (21 snapshots of 50).
    while (budget.take(depth1000, "resync") === 0) sent++;
    expect(sent).toBe(21);
    // The 30 left need 20 more, refilled at 4,320 a minute: 278 ms.
    expect(budget.take(depth1000, "resync")).toBe(278);
    let weight = sent * 50;
    for (const end = now + 60_000; now < end; now += 10) if (budget.take(depth1000, "resync") === 0) weight += 50;
    expect(weight).toBeLessThanOrEqual(5400);
    expect(weight).toBeGreaterThanOrEqual(5300);
  });

  test("a storm leaves 20 % of the bucket to polls and resyncs, polls 15 % to resyncs, anything else half", () => {
    const now = 1_000_000;
    const budget = new RestBudget(SPOT, undefined, () => now);
    let storm = 0;
    while (budget.take({ bucket: 0, weight: 10 }, "sync") === 0) storm++;
    expect(storm).toBe(86); // 860 of the 864 a storm may fill (80 % of 1,080)
    expect(budget.take({ bucket: 0, weight: 10 }, "other")).toBeGreaterThan(0);
    let polls = 0;
    while (budget.take({ bucket: 0, weight: 10 }, "poll") === 0) polls++;
    expect(polls).toBe(5); // up to 910 of the 918 polls may fill
    let resyncs = 0;
    while (budget.take({ bucket: 0, weight: 10 }, "resync") === 0) resyncs++;
    expect(resyncs).toBe(17);
  });

  test("a storm's draws leave four depth-1000 resyncs their weight at once", () => {
    const now = 1_000_000;
    const budget = new RestBudget(SPOT, undefined, () => now);
    while (budget.take(depth1000, "sync") === 0);
    for (let i = 0; i < 4; i++) expect(budget.take(depth1000, "resync")).toBe(0);
    expect(budget.take(depth1000, "resync")).toBeGreaterThan(0);
  });

  test("the backlog of waiting snapshots is priced at the refill rate after the burst", () => {
    const now = 1_000_000;
    const budget = new RestBudget(SPOT, undefined, () => now);
    // 6,000 a minute: 4,320 a minute once the 1,080 burst is spent.
    expect(budget.refillPerMinute(0)).toBeCloseTo(4320, 6);
    // 17 storm snapshots fit the 864 a storm may fill now; 1,500 need (75,000 - 864) / 4,320 min.
    expect(budget.backlogMs(depth1000, 17, "sync")).toBe(0);
    expect(budget.backlogMs(depth1000, 1500, "sync")).toBe(Math.ceil(((75_000 - 864) * 60_000) / 4320));
    for (let i = 0; i < 17; i++) expect(budget.take(depth1000, "sync")).toBe(0);
    expect(budget.backlogMs(depth1000, 1, "sync")).toBe(budget.take(depth1000, "sync"));
  });

  test("two budgets on one buffer are one budget (the venue's ingest threads)", () => {
    const now = 1_000_000;
    const a = new RestBudget(SPOT, undefined, () => now);
    const b = new RestBudget(SPOT, a.buffer, () => now);
    for (let i = 0; i < 11; i++) expect(a.take(depth1000, "resync")).toBe(0);
    for (let i = 0; i < 10; i++) expect(b.take(depth1000, "resync")).toBe(0);
    expect(a.take(depth1000, "resync")).toBeGreaterThan(0);
    expect(b.take(depth1000, "resync")).toBeGreaterThan(0);
  });

  test("the venue's used-weight header only ever tightens the bucket", () => {
    const now = 1_000_000;
    const budget = new RestBudget(SPOT, undefined, () => now);
    budget.observeUsed(0, 100);
    expect(budget.take(depth1000, "resync")).toBe(0);
    // Another client of the IP spent 5,900 of 6,000: this minute has 100 left, two snapshots.
    budget.observeUsed(0, 5900);
    expect(budget.take(depth1000, "resync")).toBe(0);
    expect(budget.take(depth1000, "resync")).toBe(0);
    expect(budget.take(depth1000, "resync")).toBeGreaterThan(0);
  });

  test("a block is one incident across threads; a 418 during a 429 block is a second one", () => {
    let now = 1_000_000;
    const a = new RestBudget(SPOT, undefined, () => now);
    const b = new RestBudget(SPOT, a.buffer, () => now);
    expect(a.block(now + 5000, 429)).toBe(true);
    expect(b.block(now + 5000, 429)).toBe(false);
    expect(b.blockedMs()).toBe(5000);
    expect(b.block(now + 120_000, 418)).toBe(true);
    expect(a.block(now + 120_000, 418)).toBe(false);
    expect([a.blockedMs(), a.blockStatus]).toEqual([120_000, 418]);
    now += 120_000;
    expect(a.blockedMs()).toBe(0);
    expect(b.block(now + 1000, 429)).toBe(true);
  });
});

test("a request that will not wait out a ban is answered with it at once, and nothing is sent", async () => {
  const limits = getVenue("binance_spot").rest_limits;
  const rest = new RestClient({ base_url: "http://127.0.0.1:9/binance_spot", limits, timeout_ms: 1000 });
  rest.budget.block(Date.now() + 120_000, 418);
  const result = await rest.get("http://127.0.0.1:9/binance_spot/api/v3/exchangeInfo", "other", 60_000);
  expect(result).toEqual({ ok: false, status: 418, error: "REST to this venue is stopped for another 120 s (HTTP 418)" });
  expect(rest.requests).toBe(0);
  expect(rest.queued).toBe(0);
  rest.stop();
});

test("two threads racing on one budget get exactly its capacity between them", async () => {
  const buffer = new SharedArrayBuffer(RestBudget.bytes(1));
  const go = new SharedArrayBuffer(8);
  const flag = new Int32Array(go);
  const draw = (): Promise<number> => {
    const worker = new Worker(new URL("./budget-draw.worker.ts", import.meta.url));
    return new Promise<number>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<number>) => {
        resolve(event.data);
        worker.terminate();
      };
      worker.onerror = (event) => {
        reject(new Error(`draw worker failed: ${event.message}`));
        worker.terminate();
      };
      worker.postMessage({ buffer, go, now_ms: 1_000_000 } satisfies DrawRequest);
    });
  };
  const both = Promise.all([draw(), draw()]);
  await waitFor("both threads ready", () => Atomics.load(flag, 1) === 2, 10_000);
  Atomics.store(flag, 0, 1);
  const [a, b] = await both;
  // 6,000 a minute: 1,080 at once, whoever draws it.
  expect(a + b).toBe(1080);
});

test("a poll waiting for its own limit does not hold back snapshots that draw on another", async () => {
  const served: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      served.push(new URL(req.url).pathname);
      return new Response("{}");
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  // Binance USDⓈ-M's shape: request weight, and futures_data (1,000 requests per 5 min) shrunk
  // to 10, whose bucket holds one request at once and refills one per 37.5 s.
  const limits = {
    ...getVenue("binance_derivatives").rest_limits,
    buckets: [
      { name: "request_weight", kind: "window", limit: 2400, window_ms: 60_000 },
      { name: "futures_data", kind: "window", limit: 10, window_ms: 300_000 },
    ] as const,
    cost: (path: string) => (path.startsWith("/data") ? { bucket: 1, weight: 1 } : { bucket: 0, weight: 20 }),
  };
  const rest = new RestClient({ base_url: base, limits, timeout_ms: 5000 });
  try {
    const polls = Array.from({ length: 5 }, (_, i) => rest.get(`${base}/data?period=${i}`, "poll"));
    await waitFor("the first poll answered", () => served.length === 1, 5000);
    const snapshots = await Promise.all(Array.from({ length: 3 }, (_, i) => rest.get(`${base}/depth?symbol=S${i}`, "sync")));
    expect(snapshots.map((r) => r.ok)).toEqual([true, true, true]);
    // The snapshots went while four polls still waited for their bucket, in the polls' order after.
    expect(served).toEqual(["/data", "/depth", "/depth", "/depth"]);
    expect(rest.queued).toBe(4);
    rest.stop();
    expect((await Promise.all(polls)).map((r) => r.ok)).toEqual([true, false, false, false, false]);
  } finally {
    rest.stop();
    server.stop(true);
  }
});

test("slow polls that always have more queued leave the storm its own slots, and a resync one more", async () => {
  // Every poll takes 400 ms to answer, as on a busy machine; snapshots and the resync answer at once.
  const served: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/poll") await Bun.sleep(400);
      served.push(`${url.pathname}${url.search}`);
      return new Response("{}");
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  const limits = {
    ...getVenue("binance_derivatives").rest_limits,
    buckets: [{ name: "request_weight", kind: "window", limit: 2400, window_ms: 60_000 }] as const,
    cost: () => ({ bucket: 0, weight: 1 }),
  };
  const rest = new RestClient({ base_url: base, limits, timeout_ms: 5000 });
  try {
    const polls = Array.from({ length: 40 }, (_, i) => rest.get(`${base}/poll?n=${i}`, "poll"));
    const snapshots = Array.from({ length: 4 }, (_, i) => rest.get(`${base}/depth?n=${i}`, "sync"));
    const resync = rest.get(`${base}/depth?resync`, "resync");
    await Promise.all([...snapshots, resync]);
    // Polls on the wire never reached their cap of the slots: the storm and the resync were all
    // answered while the first round of polls was still out.
    const pollsFirst = served.filter((s) => s.startsWith("/poll")).length;
    expect(pollsFirst).toBe(0);
    expect(served.toSorted()).toEqual(["/depth?n=0", "/depth?n=1", "/depth?n=2", "/depth?n=3", "/depth?resync"]);
    expect(rest.queued).toBe(40 - IN_FLIGHT.poll);
    expect((await Promise.all(polls)).every((r) => r.ok)).toBe(true);
  } finally {
    rest.stop();
    server.stop(true);
  }
}, 20_000);
