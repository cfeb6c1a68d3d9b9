import { describe, expect, test } from "bun:test";
import { channelOf, docFixture, docInstruments, ofType, recording, run } from "./capture.ts";
import { recordingDescribe } from "../support/recordings.ts";

recordingDescribe("OKX mappers over the recording (spot, swap and a dated future mixed on one connection)", () => {
  test("okx_spot keeps BTC-USDT only: 69 trades, 1 + 97 book records, every checksum matches", () => {
    const { records, normalizer } = run("okx_spot", recording("okx"));
    expect(normalizer.stats.records).toEqual({ trade: 69, orderbook: 98 });
    expect(new Set(records.map((r) => r.symbol))).toEqual(new Set(["BTC-USDT"]));
    expect(normalizer.bookHealth()).toEqual([
      {
        symbol: "BTC-USDT",
        native: "BTC-USDT",
        state: "live",
        resyncs: 0,
        checksum_failures: 0,
        sequence_gaps: 0,
        last_update_ts_ms: 1652459236096,
      },
    ]);
  });

  test("okx_derivatives keeps UNI-USD-SWAP only: 1 trade, 1 + 92 book records, every checksum matches", () => {
    const { records, normalizer } = run("okx_derivatives", recording("okx"));
    expect(normalizer.stats.records).toEqual({ trade: 1, orderbook: 93 });
    expect(new Set(records.map((r) => `${r.market_type}|${r.symbol}`))).toEqual(new Set(["perpetual|UNI-USD"]));
    expect(normalizer.bookHealth().map((h) => [h.native, h.state, h.checksum_failures])).toEqual([["UNI-USD-SWAP", "live", 0]]);
  });

  test("acks, tickers, other markets and the dated future are counted as ignored, never as bad", () => {
    const frames = recording("okx");
    for (const venue of ["okx_spot", "okx_derivatives"] as const) {
      const { normalizer } = run(venue, frames);
      const s = normalizer.stats;
      expect(s.unrecognized + s.errors).toBe(0);
      expect(s.ignored + s.records.trade! + s.records.orderbook!).toBe(frames.length);
    }
    expect(frames.filter((f) => channelOf(f) === "event:subscribe").length).toBe(18);
  });

  test("trade line 92 maps field by field; taker buy means the buyer was not the maker", () => {
    const { records } = run("okx_spot", recording("okx"));
    const t = ofType(records, "trade").find((r) => r.trade_id === "338476320");
    expect(t).toEqual({
      data_type: "trade",
      exchange: "okx",
      market_type: "spot",
      symbol: "BTC-USDT",
      ts_ms: 1652459227219,
      recv_ts_ms: 1652459227337,
      trade_id: "338476320",
      price: "30242",
      quantity: "0.001",
      side: "buy",
      is_maker: false,
      trade_time: 1652459227219,
    });
  });

  test("book records without seqId use the book ts as last_update_id and keep the original strings", () => {
    const { records } = run("okx_derivatives", recording("okx"), { depth: 2 });
    const first = ofType(records, "orderbook")[0]!;
    expect(first).toEqual({
      data_type: "orderbook",
      exchange: "okx",
      market_type: "perpetual",
      symbol: "UNI-USD",
      ts_ms: 1652459225363,
      recv_ts_ms: 1652459225696,
      last_update_id: 1652459225363,
      bids: [
        ["5.14", "251"],
        ["5.139", "25"],
      ],
      asks: [
        ["5.148", "60"],
        ["5.149", "192"],
      ],
      best_bid_price: "5.14",
      best_bid_quantity: "251",
      best_ask_price: "5.148",
      best_ask_quantity: "60",
      bids_count: 2,
      asks_count: 2,
    });
  });
});

describe("OKX documented shapes (test/venues/fixtures/okx_doc.jsonl)", () => {
  const { records, normalizer } = run("okx_derivatives", docFixture("okx_doc.jsonl"), { instruments: docInstruments("okx_derivatives") });

  test("a funding push waits for mark and index price, then is emitted once with both", () => {
    expect(ofType(records, "funding_rate")).toEqual([
      {
        data_type: "funding_rate",
        exchange: "okx",
        market_type: "perpetual",
        symbol: "BTC-USDT",
        ts_ms: 1743588686291,
        recv_ts_ms: 1743588686300,
        funding_rate: "0.0000182221218054",
        funding_time: 1743609600000,
        next_funding_time: 1743638400000,
        mark_price: "84500.1",
        index_price: "84490.5",
      },
    ]);
  });

  test("open interest from WS and REST: oi in contracts, oiUsd as value", () => {
    expect(ofType(records, "open_interest").map((r) => [r.ts_ms, r.open_interest, r.open_interest_value, r.count])).toEqual([
      [1597026383085, "5000", "50000", 1],
      [1597026383086, "5000", "50000", 1],
    ]);
  });

  test("liquidation-orders gives one record per detail", () => {
    expect(ofType(records, "liquidation")).toEqual([
      {
        data_type: "liquidation",
        exchange: "okx",
        market_type: "perpetual",
        symbol: "IOST-USDT",
        ts_ms: 1692266434010,
        recv_ts_ms: 1692266434200,
        side: "buy",
        price: "0.007831",
        quantity: "13",
        liquidation_time: 1692266434010,
      },
      {
        data_type: "liquidation",
        exchange: "okx",
        market_type: "perpetual",
        symbol: "IOST-USDT",
        ts_ms: 1692266434011,
        recv_ts_ms: 1692266434200,
        side: "buy",
        price: "0.007829",
        quantity: "2",
        liquidation_time: 1692266434011,
      },
    ]);
  });

  test("rubik ratios derive long/short shares r/(1+r), 1/(1+r) that sum to exactly 1", () => {
    expect(ofType(records, "lsr_top_position")).toEqual([
      {
        data_type: "lsr_top_position",
        exchange: "okx",
        market_type: "perpetual",
        symbol: "BTC-USDT",
        ts_ms: 1701417600000,
        recv_ts_ms: 1701417600500,
        long_short_ratio: "1.25",
        period: "5m",
        long_position_ratio: "0.555555555556",
        short_position_ratio: "0.444444444444",
      },
    ]);
    expect(ofType(records, "lsr_all_account").map((r) => [r.long_short_ratio, r.long_account_ratio, r.short_account_ratio])).toEqual([
      ["2", "0.666666666667", "0.333333333333"],
    ]);
  });

  test("ack and pong are ignored; the held funding push and the price pushes count as ignored frames, nothing is bad", () => {
    expect(normalizer.stats.errors + normalizer.stats.unrecognized).toBe(0);
    expect(normalizer.stats.records).toEqual({ funding_rate: 1, open_interest: 2, liquidation: 2, lsr_top_position: 1, lsr_all_account: 1 });
  });
});
