import { describe, expect, test } from "bun:test";
import { docFixture, docInstruments, ofType, recording, run } from "./capture.ts";
import { recordingTest } from "../support/recordings.ts";

describe("Deribit", () => {
  recordingTest("option books, tickers and the subscribe result in the recording are ignored, none is bad", () => {
    const frames = recording("deribit");
    const { records, normalizer } = run("deribit_derivatives", frames);
    expect(records).toEqual([]);
    expect(normalizer.stats).toEqual({ frames: 136, ignored: 136, absorbed: 0, unrecognized: 0, errors: 0, records: {}, bad_by_channel: {} });
  });

  test("DVOL pushes and REST candles become volatility_index records with plain decimal text", () => {
    const { records, normalizer } = run("deribit_derivatives", docFixture("deribit_doc.jsonl"), { instruments: docInstruments("deribit_derivatives") });
    expect(ofType(records, "volatility_index")).toEqual([
      {
        data_type: "volatility_index",
        exchange: "deribit",
        market_type: "options",
        symbol: "BTC",
        ts_ms: 1619777946007,
        recv_ts_ms: 1619777946100,
        index_value: "129.36",
        underlying_asset: "BTC",
        maturity_date: "",
      },
      {
        data_type: "volatility_index",
        exchange: "deribit",
        market_type: "options",
        symbol: "ETH",
        ts_ms: 1619777947007,
        recv_ts_ms: 1619777947100,
        // Sent as 1e-7: never stored in exponent form.
        index_value: "0.0000001",
        underlying_asset: "ETH",
        maturity_date: "",
      },
      {
        data_type: "volatility_index",
        exchange: "deribit",
        market_type: "options",
        symbol: "BTC",
        ts_ms: 1598019300000,
        recv_ts_ms: 1598019430500,
        index_value: "0.212860821",
        underlying_asset: "BTC",
        maturity_date: "",
      },
      {
        data_type: "volatility_index",
        exchange: "deribit",
        market_type: "options",
        symbol: "BTC",
        ts_ms: 1598019360000,
        recv_ts_ms: 1598019430500,
        index_value: "0.001",
        underlying_asset: "BTC",
        maturity_date: "",
      },
    ]);
    expect(normalizer.stats.ignored).toBe(2);
    expect(normalizer.stats.errors + normalizer.stats.unrecognized).toBe(0);
  });

  test("only configured currencies are kept", () => {
    const { records } = run("deribit_derivatives", docFixture("deribit_doc.jsonl"), { symbols: ["ETH"], instruments: docInstruments("deribit_derivatives") });
    expect(records.map((r) => r.symbol)).toEqual(["ETH"]);
  });
});
