import { describe, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import { connectShares, ingestShards, planTopology, shardSymbols, venueConfigErrors } from "../../src/supervisor/topology.ts";
import { batchIndexFor } from "../../src/pipeline/route.ts";
import { RECORD_TYPES } from "../../src/records/types.ts";

const onlyBinance = {
  venues: {
    binance_spot: { symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], workers: 2, data_types: ["trade", "orderbook"] },
    binance_derivatives: { enabled: false },
    okx_spot: { enabled: false },
    okx_derivatives: { enabled: false },
    deribit_derivatives: { enabled: false },
  },
};

function withSpot(spot: Record<string, unknown>) {
  return { ...onlyBinance, venues: { ...onlyBinance.venues, binance_spot: { ...onlyBinance.venues.binance_spot, ...spot } } };
}

describe("topology from config", () => {
  test("worker counts per venue and per data type are what the config says", () => {
    const plan = planTopology(configWith({ ...onlyBinance, batch_workers: { trade: 3, orderbook: 1 } }));
    expect(plan.ingest.map((i) => [i.id, i.shards.map((s) => [s.id, s.symbols])])).toEqual([
      ["ingest:binance_spot:0", [["ingest:binance_spot:0", ["BTCUSDT", "SOLUSDT"]]]],
      ["ingest:binance_spot:1", [["ingest:binance_spot:1", ["ETHUSDT"]]]],
    ]);
    expect(plan.batch.filter((b) => b.lanes.some((l) => l.type === "trade")).map((b) => b.id)).toEqual(["batch:trade:0", "batch:trade:1", "batch:trade:2"]);
    // one ring per (ingest worker, lane of a type it produces): 2 x (3 trade + 1 book + 1 gap)
    expect(plan.rings.length).toBe(10);
    expect(plan.rings.filter((r) => r.from === "ingest:binance_spot:1" && r.type === "trade").map((r) => [r.batch_index, r.to])).toEqual([
      [0, "batch:trade:0"],
      [1, "batch:trade:1"],
      [2, "batch:trade:2"],
    ]);
  });

  test("changing a count changes the topology", () => {
    const a = planTopology(configWith(withSpot({ workers: 1 })));
    const b = planTopology(configWith({ ...onlyBinance, batch_workers: { trade: 2, gap: 0 } }));
    expect(a.ingest.length).toBe(1);
    expect(a.rings.length).toBe(3);
    expect(b.ingest.length).toBe(2);
    expect(b.batch.some((w) => w.lanes.some((l) => l.type === "gap"))).toBe(false);
    expect(b.ingest[0]?.types).toEqual(["trade", "orderbook"]);
    expect(b.rings.length).toBe(2 * (2 + 1));
  });

  test("0 workers disables a venue or a data type, and the store role starts no ingest", () => {
    const plan = planTopology(configWith(withSpot({ workers: 0 })));
    expect(plan.ingest).toEqual([]);
    const store = planTopology(configWith({ engine: { role: "store" } }));
    expect(store.ingest).toEqual([]);
    // trade and orderbook on their own, the eight shared types in one thread
    expect(store.batch.length).toBe(3);
  });

  test("shared types run as lanes of one thread; a type given workers runs its own threads", () => {
    const plan = planTopology(configWith({ venues: { deribit_derivatives: { enabled: false } }, batch_workers: { liquidation: 2 } }));
    expect(plan.batch.map((b) => [b.id, b.lanes.map((l) => `${l.type}:${l.index}`)])).toEqual([
      ["batch:trade:0", ["trade:0"]],
      ["batch:orderbook:0", ["orderbook:0"]],
      ["batch:liquidation:0", ["liquidation:0"]],
      ["batch:liquidation:1", ["liquidation:1"]],
      ["batch:shared:0", ["funding_rate:0", "open_interest:0", "lsr_top_position:0", "lsr_all_account:0", "volatility_index:0", "orderbook_delta:0", "gap:0"]],
    ]);
    // Every ring of a shared type goes to the shared thread, one per (ingest thread, type).
    const fromShared = plan.rings.filter((r) => r.from === "ingest:shared:0");
    expect(fromShared.filter((r) => r.to === "batch:shared:0").map((r) => r.type)).toEqual(["funding_rate", "open_interest", "lsr_top_position", "lsr_all_account", "gap"]);
    expect(fromShared.filter((r) => r.type === "liquidation").map((r) => r.to)).toEqual(["batch:liquidation:0", "batch:liquidation:1"]);
    const allOwn = planTopology(configWith({ batch_workers: Object.fromEntries(RECORD_TYPES.map((t) => [t, 1])) }));
    expect(allOwn.batch.map((b) => b.id)).toEqual(RECORD_TYPES.map((t) => `batch:${t}:0`));
  });

  test("more workers than symbols starts one per symbol and says so", () => {
    const plan = planTopology(configWith(withSpot({ workers: 5 })));
    expect(plan.ingest.length).toBe(3);
    expect(plan.warnings.join("\n")).toContain("venues.binance_spot.workers = 5 but only 3 symbols");
  });

  test("OKX spot and derivatives threads share one connect limit; a venue without one counts alone", () => {
    const three = ["BTC-USDT", "ETH-USDT", "SOL-USDT"];
    const plan = planTopology(
      configWith({
        venues: {
          okx_spot: { enabled: true, workers: 5, symbols: three },
          okx_derivatives: { enabled: true, workers: 2, symbols: ["BTC-USDT-SWAP", "ETH-USDT-SWAP"] },
          binance_spot: { enabled: true, workers: 2, symbols: ["BTCUSDT", "ETHUSDT"] },
        },
      }),
    );
    expect(connectShares(plan, "okx_spot")).toBe(5);
    expect(connectShares(plan, "okx_derivatives")).toBe(5);
    expect(connectShares(plan, "binance_spot")).toBe(1);
    // Two shared OKX venues: two workers, each with its own connections, in one thread.
    const shared = planTopology(configWith({ venues: { okx_spot: { workers: "shared" }, okx_derivatives: { workers: "shared" } } }));
    expect(connectShares(shared, "okx_spot")).toBe(2);
  });

  test("shared venues run as shards of one thread, which writes one ring per lane of every type they produce", () => {
    const plan = planTopology(
      configWith({
        venues: {
          binance_spot: { workers: 2, symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"] },
          binance_derivatives: { workers: "shared", symbols: ["BTCUSDT"] },
          okx_spot: { workers: "shared", symbols: ["BTC-USDT", "ETH-USDT"] },
          okx_derivatives: { enabled: false },
          deribit_derivatives: { workers: "shared", symbols: ["BTC"] },
        },
        batch_workers: { trade: 2 },
      }),
    );
    expect(plan.ingest.map((i) => [i.id, i.shards.map((s) => [s.id, s.symbols])])).toEqual([
      ["ingest:binance_spot:0", [["ingest:binance_spot:0", ["BTCUSDT", "SOLUSDT"]]]],
      ["ingest:binance_spot:1", [["ingest:binance_spot:1", ["ETHUSDT"]]]],
      [
        "ingest:shared:0",
        [
          ["ingest:binance_derivatives:0", ["BTCUSDT"]],
          ["ingest:okx_spot:0", ["BTC-USDT", "ETH-USDT"]],
          ["ingest:deribit_derivatives:0", ["BTC"]],
        ],
      ],
    ]);
    const shared = plan.ingest[2];
    expect(shared?.types).toEqual(["trade", "orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account", "volatility_index", "gap"]);
    // One ring per lane of each of its types, whichever of its venues produces it: 2 trade lanes + 8 others.
    expect(plan.rings.filter((r) => r.from === "ingest:shared:0").length).toBe(10);
    expect(plan.rings.filter((r) => r.from === "ingest:shared:0" && r.type === "trade").map((r) => r.to)).toEqual(["batch:trade:0", "batch:trade:1"]);
    expect(ingestShards(plan).map((s) => s.id)).toEqual(["ingest:binance_spot:0", "ingest:binance_spot:1", "ingest:binance_derivatives:0", "ingest:okx_spot:0", "ingest:deribit_derivatives:0"]);
  });

  test("the default config runs every venue in the shared ingest thread", () => {
    const plan = planTopology(configWith({}));
    expect(plan.ingest.map((i) => [i.id, i.shards.map((s) => s.id)])).toEqual([
      ["ingest:shared:0", ["ingest:binance_spot:0", "ingest:binance_derivatives:0", "ingest:okx_spot:0", "ingest:okx_derivatives:0", "ingest:deribit_derivatives:0"]],
    ]);
    expect(plan.batch.map((b) => b.id)).toEqual(["batch:trade:0", "batch:orderbook:0", "batch:shared:0"]);
  });

  test("symbols shard round-robin and a symbol always routes to the same batch worker", () => {
    expect(shardSymbols(["a", "b", "c", "d", "e"], 2)).toEqual([["a", "c", "e"], ["b", "d"]]);
    const index = batchIndexFor("BTC-USDT", 4);
    for (let i = 0; i < 10; i++) expect(batchIndexFor("BTC-USDT", 4)).toBe(index);
    const spread = new Set(["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT", "ADA-USDT"].map((s) => batchIndexFor(s, 4)));
    expect(spread.size).toBeGreaterThan(1);
  });
});

test("a data type a venue does not offer, or an OKX ratio bucket rubik lacks, is refused by name", () => {
  expect(venueConfigErrors(configWith())).toEqual([]);
  const errors = venueConfigErrors(
    configWith({ venues: { binance_spot: { data_types: ["trade", "funding_rate"] }, okx_derivatives: { poll_period: "15m" } } }),
  );
  expect(errors).toEqual([
    "'venues.binance_spot.data_types' has funding_rate: binance_spot offers trade, orderbook, orderbook_delta",
    `'venues.okx_derivatives.poll_period' = "15m": OKX long/short ratios come in 5m or 1h buckets`,
  ]);
});

test("orderbook_delta is refused on a venue without orderbook, whose book it would come from, and on Deribit", () => {
  expect(venueConfigErrors(configWith({ venues: { binance_spot: { data_types: ["trade", "orderbook", "orderbook_delta"] } } }))).toEqual([]);
  expect(venueConfigErrors(configWith({ venues: { okx_spot: { data_types: ["trade", "orderbook_delta"] }, deribit_derivatives: { data_types: ["volatility_index", "orderbook_delta"] } } }))).toEqual([
    "'venues.okx_spot.data_types' has orderbook_delta without orderbook: the deltas come from the book orderbook keeps",
    "'venues.deribit_derivatives.data_types' has orderbook_delta: deribit_derivatives offers volatility_index",
    "'venues.deribit_derivatives.data_types' has orderbook_delta without orderbook: the deltas come from the book orderbook keeps",
  ]);
});

test("an OKX book channel that needs a login is refused without credentials, naming the key; Deribit workers are capped by its 32 connections", () => {
  const l2 = configWith({ venues: { okx_spot: { book_channel: "books-l2-tbt" }, okx_derivatives: { book_channel: "books50-l2-tbt" } } });
  expect(venueConfigErrors(l2, {})).toEqual([
    `'venues.okx_spot.book_channel' = "books-l2-tbt" needs an OKX login: set OKX_API_KEY, OKX_API_SECRET, OKX_API_PASSPHRASE in the environment, or use "books" (public)`,
    `'venues.okx_derivatives.book_channel' = "books50-l2-tbt" needs an OKX login: set OKX_API_KEY, OKX_API_SECRET, OKX_API_PASSPHRASE in the environment, or use "books" (public)`,
  ]);
  expect(venueConfigErrors(l2, { OKX_API_KEY: "k", OKX_API_SECRET: "s", OKX_API_PASSPHRASE: "p" })).toEqual([]);
  // One credential missing is no login.
  expect(venueConfigErrors(l2, { OKX_API_KEY: "k", OKX_API_SECRET: "s" })).toHaveLength(2);
  // Without orderbook the channel is never subscribed.
  expect(venueConfigErrors(configWith({ venues: { okx_spot: { book_channel: "books-l2-tbt", data_types: ["trade"] }, okx_derivatives: { enabled: false } } }), {})).toEqual([]);
  const currencies = Array.from({ length: 20 }, (_, i) => `C${i}`);
  expect(venueConfigErrors(configWith({ venues: { deribit_derivatives: { symbols: currencies, workers: 16 } } }), {})).toEqual([]);
  expect(venueConfigErrors(configWith({ venues: { deribit_derivatives: { symbols: currencies, workers: 17 } } }), {})).toEqual([
    "'venues.deribit_derivatives.workers' = 17: each worker holds up to 2 connections and Deribit allows 32 per IP, so at most 16",
  ]);
});
