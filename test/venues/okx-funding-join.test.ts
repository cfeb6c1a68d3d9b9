import { describe, expect, test } from "bun:test";
import type { MarketRecord } from "../../src/records/types.ts";
import { OkxFundingJoin } from "../../src/venues/okx/funding-join.ts";
import { SymbolScope } from "../../src/venues/symbol-scope.ts";
import { docInstruments } from "./capture.ts";

function join(symbols: readonly string[]): { join: OkxFundingJoin; out: MarketRecord[] } {
  const out: MarketRecord[] = [];
  const emit = (r: MarketRecord): void => void out.push(r);
  const options = { symbols, data_types: ["funding_rate"] as const, depth: 20, snapshot_interval_ms: 1000, instruments: docInstruments("okx_derivatives"), emit };
  return { join: new OkxFundingJoin(new SymbolScope(options, "perpetual"), emit), out };
}

const rate = { instId: "BTC-USDT-SWAP", fundingRate: "0.0001", fundingTime: "1743609600000", nextFundingTime: "1743638400000", ts: "1743600000000" };

describe("OKX funding join", () => {
  test("index pushes of indices no kept swap uses are ignored and not held", () => {
    const { join: j } = join(["BTC-USDT-SWAP"]);
    for (let i = 0; i < 1000; i++) expect(j.index({ instId: `JUNK${i}-USDT`, idxPx: "1.5" }, 0)).toBe("ignored");
    expect(j.index({ instId: "BTC-USDT", idxPx: "84000.5" }, 0)).toBe("ignored");
    expect(j.held).toBe(1);
  });

  test("a kept swap's rate is emitted with its mark and its underlying's index", () => {
    const { join: j, out } = join(["BTC-USDT-SWAP"]);
    expect(j.rate(rate, 7)).toBe("ignored");
    expect(j.mark({ instId: "BTC-USDT-SWAP", markPx: "84001.2" }, 0)).toBe("ignored");
    expect(j.index({ instId: "BTC-USDT", idxPx: "84000.5" }, 0)).toBe("emitted");
    expect(out).toEqual([
      {
        data_type: "funding_rate",
        exchange: "okx",
        market_type: "perpetual",
        symbol: "BTC-USDT",
        ts_ms: 1743600000000,
        recv_ts_ms: 7,
        funding_rate: "0.0001",
        funding_time: 1743609600000,
        next_funding_time: 1743638400000,
        mark_price: "84001.2",
        index_price: "84000.5",
      },
    ]);
    expect(j.held).toBe(2);
  });
});
