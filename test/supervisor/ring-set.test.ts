import { expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import { RingSet } from "../../src/supervisor/ring-set.ts";
import { planTopology } from "../../src/supervisor/topology.ts";

test("rings of trades, books and book changes get ring.capacity_bytes, every other type ring.low_volume_capacity_bytes", () => {
  const config = configWith({
    venues: {
      binance_spot: { enabled: false },
      binance_derivatives: { symbols: ["BTCUSDT"], data_types: ["trade", "orderbook", "orderbook_delta", "funding_rate", "liquidation"] },
      okx_spot: { enabled: false },
      okx_derivatives: { enabled: false },
      deribit_derivatives: { enabled: false },
    },
    // liquidations in a thread of their own still get a low-volume ring: the size follows the type
    batch_workers: { liquidation: 1 },
    ring: { capacity_bytes: 1 << 20, low_volume_capacity_bytes: 1 << 16 },
  });
  const rings = new RingSet(planTopology(config), config.ring);
  const sizes = Object.fromEntries(rings.all().map((r) => [`${r.type}->${r.to}`, r.ring.capacity]));
  expect(sizes).toEqual({
    "trade->batch:trade:0": 1 << 20,
    "orderbook->batch:orderbook:0": 1 << 20,
    "orderbook_delta->batch:shared:0": 1 << 20,
    "funding_rate->batch:shared:0": 1 << 16,
    "liquidation->batch:liquidation:0": 1 << 16,
    "gap->batch:shared:0": 1 << 16,
  });
  // The ingest thread (the shared one: the venue's default) writes into exactly those buffers.
  const links = rings.linksFrom("ingest:shared:0");
  expect(links.map((l) => l.type).sort()).toEqual(["funding_rate", "gap", "liquidation", "orderbook", "orderbook_delta", "trade"]);
  for (const l of links) expect(rings.all().find((r) => r.type === l.type)?.ring.sab).toBe(l.buffer);
});
