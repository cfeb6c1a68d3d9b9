import { afterAll, beforeAll, expect, test } from "bun:test";
import type { VenueKey } from "../../src/config/schema.ts";
import type { GapRecord, MarketRecord } from "../../src/records/types.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import type { ConnectionIncident } from "../../src/venues/connection/venue-connection.ts";
import type { IngestRunner } from "../../src/venues/ingest.ts";
import { runnerFor } from "./support.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Each fault the simulator injects (POST /simulator/faults) against the real IngestRunner: the
 * engine records the hole with the right cause, recovers once the fault ends, and breaks none of
 * the venue's rules on the way (no reconnect or request storm).
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50 });
});
afterAll(() => sim.stop());

/** Short heartbeats, so a silent venue is noticed within a second (Deribit: 2 × 1 s + 0.3 s). */
const TUNING = { backoff: { initial_ms: 10, max_ms: 50 }, okx_ping_idle_ms: 300, heartbeat_timeout_ms: 300, deribit_heartbeat_s: 1 };

const gaps = (records: readonly MarketRecord[]): GapRecord[] => records.filter((r): r is GapRecord => r.data_type === "gap");

/** Connection incidents the runner reported (logged once each by the ingest worker). */
let incidents: ConnectionIncident[] = [];

async function withRunner(venue: VenueKey, body: (runner: IngestRunner, records: MarketRecord[]) => Promise<void>): Promise<void> {
  const violations = sim.violations.total;
  incidents = [];
  const stats = { messagesIn() {}, reconnect() {}, error() {}, incident: (i: ConnectionIncident) => incidents.push(i) };
  const { runner, records } = runnerFor(sim, venue, { tuning: TUNING, stats });
  await runner.start();
  try {
    await body(runner, records);
  } finally {
    await runner.stop();
  }
  expect(sim.violations.total).toBe(violations);
}

/** Books of every symbol come again after `from` and every book is live. */
async function booksResume(runner: IngestRunner, records: MarketRecord[], from: number, symbols: number): Promise<void> {
  await waitFor("books of every symbol again", () => new Set(records.slice(from).filter((r) => r.data_type === "orderbook").map((r) => r.symbol)).size === symbols, 15_000);
  await waitFor("every book live", () => (runner.normalizer?.bookHealth() ?? []).every((b) => b.state === "live"), 15_000);
}

test("disconnect: connections close and are refused for the fault's span; the engine records reconnect gaps, reconnects within the OKX connect limit, and books resume", async () => {
  await withRunner("okx_spot", async (runner, records) => {
    await waitFor("first book", () => records.some((r) => r.data_type === "orderbook"), 10_000);
    const before = sim.faultEffects("okx_spot", "disconnect");
    sim.fault({ venue: "okx_spot", kind: "disconnect", seconds: 1.5 });
    await waitFor("the fault ends", () => sim.faults().length === 0, 5000);
    const from = records.length;
    await waitFor("reconnect gaps", () => gaps(records).some((g) => g.cause === "reconnect"), 10_000);
    await booksResume(runner, records, from, sim.symbols.okx_spot.length);
    // One close, then refused attempts: at most 3 a second (the OKX limit), so at most 6 in the
    // fault's 1.5 s, not one per 10-50 ms backoff step.
    const attempts = sim.faultEffects("okx_spot", "disconnect") - before - 1;
    expect(attempts).toBeGreaterThan(0);
    expect(attempts).toBeLessThanOrEqual(6);
    const reconnect = gaps(records).filter((g) => g.cause === "reconnect");
    expect(new Set(reconnect.map((g) => `${g.symbol}/${g.data_type_affected}`))).toEqual(
      new Set(sim.symbols.okx_spot.flatMap((s) => ["trade", "orderbook"].map((t) => `${s}/${t}`))),
    );
  });
}, 30_000);

for (const venue of ["okx_spot", "deribit_derivatives"] as const) {
  test(`silence on ${venue}: the socket stays open and silent; the engine's silence timeout reconnects and records a stale gap, then data resumes`, async () => {
    await withRunner(venue, async (_runner, records) => {
      const kind = venue === "okx_spot" ? "trade" : "volatility_index";
      await waitFor("first record", () => records.some((r) => r.data_type === kind), 10_000);
      const seconds = venue === "okx_spot" ? 1.5 : 3;
      sim.fault({ venue, kind: "silence", seconds });
      await waitFor("the fault ends", () => sim.faults().length === 0, 5000);
      const from = records.length;
      await waitFor("stale gap", () => gaps(records).some((g) => g.cause === "stale"), 10_000);
      await waitFor("data again", () => records.slice(from).some((r) => r.data_type === kind), 10_000);
      const stale = gaps(records).filter((g) => g.cause === "stale");
      expect(stale.every((g) => g.end_ts_ms - g.start_ts_ms >= 500)).toBe(true);
      expect(gaps(records).filter((g) => g.cause === "reconnect")).toEqual([]);
      expect(sim.faultEffects(venue, "silence")).toBeGreaterThan(0);
      // Each silent connection is one incident, reported with what the engine does next: at most
      // one per silence timeout (OKX: ping after 300 ms, 300 ms for the pong; Deribit: 2 × 1 s + 300 ms).
      const silent = incidents.filter((i) => i.kind === "silent");
      const timeout_ms = venue === "okx_spot" ? 600 : 2300;
      expect(silent.length).toBeGreaterThan(0);
      expect(silent.length).toBeLessThanOrEqual(Math.ceil((seconds * 1000) / timeout_ms) + 1);
      expect(silent[0]?.next).toContain("stale gap");
    });
  }, 30_000);
}

test("rate_limit: REST answers 429 with Retry-After; the engine waits it out instead of retrying, then its books sync", async () => {
  await withRunner("binance_derivatives", async (runner, records) => {
    await waitFor("first book", () => records.some((r) => r.data_type === "orderbook"), 10_000);
    sim.fault({ venue: "binance_derivatives", kind: "rate_limit", seconds: 2 });
    const t0 = performance.now();
    // A reconnect leaves every book needing a REST snapshot (frames already on the wire when the
    // connection dropped still count as before it: books are measured from the reconnect gap on).
    expect(sim.dropConnections("binance_derivatives")).toBeGreaterThan(0);
    await waitFor("reconnect gap", () => gaps(records).some((g) => g.cause === "reconnect"), 10_000);
    const from = records.length;
    expect((runner.normalizer?.bookHealth() ?? []).some((b) => b.state !== "live")).toBe(true);
    await booksResume(runner, records, from, sim.symbols.binance_derivatives.length);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1900);
    // At most one 429 per request in flight when the first came back (after the reconnect, a depth
    // snapshot and a premiumIndex per symbol, and the two ratio polls): the rest waited.
    const refused = sim.faultEffects("binance_derivatives", "rate_limit");
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(2 * sim.symbols.binance_derivatives.length + 2);
    expect(runner.rest.rate_limited).toBe(refused);
  });
}, 30_000);

test("sequence_gap: dropped Binance diffs break the chain; the engine records sequence_gap gaps, resyncs from snapshots and its books go live again", async () => {
  await withRunner("binance_derivatives", async (runner, records) => {
    await waitFor("first book", () => records.some((r) => r.data_type === "orderbook"), 10_000);
    sim.fault({ venue: "binance_derivatives", kind: "sequence_gap", seconds: 1.5 });
    await waitFor("the fault ends", () => sim.faults().length === 0, 5000);
    const from = records.length;
    await booksResume(runner, records, from, sim.symbols.binance_derivatives.length);
    const seq = gaps(records).filter((g) => g.cause === "sequence_gap");
    expect(seq.length).toBeGreaterThan(0);
    expect(seq.every((g) => g.data_type_affected === "orderbook")).toBe(true);
    expect(sim.faultEffects("binance_derivatives", "sequence_gap")).toBeGreaterThanOrEqual(new Set(seq.map((g) => g.symbol)).size);
    expect((runner.normalizer?.bookHealth() ?? []).reduce((n, b) => n + b.sequence_gaps, 0)).toBeGreaterThan(0);
  });
}, 30_000);

test("checksum: OKX pushes with wrong checksums; the engine records checksum_mismatch gaps, resubscribes at a paced rate and its books go live again", async () => {
  await withRunner("okx_spot", async (runner, records) => {
    await waitFor("first book", () => records.some((r) => r.data_type === "orderbook"), 10_000);
    sim.fault({ venue: "okx_spot", kind: "checksum", seconds: 1.5 });
    await waitFor("the fault ends", () => sim.faults().length === 0, 5000);
    const from = records.length;
    await booksResume(runner, records, from, sim.symbols.okx_spot.length);
    const bad = gaps(records).filter((g) => g.cause === "checksum_mismatch");
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((g) => g.data_type_affected === "orderbook")).toBe(true);
    expect(gaps(records).filter((g) => g.cause === "reconnect")).toEqual([]);
    const health = runner.normalizer?.bookHealth() ?? [];
    expect(health.reduce((n, b) => n + b.checksum_failures, 0)).toBeGreaterThan(0);
    // Resubscription rounds: at most one a second, two requests each, one connection.
    const conn = runner.connection as unknown as { requestsLeft: number };
    expect(480 - conn.requestsLeft).toBeLessThanOrEqual(1 + 2 * 5);
  });
}, 30_000);
