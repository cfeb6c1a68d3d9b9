import { afterAll, beforeAll, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import type { VenueKey } from "../../src/config/schema.ts";
import type { DataType } from "../../src/records/types.ts";
import { configWith } from "../../src/config/load.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { runnerFor } from "./support.ts";
import { waitFor } from "../support/wait.ts";

let sim: Simulator;
beforeAll(async () => {
  // 500 frames/s: a paced stream, so each test sees a few seconds of the recordings.
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50 });
});
afterAll(async () => {
  // The strict simulator saw no venue rule broken by any runner here.
  expect(sim.violations.rules()).toEqual({});
  await sim.stop();
});

const typesOf = (records: { data_type: string }[]): Set<string> => new Set(records.map((r) => r.data_type));

const expected: [VenueKey, DataType[]][] = [
  ["binance_spot", ["trade", "orderbook"]],
  ["binance_derivatives", ["trade", "orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"]],
  ["okx_spot", ["trade", "orderbook"]],
  ["okx_derivatives", ["orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"]],
  ["deribit_derivatives", ["volatility_index"]],
];

for (const [venue, types] of expected) {
  test(`${venue}: the runner emits every configured data type from the simulator`, async () => {
    const { runner, records } = runnerFor(sim, venue);
    await runner.start();
    try {
      await waitFor(`${venue} types ${types}`, () => types.every((t) => typesOf(records).has(t)), 20_000);
      expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
    } finally {
      await runner.stop();
    }
  }, 30_000);
}

test("a dropped connection yields one reconnect gap per symbol and type, then data resumes", async () => {
  const { runner, records } = runnerFor(sim, "binance_derivatives");
  await runner.start();
  try {
    await waitFor("first book", () => records.some((r) => r.data_type === "orderbook"), 10_000);
    expect(sim.dropConnections("binance_derivatives")).toBeGreaterThan(0);
    await waitFor("gap", () => records.some((r) => r.data_type === "gap" && r.cause === "reconnect"), 10_000);
    const before = records.length;
    await waitFor("books after reconnect", () => records.slice(before).some((r) => r.data_type === "orderbook"), 10_000);
    // The reconnect's gaps are counted here (a book chain the drop cut short may add a sequence_gap);
    // the funding gaps written again with their premiumIndex recovery are not new gaps.
    const gaps = records.filter((r) => r.data_type === "gap" && r.cause === "reconnect" && r.recovered_at_ms === 0);
    const symbols = new Set(gaps.map((g) => g.symbol));
    expect(symbols.size).toBe(sim.symbols.binance_derivatives.length);
    for (const g of gaps) {
      if (g.data_type !== "gap") continue;
      expect(g.cause).toBe("reconnect");
      expect(g.end_ts_ms).toBeGreaterThanOrEqual(g.start_ts_ms);
      expect(["trade", "orderbook", "funding_rate", "liquidation"]).toContain(g.data_type_affected);
    }
    expect(gaps.length).toBe(symbols.size * 4);
  } finally {
    await runner.stop();
  }
}, 30_000);

test("after a Deribit reconnect the volatility index inside the hole is asked for from REST", async () => {
  const { runner, records } = runnerFor(sim, "deribit_derivatives");
  await runner.start();
  try {
    await waitFor("first index value", () => records.some((r) => r.data_type === "volatility_index"), 10_000);
    const restBefore = sim.rest.deribit_derivatives ?? 0;
    expect(sim.dropConnections("deribit_derivatives")).toBeGreaterThan(0);
    await waitFor("gap", () => records.some((r) => r.data_type === "gap"), 10_000);
    const gap = records.find((r) => r.data_type === "gap");
    if (gap?.data_type !== "gap") throw new Error("no gap record");
    expect(gap.data_type_affected).toBe("volatility_index");
    // one get_volatility_index_data request per currency, for the hole
    const currencies = sim.symbols.deribit_derivatives.length;
    await waitFor("backfill requests", () => (sim.rest.deribit_derivatives ?? 0) >= restBefore + currencies, 10_000);
    // Each currency's gap is written again once its backfill is in, with what the backfill emitted.
    const recovered = () => records.filter((r) => r.data_type === "gap" && r.recovered_at_ms > 0);
    await waitFor("recovered gaps", () => recovered().length === currencies, 10_000);
    for (const r of recovered()) {
      if (r.data_type !== "gap") continue;
      const first = records.find((g) => g.data_type === "gap" && g.symbol === r.symbol && g.recovered_at_ms === 0);
      expect(first).toMatchObject({ start_ts_ms: r.start_ts_ms, end_ts_ms: r.end_ts_ms, cause: r.cause, recovered_records: 0 });
      expect(r.recovered_at_ms).toBeGreaterThanOrEqual(r.end_ts_ms);
      // The simulator's candles for a hole of about a second: none or one.
      expect([0, 1]).toContain(r.recovered_records);
    }
  } finally {
    await runner.stop();
  }
}, 30_000);

test("after a Binance USDⓈ-M reconnect the mark price and funding are fetched from REST premiumIndex", async () => {
  // Funding only: no depth snapshots or bucket polls, so every REST call after start is premiumIndex.
  const venue = configWith(replayVenueOverrides(sim)).venues.binance_derivatives;
  const { runner, records } = runnerFor(sim, "binance_derivatives", { config: { ...venue, data_types: ["funding_rate"] } });
  await runner.start();
  try {
    await waitFor("first funding record", () => records.some((r) => r.data_type === "funding_rate"), 10_000);
    const restBefore = sim.rest.binance_derivatives ?? 0;
    const fundingBefore = records.filter((r) => r.data_type === "funding_rate").length;
    expect(sim.dropConnections("binance_derivatives")).toBeGreaterThan(0);
    await waitFor("reconnect gap", () => records.some((r) => r.data_type === "gap" && r.cause === "reconnect"), 10_000);
    // one premiumIndex request per symbol, each giving a funding record
    const symbols = sim.symbols.binance_derivatives.length;
    await waitFor("premiumIndex requests", () => (sim.rest.binance_derivatives ?? 0) >= restBefore + symbols, 10_000);
    await waitFor("funding from REST", () => records.filter((r) => r.data_type === "funding_rate").length >= fundingBefore + symbols, 10_000);
    // Each symbol's funding gap is written again with the one record its premiumIndex gave.
    await waitFor("recovered gaps", () => records.filter((r) => r.data_type === "gap" && r.recovered_at_ms > 0).length === symbols, 10_000);
    for (const r of records) if (r.data_type === "gap" && r.recovered_at_ms > 0) expect(r).toMatchObject({ data_type_affected: "funding_rate", recovered_records: 1 });
  } finally {
    await runner.stop();
  }
}, 30_000);

test("an unreadable depth snapshot is asked for again, at most once a second per symbol", async () => {
  const venue = configWith(replayVenueOverrides(sim)).venues.binance_spot;
  const native = sim.symbols.binance_spot[0] ?? "";
  const asked: number[] = [];
  // The simulator's REST, except that this symbol's depth snapshot is unreadable.
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname.endsWith("/api/v3/depth") && url.searchParams.get("symbol") === native) {
        asked.push(performance.now());
        return new Response('{"lastUpdateId":"none","bids":[],"asks":[]}', { headers: { "Content-Type": "application/json" } });
      }
      return fetch(`${venue.rest_url}${url.pathname.replace(/^\/binance_spot/, "")}${url.search}`);
    },
  });
  const { runner } = runnerFor(sim, "binance_spot", { config: { ...venue, rest_url: `http://127.0.0.1:${proxy.port}/binance_spot`, data_types: ["orderbook"] } });
  await runner.start();
  try {
    await waitFor("the snapshot asked for three times", () => asked.length >= 3, 10_000);
    expect(asked[2]! - asked[0]!).toBeGreaterThanOrEqual(1_900);
  } finally {
    await runner.stop();
    proxy.stop(true);
  }
}, 30_000);

test("a 429 on the instrument metadata is waited out: the runner starts after its Retry-After and data flows", async () => {
  const { runner, records } = runnerFor(sim, "binance_spot");
  sim.rateLimit("binance_spot", 1, 1);
  const t0 = Date.now();
  await runner.start();
  try {
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(runner.rest.rate_limited).toBe(1);
    await waitFor("books after the wait", () => records.some((r) => r.data_type === "orderbook"), 10_000);
  } finally {
    await runner.stop();
  }
}, 30_000);

test("no test of this file broke a venue REST rule (weight, Retry-After, ban)", () => {
  const rest = Object.entries(sim.violations.rules()).filter(([rule]) => rule.startsWith("rest_"));
  expect(rest).toEqual([]);
});

test("the engine broke none of the simulator's venue rules in any test above", () => {
  expect(sim.violations.rules()).toEqual({});
});
