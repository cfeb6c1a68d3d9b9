import { describe, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import { EngineDownGaps } from "../../src/pipeline/engine-down-gaps.ts";
import type { GapRecord, TradeRecord } from "../../src/records/types.ts";
import { allClaimed, collectedTypes, ENGINE_DOWN_DEADLINE_MS, planEngineDown } from "../../src/supervisor/engine-down.ts";
import type { EngineDownPlan } from "../../src/supervisor/messages.ts";
import { waitFor } from "../support/wait.ts";

function trade(symbol: string, ts_ms: number): TradeRecord {
  return { data_type: "trade", exchange: "binance", market_type: "spot", symbol, ts_ms, recv_ts_ms: ts_ms, trade_id: String(ts_ms), price: "1", quantity: "1", side: "buy", is_maker: false, trade_time: ts_ms };
}

function plan(deadline_at_ms = Date.now() + 60_000): EngineDownPlan {
  return {
    gaps: [
      { data_type: "trade", exchange: "binance", market_type: "spot", symbol: "BTC-USDT", start_ts_ms: 1000 },
      { data_type: "trade", exchange: "binance", market_type: "spot", symbol: "ETH-USDT", start_ts_ms: 2000 },
    ],
    claims: new SharedArrayBuffer(8),
    deadline_at_ms,
  };
}

describe("engine_down gap plan", () => {
  test("starts each kind at the newest record any source kept, and leaves out kinds the crashed run did not receive", () => {
    const stream = new Map([
      ["trade.binance.spot.BTC-USDT", { ts_ms: 5000, recv_ts_ms: 5100 }],
      ["trade.binance.spot.OLD-USDT", { ts_ms: 100, recv_ts_ms: 150 }],
    ]);
    const clickhouse = new Map([
      ["trade.binance.spot.BTC-USDT", { ts_ms: 4000, recv_ts_ms: 4100 }],
      ["orderbook.okx.perpetual.BTC-USDT", { ts_ms: 7000, recv_ts_ms: 7050 }],
    ]);
    const p = planEngineDown([stream, clickhouse], 1000, 10_000);
    expect(p.gaps).toEqual([
      { data_type: "orderbook", exchange: "okx", market_type: "perpetual", symbol: "BTC-USDT", start_ts_ms: 7000 },
      { data_type: "trade", exchange: "binance", market_type: "spot", symbol: "BTC-USDT", start_ts_ms: 5000 },
    ]);
    expect(p.deadline_at_ms).toBe(10_000 + ENGINE_DOWN_DEADLINE_MS);
    expect(allClaimed(p)).toBe(false);
  });

  test("counts the data types of the venues this run collects, per exchange; the store role collects none", () => {
    const off = { enabled: false };
    const venues = {
      binance_spot: { enabled: true, symbols: ["BTCUSDT"], workers: 1, data_types: ["trade", "orderbook"] },
      binance_derivatives: { enabled: true, symbols: ["BTCUSDT"], workers: 1, data_types: ["funding_rate"] },
      okx_spot: { enabled: true, symbols: ["BTC-USDT"], workers: 0, data_types: ["trade"] },
      okx_derivatives: off,
      deribit_derivatives: off,
    };
    const collected = collectedTypes(configWith({ venues, batch_workers: { orderbook: 0 } }));
    expect([...collected].map(([e, t]) => [e, [...t].sort()])).toEqual([["binance", ["funding_rate", "trade"]]]);
    expect(collectedTypes(configWith({ venues, engine: { role: "store" } })).size).toBe(0);
  });
});

describe("engine_down gaps in ingest workers", () => {
  test("a kind's first record writes its gap once, across workers sharing the plan", () => {
    const p = plan();
    const a: GapRecord[] = [];
    const b: GapRecord[] = [];
    const workerA = new EngineDownGaps(p, (g) => a.push(g));
    const workerB = new EngineDownGaps(p, (g) => b.push(g));
    workerA.seen(trade("BTC-USDT", 9000));
    workerA.seen(trade("BTC-USDT", 9500));
    workerB.seen(trade("BTC-USDT", 9100));
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ data_type: "gap", exchange: "binance", market_type: "spot", symbol: "BTC-USDT", data_type_affected: "trade", start_ts_ms: 1000, end_ts_ms: 9000, ts_ms: 9000, cause: "engine_down" });
    expect(b).toEqual([]);
    // A clock that went back (a replay started over) gives a gap of zero length, never a negative one.
    workerB.seen(trade("ETH-USDT", 1500));
    expect(b.map((g) => [g.start_ts_ms, g.end_ts_ms])).toEqual([[2000, 2000]]);
    expect(allClaimed(p)).toBe(true);
    expect(workerA.watching).toBe(true);
    // A restarted worker gets the same plan and finds nothing left to write.
    expect(new EngineDownGaps(p, () => {}).watching).toBe(false);
  });

  test("kinds without a record end at the wall clock at the deadline, or at the worker's stop", async () => {
    const p = plan(Date.now() + 50);
    const out: GapRecord[] = [];
    const worker = new EngineDownGaps(p, (g) => out.push(g));
    worker.start();
    const before = Date.now();
    await waitFor("the deadline's gaps", () => out.length === 2, 5000);
    expect(out.map((g) => g.symbol)).toEqual(["BTC-USDT", "ETH-USDT"]);
    for (const g of out) expect(g.end_ts_ms).toBeGreaterThanOrEqual(before);
    expect(worker.watching).toBe(false);

    const stopped: GapRecord[] = [];
    const p2 = plan();
    const w2 = new EngineDownGaps(p2, (g) => stopped.push(g));
    w2.start();
    w2.seen(trade("ETH-USDT", 3000));
    w2.closeAll(123_456);
    expect(stopped.map((g) => [g.symbol, g.end_ts_ms])).toEqual([["ETH-USDT", 3000], ["BTC-USDT", 123_456]]);
    expect(allClaimed(p2)).toBe(true);
  });
});
