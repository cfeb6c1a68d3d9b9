import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import type { VenueConfig, VenueKey } from "../../src/config/schema.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { RestClient } from "../../src/venues/connection/rest-client.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { closestSymbols, fetchListing, selectionErrors, selectorConfigErrors, selectSymbols } from "../../src/venues/selection.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ source: generatorSource(4), rate: 100, synthetic_interval_ms: 200 });
});

afterAll(async () => {
  await sim.stop();
});

/** `venue`'s config pointed at the simulator, with `symbols` (a list or a selector). */
function venueConfig(venue: VenueKey, symbols: unknown): VenueConfig {
  return configWith(mergeConfig(replayVenueOverrides(sim), { venues: { [venue]: { symbols } } })).venues[venue];
}

/** Resolves `symbols` on `venue` against the simulator; `weight` is the REST weight it drew. */
async function resolve(venue: VenueKey, symbols: unknown) {
  const cfg = venueConfig(venue, symbols);
  let weight = 0;
  const rest = new RestClient({ base_url: cfg.rest_url, limits: getVenue(venue).rest_limits, timeout_ms: 5000, stats: { weight: (n) => (weight += n), limited: () => {} } });
  const listing = await fetchListing(venue, cfg, rest);
  rest.stop();
  const selection = selectSymbols(cfg, listing);
  return { cfg, listing, selection, errors: selectionErrors(venue, cfg, listing, selection), weight };
}

describe("symbol selectors", () => {
  test("a selector takes every trading instrument of its quote assets, by id", async () => {
    const { selection, errors } = await resolve("binance_spot", { quote: ["usdt"] });
    expect(selection.symbols).toEqual(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]);
    expect(errors).toEqual([]);
  });

  test("top N keeps the largest by 24 h quote volume from the ticker list, which draws its weight from the budget", async () => {
    const top = await resolve("binance_spot", { quote: ["USDT"], top: 2 });
    // The simulator's quote volume is price x 1e6: BTC (65,000) and ETH (3,200) lead.
    expect(top.selection.symbols).toEqual(["BTCUSDT", "ETHUSDT"]);
    // exchangeInfo 20 + /api/v3/ticker/24hr without a symbol 80 (binance/rest-weights.ts).
    expect(top.weight).toBe(100);
    const all = await resolve("binance_spot", { quote: ["USDT"] });
    expect(all.weight).toBe(20);
    const futures = await resolve("binance_derivatives", { top: 3 });
    expect(futures.selection.symbols).toEqual(["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
    expect(futures.weight).toBe(1 + 40);
  });

  test("exclude drops listed ids before top, include adds listed ids whatever the filters say", async () => {
    const { selection } = await resolve("binance_spot", { top: 2, exclude: ["BTCUSDT"], include: ["XRPUSDT"] });
    expect(selection.symbols).toEqual(["ETHUSDT", "SOLUSDT", "XRPUSDT"]);
    const both = await resolve("binance_spot", { quote: ["BTC"], include: ["ETHUSDT"], exclude: ["ETHUSDT"] });
    expect(both.selection.symbols).toEqual([]);
  });

  test("contract: perpetual keeps OKX swaps, OKX top ranks swaps by volCcy24h x last", async () => {
    const swaps = await resolve("okx_derivatives", { contract: "perpetual", top: 2 });
    expect(swaps.selection.symbols).toEqual(["BTC-USDT-SWAP", "ETH-USDT-SWAP"]);
    const spot = await resolve("okx_spot", { contract: "perpetual" });
    expect(spot.selection.symbols).toEqual([]);
    expect(spot.errors).toEqual([
      `'venues.okx_spot.symbols' = {"contract":"perpetual"} matches none of the ${spot.listing.trading.size} instruments okx_spot lists as trading`,
    ]);
  });

  test("an instrument the venue lists but does not trade is not selected; an explicit list keeps it", async () => {
    const { cfg, listing } = await resolve("binance_spot", { quote: ["USDT"] });
    const halted = { ...listing, trading: new Set([...listing.trading].filter((n) => n !== "SOLUSDT")) };
    expect(selectSymbols(cfg, halted).symbols).toEqual(["BTCUSDT", "ETHUSDT", "XRPUSDT"]);
    expect(selectSymbols({ symbols: ["SOLUSDT"] }, halted).symbols).toEqual(["SOLUSDT"]);
  });

  test("an explicit symbol the venue does not list is an error naming it and the closest listed ids", async () => {
    const { selection, errors } = await resolve("binance_spot", ["BTCUSTD", "ETHUSDT"]);
    expect(selection.symbols).toEqual(["ETHUSDT"]);
    expect(selection.unknown).toEqual(["BTCUSTD"]);
    expect(errors).toEqual(["'venues.binance_spot.symbols' has BTCUSTD, which binance_spot does not list (closest listed: BTCUSDT, ETHUSDT, SOLUSDT)"]);
    const include = await resolve("okx_spot", { include: ["SOL-USDC"] });
    expect(include.errors[0]).toBe("'venues.okx_spot.symbols' has SOL-USDC, which okx_spot does not list (closest listed: SOL-USDT, BTC-USDT, ETH-USDT)");
  });

  test("closest ids are by edit distance, case-insensitive, ties by id", () => {
    expect(closestSymbols("btcusdt", ["ETHUSDT", "BTCUSDT", "BTCUSDC", "BTCTUSD"], 2)).toEqual(["BTCUSDT", "BTCUSDC"]);
  });

  test("Deribit has no volume to rank by: top is a config error", () => {
    const config = configWith({ venues: { deribit_derivatives: { symbols: { top: 1 } } } });
    expect(selectorConfigErrors(config)).toEqual([
      "'venues.deribit_derivatives.symbols.top' = 1: deribit_derivatives has no 24 h volume to rank its symbols by; list them or drop 'top'",
    ]);
    expect(config.venues.deribit_derivatives.symbols).toEqual([]);
    expect(config.venues.deribit_derivatives.selector).toEqual({ top: 1 });
  });
});
