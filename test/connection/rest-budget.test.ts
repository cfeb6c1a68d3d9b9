import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import type { VenueKey } from "../../src/config/schema.ts";
import { defaultRecordingsDir } from "../../src/replay/recording.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { RestBudget, scaleLimits, type RestLimitScale, type RestPriority } from "../../src/venues/connection/rest-budget.ts";
import { RestClient, type RestLimitIncident } from "../../src/venues/connection/rest-client.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { waitFor } from "../support/wait.ts";

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
      Array.from({ length: 50 }, (_, i) => rest.get(`${sim.url}/binance_spot/api/v3/depth?symbol=${symbol}&limit=${501 + i}`, "snapshot")),
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

  test("book snapshots go before the polls queued ahead of them", async () => {
    const rest = client("binance_derivatives");
    const symbol = sim.symbols.binance_derivatives[0];
    const order: string[] = [];
    const ask = (path: string, priority: RestPriority, tag: string) =>
      rest.get(`${sim.url}/binance_derivatives${path}`, priority).then((r) => {
        expect(r.ok).toBe(true);
        order.push(tag);
      });
    const polls = Array.from({ length: 12 }, (_, i) => ask(`/fapi/v1/openInterest?symbol=${symbol}&n=${i}`, "poll", `poll${i}`));
    expect(rest.queued).toBe(11);
    const snapshots = Array.from({ length: 3 }, (_, i) => ask(`/fapi/v1/depth?symbol=${symbol}&limit=${i === 0 ? 1000 : i === 1 ? 500 : 100}`, "snapshot", `snap${i}`));
    await Promise.all([...polls, ...snapshots]);
    // The one poll already on the wire may finish first; every snapshot precedes the other eleven.
    const lastSnapshot = Math.max(...["snap0", "snap1", "snap2"].map((t) => order.indexOf(t)));
    expect(lastSnapshot).toBeLessThanOrEqual(3);
    expect(order.length).toBe(15);
    expect(sim.violations.rules()).toEqual({});
  });

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
    const b = second.get(`${sim.url}/binance_spot/api/v3/depth?symbol=${sim.symbols.binance_spot[0]}&limit=100`, "snapshot");
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
