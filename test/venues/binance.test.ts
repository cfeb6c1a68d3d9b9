import { describe, expect, test } from "bun:test";
import type { OrderbookRecord } from "../../src/records/types.ts";
import { channelOf, docFixture, docInstruments, instruments, ofType, recording, run } from "./capture.ts";
import { recordingDescribe } from "../support/recordings.ts";

const VENUES = [
  ["binance_spot", "binance_spot"],
  ["binance_derivatives", "binance_derivatives"],
] as const;

recordingDescribe("Binance mappers over the recordings", () => {
  for (const [venue, file] of VENUES) {
    test(`${venue}: every frame is recognized and nothing is counted bad`, () => {
      const frames = recording(file);
      const { normalizer } = run(venue, frames);
      expect(normalizer.stats.frames).toBe(frames.length);
      expect(normalizer.stats.unrecognized).toBe(0);
      expect(normalizer.stats.errors).toBe(0);
      expect(normalizer.stats.bad_by_channel).toEqual({});
    });

    test(`${venue}: every aggTrade frame becomes exactly one trade record`, () => {
      const frames = recording(file);
      const aggTrades = frames.filter((f) => f.source === "ws" && channelOf(f) === "aggTrade").length;
      const { records } = run(venue, frames);
      expect(aggTrades).toBeGreaterThan(0);
      expect(ofType(records, "trade").length).toBe(aggTrades);
    });

    test(`${venue}: book tops equal every bookTicker that names a diff's final id (fixtures README 8.3)`, () => {
      const frames = recording(file);
      const { records } = run(venue, frames);
      const books = new Map<string, OrderbookRecord>();
      for (const r of ofType(records, "orderbook")) books.set(`${r.symbol}|${r.last_update_id}`, r);
      let matched = 0;
      for (const f of frames) {
        if (f.source !== "ws" || channelOf(f) !== "bookTicker") continue;
        const t = (JSON.parse(f.raw) as { data: { u: number; s: string; b: string; B: string; a: string; A: string } }).data;
        const symbol = instruments(venue).get(t.s)?.symbol;
        const book = books.get(`${symbol}|${t.u}`);
        if (book === undefined) continue;
        matched++;
        expect([book.best_bid_price, book.best_bid_quantity, book.best_ask_price, book.best_ask_quantity]).toEqual([t.b, t.B, t.a, t.A]);
      }
      expect(matched).toBe(venue === "binance_spot" ? 26 : 50);
    });
  }

  test("spot: bridged diffs per symbol equal the README 8.1 table and no gap is raised", () => {
    const { records, normalizer } = run("binance_spot", recording("binance_spot"));
    const per: Record<string, number> = {};
    for (const r of ofType(records, "orderbook")) per[r.symbol] = (per[r.symbol] ?? 0) + 1;
    expect(per).toEqual({ "NKN-USDT": 149, "BLZ-ETH": 9, "LRC-BTC": 13, "RUNE-EUR": 1 });
    expect(ofType(records, "gap")).toEqual([]);
    expect(normalizer.bookHealth().map((h) => [h.native, h.state, h.resyncs, h.sequence_gaps])).toEqual([
      ["NKNUSDT", "live", 0, 0],
      ["BLZETH", "live", 0, 0],
      ["LRCBTC", "live", 0, 0],
      ["RUNEEUR", "live", 0, 0],
    ]);
  });

  test("USDⓈ-M: bridging keeps the u == lastUpdateId diff and follows pu (README 8.2 table)", () => {
    const { records } = run("binance_derivatives", recording("binance_derivatives"));
    const books = ofType(records, "orderbook");
    const per: Record<string, number> = {};
    for (const r of books) per[r.symbol] = (per[r.symbol] ?? 0) + 1;
    expect(per).toEqual({ "SUSHI-USDT": 252, "AKRO-USDT": 188, "KEEP-USDT": 132, "CTK-USDT": 180 });
    expect(ofType(records, "gap")).toEqual([]);
    // AKROUSDT's bridging diff (line 14) has u == lastUpdateId == 600859605486.
    expect(books.find((r) => r.symbol === "AKRO-USDT")?.last_update_id).toBe(600859605486);
  });

  test("spot aggTrade line 113 maps field by field", () => {
    const { records } = run("binance_spot", recording("binance_spot"));
    expect(ofType(records, "trade")[0]).toEqual({
      data_type: "trade",
      exchange: "binance",
      market_type: "spot",
      symbol: "NKN-USDT",
      ts_ms: 1633998523963,
      recv_ts_ms: 1633998523957,
      trade_id: "15683430",
      price: "0.35280000",
      quantity: "58.00000000",
      side: "buy",
      is_maker: false,
      trade_time: 1633998523963,
    });
  });

  test("USDⓈ-M aggTrade line 25 maps field by field", () => {
    const { records } = run("binance_derivatives", recording("binance_derivatives"));
    expect(ofType(records, "trade")[0]).toEqual({
      data_type: "trade",
      exchange: "binance",
      market_type: "perpetual",
      symbol: "CTK-USDT",
      ts_ms: 1626992741575,
      recv_ts_ms: 1626992742290,
      trade_id: "16599292",
      price: "1.01100",
      quantity: "10",
      side: "buy",
      is_maker: false,
      trade_time: 1626992741421,
    });
  });

  test("first NKNUSDT book record is the snapshot plus the bridging diff, best first", () => {
    const { records } = run("binance_spot", recording("binance_spot"), { depth: 3 });
    const first = ofType(records, "orderbook")[0];
    expect(first).toEqual({
      data_type: "orderbook",
      exchange: "binance",
      market_type: "spot",
      symbol: "NKN-USDT",
      ts_ms: 1633998512568,
      recv_ts_ms: 1633998512565,
      last_update_id: 499869754,
      bids: [
        ["0.35210000", "672.00000000"],
        ["0.35200000", "1144.00000000"],
        ["0.35190000", "3260.00000000"],
      ],
      asks: [
        ["0.35250000", "3959.00000000"],
        ["0.35260000", "3199.00000000"],
        ["0.35270000", "4201.00000000"],
      ],
      best_bid_price: "0.35210000",
      best_bid_quantity: "672.00000000",
      best_ask_price: "0.35250000",
      best_ask_quantity: "3959.00000000",
      bids_count: 3,
      asks_count: 3,
    });
  });

  test("snapshot_interval_ms thins book records by exchange time", () => {
    const every = ofType(run("binance_derivatives", recording("binance_derivatives")).records, "orderbook");
    const perSecond = ofType(run("binance_derivatives", recording("binance_derivatives"), { snapshot_interval_ms: 1000 }).records, "orderbook");
    expect(perSecond.length).toBeLessThan(every.length);
    const seconds = new Set(perSecond.map((r) => `${r.symbol}|${Math.floor(r.ts_ms / 1000)}`));
    expect(seconds.size).toBe(perSecond.length);
  });

  test("only configured symbols are kept; the rest are counted as ignored", () => {
    const { records, normalizer } = run("binance_derivatives", recording("binance_derivatives"), { symbols: ["KEEPUSDT"] });
    expect(new Set(records.map((r) => r.symbol))).toEqual(new Set(["KEEP-USDT"]));
    expect(normalizer.bookHealth().map((h) => h.native)).toEqual(["KEEPUSDT"]);
    expect(normalizer.stats.unrecognized + normalizer.stats.errors).toBe(0);
  });
});

describe("Binance documented shapes (test/venues/fixtures/binance_derivatives_doc.jsonl)", () => {
  const { records, normalizer } = run("binance_derivatives", docFixture("binance_derivatives_doc.jsonl"), { instruments: docInstruments("binance_derivatives") });

  test("markPriceUpdate and premiumIndex become funding records with mark and index prices", () => {
    expect(ofType(records, "funding_rate")).toEqual([
      {
        data_type: "funding_rate",
        exchange: "binance",
        market_type: "perpetual",
        symbol: "BTC-USDT",
        ts_ms: 1562305380000,
        recv_ts_ms: 1562305380200,
        funding_rate: "0.00038167",
        funding_time: 1562306400000,
        next_funding_time: 1562306400000,
        mark_price: "11794.15000000",
        index_price: "11784.62659091",
      },
      {
        data_type: "funding_rate",
        exchange: "binance",
        market_type: "perpetual",
        symbol: "BTC-USDT",
        ts_ms: 1597370495002,
        recv_ts_ms: 1597370495300,
        funding_rate: "0.00038246",
        funding_time: 1597392000000,
        next_funding_time: 1597392000000,
        mark_price: "11793.63104562",
        index_price: "11781.80495970",
      },
    ]);
  });

  test("open interest value is oi × the latest mark price, exactly; a poll before any mark price is not stored", () => {
    expect(ofType(records, "open_interest")).toEqual([
      {
        data_type: "open_interest",
        exchange: "binance",
        market_type: "perpetual",
        symbol: "BTC-USDT",
        ts_ms: 1589437530011,
        recv_ts_ms: 1589437530200,
        open_interest: "10659.509",
        open_interest_value: "125719848.07235",
        count: 1,
      },
    ]);
  });

  test("openInterestHist rows become open interest at their own timestamps, with Binance's value; a bad row is an error", () => {
    // The documented row shape (Open Interest Statistics), timestamps as string or int.
    const url = "https://fapi.binance.com/futures/data/openInterestHist?symbol=BTCUSDT&period=5m&startTime=1583127900000&endTime=1583128499999&limit=2";
    const raw = JSON.stringify([
      { symbol: "BTCUSDT", sumOpenInterest: "20403.63700000", sumOpenInterestValue: "150570784.07809979", timestamp: "1583127900000" },
      { symbol: "BTCUSDT", sumOpenInterest: "20401.36700000", sumOpenInterestValue: "149940752.14464448", timestamp: 1583128200000 },
      { symbol: "BTCUSDT", sumOpenInterest: "x", sumOpenInterestValue: "1", timestamp: 1583128500000 },
    ]);
    const h = run("binance_derivatives", [{ source: "http", url, recv_ts_ms: 1583128600000, raw }], { instruments: docInstruments("binance_derivatives") });
    const common = { data_type: "open_interest", exchange: "binance", market_type: "perpetual", symbol: "BTC-USDT", recv_ts_ms: 1583128600000, count: 1 } as const;
    expect(ofType(h.records, "open_interest")).toEqual([
      { ...common, ts_ms: 1583127900000, open_interest: "20403.63700000", open_interest_value: "150570784.07809979" },
      { ...common, ts_ms: 1583128200000, open_interest: "20401.36700000", open_interest_value: "149940752.14464448" },
    ]);
    expect(h.normalizer.stats.errors).toBe(1);
  });

  test("forceOrder keeps side, executed price and filled quantity", () => {
    expect(ofType(records, "liquidation")).toEqual([
      {
        data_type: "liquidation",
        exchange: "binance",
        market_type: "perpetual",
        symbol: "BTC-USDT",
        ts_ms: 1568014460893,
        recv_ts_ms: 1568014460900,
        side: "sell",
        price: "9910",
        quantity: "0.014",
        liquidation_time: 1568014460893,
      },
    ]);
  });

  test("ratio rows keep their strings, period comes from the request, timestamps as string or int", () => {
    expect(ofType(records, "lsr_top_position")).toEqual([
      {
        data_type: "lsr_top_position",
        exchange: "binance",
        market_type: "perpetual",
        symbol: "BTC-USDT",
        ts_ms: 1583139600000,
        recv_ts_ms: 1583139600500,
        long_short_ratio: "1.4342",
        period: "5m",
        long_position_ratio: "0.5891",
        short_position_ratio: "0.4108",
      },
    ]);
    expect(ofType(records, "lsr_all_account").map((r) => [r.ts_ms, r.long_account_ratio, r.short_account_ratio, r.long_short_ratio])).toEqual([
      [1583139600000, "0.6622", "0.3378", "0.1960"],
      [1583139900000, "0.6617", "0.3382", "1.9559"],
    ]);
  });

  test("raw @trade events share a millisecond and are both kept; m maps to taker side and is_maker", () => {
    expect(ofType(records, "trade").map((r) => [r.trade_id, r.ts_ms, r.side, r.is_maker, r.price])).toEqual([
      ["12345", 1672515782136, "sell", true, "0.001"],
      ["12346", 1672515782136, "buy", false, "0.001"],
    ]);
  });

  test("the subscribe ack and the premature open-interest poll are ignored, nothing is bad", () => {
    expect(normalizer.stats.ignored).toBe(2);
    expect(normalizer.stats.errors + normalizer.stats.unrecognized).toBe(0);
  });
});
