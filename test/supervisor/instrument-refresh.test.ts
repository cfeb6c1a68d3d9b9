import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import type { VenueKey } from "../../src/config/schema.ts";
import { createLogger } from "../../src/log/logger.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { deribitVolatility } from "../../src/venues/deribit/sim-synthetic.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames, venueCounter } from "../../src/stats/layout.ts";
import { assignSymbolChange, VenueSymbols, venueSymbolStats } from "../../src/supervisor/instrument-refresh.ts";
import type { ManagedWorker } from "../../src/supervisor/managed-worker.ts";
import type { IngestShardInit } from "../../src/supervisor/messages.ts";
import { symbolsChanged } from "../../src/supervisor/symbol-resolution.ts";
import { RestClient } from "../../src/venues/connection/rest-client.ts";
import { getVenue } from "../../src/venues/registry.ts";
import type { IngestRunner } from "../../src/venues/ingest.ts";
import type { Instrument } from "../../src/venues/types.ts";
import { OkxConnection } from "../../src/venues/okx/connection.ts";
import { ingestRunner } from "../connection/support.ts";
import { waitFor } from "../support/wait.ts";

const log = createLogger("silent");
let sim: Simulator;

beforeAll(async () => {
  // Three generated assets per venue (BTC, ETH, SOL); SOL starts unlisted, as a future listing.
  sim = await startSimulator({ source: generatorSource(3), rate: 300, synthetic_interval_ms: 100 });
});

afterAll(async () => {
  // Subscribes and unsubscribes on live connections broke no venue rule.
  expect(sim.violations.rules()).toEqual({});
  await sim.stop();
});

function venueSymbols(venue: VenueKey, symbols: unknown, onChange: ConstructorParameters<typeof VenueSymbols>[5]) {
  const cfg = configWith(mergeConfig(replayVenueOverrides(sim), { venues: { [venue]: { symbols, instruments_refresh_s: 0 } } })).venues[venue];
  const rest = new RestClient({ base_url: cfg.rest_url, limits: getVenue(venue).rest_limits, timeout_ms: 5000 });
  const counters = new Counters(counterNames());
  return { cfg, counters, symbols: new VenueSymbols(venue, cfg, rest, counters, log, onChange) };
}

const cases: { venue: VenueKey; selector: object; btc: string; eth: string; sol: string }[] = [
  { venue: "binance_spot", selector: { quote: ["USDT"] }, btc: "BTCUSDT", eth: "ETHUSDT", sol: "SOLUSDT" },
  { venue: "okx_spot", selector: { quote: ["USDT"] }, btc: "BTC-USDT", eth: "ETH-USDT", sol: "SOL-USDT" },
];

describe("instrument refresh", () => {
  for (const { venue, selector, btc, eth, sol } of cases) {
    test(`${venue}: a new listing is subscribed and its book synced, a delisting dropped, on the live connection`, async () => {
      sim.listing.unlisted.clear();
      sim.listing.unlisted.add(sol);
      let runner: IngestRunner | undefined;
      const { cfg, counters, symbols } = venueSymbols(venue, selector, (added, removed) => runner?.changeSymbols(added, removed));
      expect(await symbols.resolve()).toEqual([]);
      expect(symbols.symbols).toEqual([btc, eth]);
      const made = ingestRunner(venue, { ...cfg, symbols: symbols.symbols, data_types: ["trade", "orderbook"] });
      runner = made.runner;
      const records = made.records;
      const booksOf = (native: string) => records.filter((r) => r.data_type === "orderbook" && r.symbol === native.replace(/^(\w+)-?(USDT)$/, "$1-$2"));
      await runner.start();
      try {
        await waitFor("both books", () => booksOf(btc).length > 0 && booksOf(eth).length > 0, 20_000);
        const connections = sim.connections(venue);
        const connects = venue === "binance_spot" ? sim.connects.binance_spot : 0;
        const okxLeft = runner.connection instanceof OkxConnection ? runner.connection.requestsLeft : 0;
        sim.listing.unlisted.delete(sol);
        sim.listing.unlisted.add(btc);
        await symbols.refresh();
        const changedAt = records.length;
        expect(symbols.symbols).toEqual([eth, sol]);
        const stats = venueSymbolStats(counters, venue, symbols.recent());
        expect(stats).toMatchObject({ resolved: 2, added: 1, removed: 1, refreshes: 2, refresh_failures: 0, last_refresh_error: null });
        expect(stats.changes.map((c) => [c.symbol, c.change])).toEqual([[sol, "added"], [btc, "removed"]]);
        await waitFor(`${sol} book synced`, () => (runner?.normalizer?.bookHealth() ?? []).some((b) => b.native === sol && b.state === "live"), 20_000);
        await waitFor(`${sol} book records`, () => booksOf(sol).length > 0, 20_000);
        const ethBefore = booksOf(eth).length;
        await waitFor(`${eth} goes on`, () => booksOf(eth).length > ethBefore + 3, 20_000);
        // Nothing of the delisted symbol after the change; its book is gone from the health report.
        expect(records.slice(changedAt).filter((r) => r.symbol === booksOf(btc)[0]?.symbol)).toEqual([]);
        expect((runner.normalizer?.bookHealth() ?? []).map((b) => b.native).sort()).toEqual([eth, sol]);
        // The unaffected symbols' connection was never reconnected and no hole was recorded.
        expect(runner.connection?.reconnects).toBe(0);
        expect(sim.connections(venue)).toBe(connections);
        if (venue === "binance_spot") expect(sim.connects.binance_spot).toBe(connects);
        expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
        // OKX: one unsubscribe and one subscribe request from the connection's 480 an hour.
        if (runner.connection instanceof OkxConnection) expect(runner.connection.requestsLeft).toBe(okxLeft - 2);
      } finally {
        await runner.stop();
        symbols.stop();
        sim.listing.unlisted.clear();
      }
    }, 60_000);
  }

  test("binance_spot at one symbol per connection: a listing joins a connection a delisting emptied, or opens its own; an emptied connection closes", async () => {
    sim.listing.unlisted.clear();
    sim.listing.unlisted.add("SOLUSDT");
    let runner: IngestRunner | undefined;
    const { cfg, symbols } = venueSymbols("binance_spot", { quote: ["USDT"] }, (added, removed) => runner?.changeSymbols(added, removed));
    expect(await symbols.resolve()).toEqual([]);
    // spot streams per symbol: trade and depth, so a cap of 2 streams puts each symbol on its own connection.
    const made = ingestRunner("binance_spot", { ...cfg, symbols: symbols.symbols, data_types: ["trade", "orderbook"] }, { tuning: { backoff: { initial_ms: 10, max_ms: 50 }, binance_max_streams: 2 } });
    runner = made.runner;
    const live = (native: string) => (runner?.normalizer?.bookHealth() ?? []).some((b) => b.native === native && b.state === "live");
    await runner.start();
    try {
      await waitFor("two connections, two books", () => sim.connections("binance_spot") === 2 && live("BTCUSDT") && live("ETHUSDT"), 20_000);
      const connects = sim.connects.binance_spot;
      sim.listing.unlisted.delete("SOLUSDT");
      sim.listing.unlisted.add("BTCUSDT");
      await symbols.refresh();
      await waitFor("SOLUSDT live on BTCUSDT's connection", () => live("SOLUSDT"), 20_000);
      expect(sim.connects.binance_spot).toBe(connects);
      expect(sim.connections("binance_spot")).toBe(2);
      sim.listing.unlisted.clear();
      await symbols.refresh();
      await waitFor("BTCUSDT live on a third connection", () => live("BTCUSDT") && sim.connections("binance_spot") === 3, 20_000);
      expect(sim.connects.binance_spot).toBe(connects + 1);
      sim.listing.unlisted.add("ETHUSDT");
      await symbols.refresh();
      await waitFor("ETHUSDT's connection closed", () => sim.connections("binance_spot") === 2, 20_000);
      expect(symbols.symbols).toEqual(["SOLUSDT", "BTCUSDT"]);
      expect(runner.connection?.reconnects).toBe(0);
      expect(made.records.filter((r) => r.data_type === "gap")).toEqual([]);
    } finally {
      await runner.stop();
      symbols.stop();
      sim.listing.unlisted.clear();
    }
  }, 60_000);

  test("deribit_derivatives: a currency listed again is subscribed and a delisted one unsubscribed on the one connection", async () => {
    sim.listing.unlisted.clear();
    sim.listing.unlisted.add("ETH");
    let runner: IngestRunner | undefined;
    const { cfg, symbols } = venueSymbols("deribit_derivatives", {}, (added, removed) => runner?.changeSymbols(added, removed));
    expect(await symbols.resolve()).toEqual([]);
    expect(symbols.symbols).toEqual(["BTC"]);
    const made = ingestRunner("deribit_derivatives", { ...cfg, symbols: symbols.symbols });
    runner = made.runner;
    const records = made.records;
    const indexOf = (from: number, symbol: string) => records.slice(from).filter((r) => r.data_type === "volatility_index" && r.symbol === symbol).length;
    await runner.start();
    try {
      await waitFor("BTC index", () => indexOf(0, "BTC") > 0, 20_000);
      sim.listing.unlisted.clear();
      sim.listing.unlisted.add("BTC");
      await symbols.refresh();
      const changedAt = records.length;
      expect(symbols.symbols).toEqual(["ETH"]);
      await waitFor("ETH index", () => indexOf(changedAt, "ETH") > 2, 20_000);
      expect(indexOf(changedAt, "BTC")).toBe(0);
      expect(runner.connection?.reconnects).toBe(0);
      expect(sim.connections("deribit_derivatives")).toBe(1);
      expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
      // A refresh that leaves nothing selected drops every symbol (no error after start) and keeps none.
      sim.listing.unlisted.add("ETH");
      await symbols.refresh();
      expect(symbols.symbols).toEqual([]);
      const emptiedAt = records.length;
      // A frame still in flight for a dropped currency yields nothing.
      const data = deribitVolatility("eth_usd", Date.now(), 1);
      const frame = JSON.stringify({ jsonrpc: "2.0", method: "subscription", params: { channel: "deribit_volatility_index.eth_usd", data } });
      runner.normalizer?.push({ source: "ws", url: "ws://sim/deribit", recv_ts_ms: Date.now(), raw: frame });
      expect(records.slice(emptiedAt).filter((r) => r.data_type === "volatility_index")).toEqual([]);
    } finally {
      await runner.stop();
      symbols.stop();
      sim.listing.unlisted.clear();
    }
  }, 60_000);

  test("a burst of Binance symbol changes goes out as paced SUBSCRIBE/UNSUBSCRIBE requests within the incoming-message limit", async () => {
    sim.listing.unlisted.clear();
    const cfg = configWith(replayVenueOverrides(sim)).venues.binance_spot;
    const { runner } = ingestRunner("binance_spot", { ...cfg, symbols: ["BTCUSDT", "ETHUSDT"], data_types: ["trade", "orderbook"] });
    const live = (native: string) => (runner.normalizer?.bookHealth() ?? []).some((b) => b.native === native && b.state === "live");
    await runner.start();
    try {
      await waitFor("both books", () => live("BTCUSDT") && live("ETHUSDT"), 20_000);
      const before = runner.connection?.requests ?? 0;
      const sol = { native: "SOLUSDT", base: "SOL", quote: "USDT", market_type: "spot" as const, symbol: "SOL-USDT" };
      for (let i = 0; i < 8; i++) {
        runner.changeSymbols([sol], []);
        runner.changeSymbols([], ["SOLUSDT"]);
      }
      runner.changeSymbols([sol], []);
      // 17 requests at 3 a second (spot's 5 less the pong headroom): about 6 s.
      await waitFor("every request sent", () => (runner.connection?.requests ?? 0) === before + 17, 20_000);
      await waitFor("SOLUSDT live after the last subscribe", () => live("SOLUSDT"), 20_000);
      expect(runner.connection?.requestsPeakPerS).toBeLessThanOrEqual(3);
      expect(runner.connection?.reconnects).toBe(0);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  test("a failed refresh keeps the current symbols, is counted and names its error", async () => {
    const changes: unknown[] = [];
    const { counters, symbols } = venueSymbols("binance_spot", { quote: ["USDT"] }, (added, removed) => changes.push({ added, removed }));
    expect(await symbols.resolve()).toEqual([]);
    expect(symbols.symbols).toEqual(["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
    // A 429 whose Retry-After outlasts the 60 s a metadata read waits: the refresh fails at once.
    sim.fault({ venue: "binance_spot", kind: "rate_limit", seconds: 90 });
    await symbols.refresh();
    expect(symbols.symbols).toEqual(["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
    expect(changes).toEqual([]);
    const stats = venueSymbolStats(counters, "binance_spot", symbols.recent());
    expect(stats).toMatchObject({ resolved: 3, refreshes: 1, refresh_failures: 1, added: 0, removed: 0 });
    expect(stats.last_refresh_error).toContain("exchangeInfo");
    expect(counters.read(venueCounter("binance_spot", "instrument_refresh_failures"))).toBe(1);
    symbols.stop();
  });
  test("a refresh whose change cannot be applied resolves, is counted failed and names its error", async () => {
    sim.listing.unlisted.clear();
    sim.listing.unlisted.add("SOL-USDT");
    const { counters, symbols } = venueSymbols("okx_spot", { quote: ["USDT"] }, () => {
      throw new Error("worker gone");
    });
    try {
      expect(await symbols.resolve()).toEqual([]);
      sim.listing.unlisted.clear();
      await symbols.refresh();
      const stats = venueSymbolStats(counters, "okx_spot", symbols.recent());
      expect(stats).toMatchObject({ refreshes: 1, refresh_failures: 1 });
      expect(stats.last_refresh_error).toBe("worker gone");
    } finally {
      symbols.stop();
    }
  });
});

describe("assignSymbolChange", () => {
  test("a removed symbol leaves the worker that has it, an added one goes to the least loaded worker", () => {
    const shards = new Map([
      ["ingest:binance_spot:0", ["A", "C", "E"]],
      ["ingest:binance_spot:1", ["B", "D"]],
    ]);
    const plan = assignSymbolChange(shards, ["F", "G", "B"], ["C", "E"]);
    // After the removals worker 0 holds 1 and worker 1 holds 2: F evens them, G goes to the first of
    // the tie; B is held already.
    expect(Object.fromEntries(plan)).toEqual({
      "ingest:binance_spot:0": { symbols: ["A", "F", "G"], add: ["F", "G"], remove: ["C", "E"] },
    });
    expect(Object.fromEntries(assignSymbolChange(shards, ["H", "I", "J"], []))).toEqual({
      "ingest:binance_spot:0": { symbols: ["A", "C", "E", "I"], add: ["I"], remove: [] },
      "ingest:binance_spot:1": { symbols: ["B", "D", "H", "J"], add: ["H", "J"], remove: [] },
    });
  });
});

describe("symbolsChanged", () => {
  const inst = (native: string): Instrument => ({ native, base: native.split("-")[0] ?? native, quote: "USDT", market_type: "spot", symbol: native });
  const shard = (venue: VenueKey, index: number, symbols: string[]): IngestShardInit => ({
    id: `ingest:${venue}:${index}`,
    venue,
    index,
    symbols,
    instruments: symbols.map(inst),
    rest_budget: new SharedArrayBuffer(8),
    rest_scale: null,
    connect_shares: 1,
  });
  const thread = (id: string, shards: IngestShardInit[]) => ({ id, init: { kind: "ingest", id, index: 0, shards } }) as unknown as ManagedWorker;

  test("a change of a shared venue goes to its shard in the shared thread, whose other venues keep their symbols", () => {
    const shared = thread("ingest:shared:0", [shard("binance_derivatives", 0, ["BTCUSDT"]), shard("okx_spot", 0, ["BTC-USDT", "ETH-USDT"])]);
    const own = thread("ingest:binance_spot:0", [shard("binance_spot", 0, ["BTCUSDT"])]);
    const out = symbolsChanged([own, shared], "okx_spot", [inst("SOL-USDT")], ["BTC-USDT"]);
    expect(out.map((o) => [o.worker.id, o.message])).toEqual([
      ["ingest:shared:0", { type: "symbols", shard: "ingest:okx_spot:0", add: [inst("SOL-USDT")], remove: ["BTC-USDT"] }],
    ]);
    const next = out[0]?.init;
    expect(next?.shards.map((s) => [s.id, s.symbols])).toEqual([
      ["ingest:binance_derivatives:0", ["BTCUSDT"]],
      ["ingest:okx_spot:0", ["ETH-USDT", "SOL-USDT"]],
    ]);
    // A restarted thread has the added symbol's metadata.
    expect(next?.shards[1]?.instruments?.map((i) => i.native)).toEqual(["BTC-USDT", "ETH-USDT", "SOL-USDT"]);
    // A venue the shared thread does not run changes nothing there.
    expect(symbolsChanged([own, shared], "okx_derivatives", [inst("BTC-USDT-SWAP")], [])).toEqual([]);
  });

  test("a venue with threads of its own spreads its listings over them as assignSymbolChange says", () => {
    const a = thread("ingest:binance_spot:0", [shard("binance_spot", 0, ["A", "C"])]);
    const b = thread("ingest:binance_spot:1", [shard("binance_spot", 1, ["B"])]);
    const out = symbolsChanged([a, b], "binance_spot", [inst("D"), inst("E")], ["C"]);
    expect(out.map((o) => [o.worker.id, o.message.shard, o.message.add.map((i) => i.native), o.message.remove])).toEqual([
      ["ingest:binance_spot:0", "ingest:binance_spot:0", ["D"], ["C"]],
      ["ingest:binance_spot:1", "ingest:binance_spot:1", ["E"], []],
    ]);
    expect(out.map((o) => o.init.shards[0]?.symbols)).toEqual([["A", "D"], ["B", "E"]]);
  });
});
