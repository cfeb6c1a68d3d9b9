import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseInstrumentBodies } from "../../src/venues/instruments.ts";
import { InstrumentError } from "../../src/venues/types.ts";
import { binanceDepthPath, binancePolls } from "../../src/venues/binance/channels.ts";
import { binanceStreams } from "../../src/venues/binance/routes.ts";
import { deribitChannels } from "../../src/venues/deribit/channels.ts";
import { okxPolls, okxSubscribeArgs } from "../../src/venues/okx/channels.ts";
import { docInstruments, FIXTURES_DIR, instruments } from "./capture.ts";
import { recordingTest } from "../support/recordings.ts";

recordingTest("symbols come from base/quote metadata, not from suffixes", () => {
  expect(instruments("binance_spot").get("RUNEEUR")?.symbol).toBe("RUNE-EUR");
  expect(instruments("binance_spot").get("BLZETH")?.symbol).toBe("BLZ-ETH");
  expect(instruments("binance_derivatives").get("SUSHIUSDT")).toEqual({
    native: "SUSHIUSDT",
    base: "SUSHI",
    quote: "USDT",
    market_type: "perpetual",
    symbol: "SUSHI-USDT",
  });
  expect(instruments("okx_derivatives").get("UNI-USD-SWAP")?.symbol).toBe("UNI-USD");
  expect(instruments("okx_spot").get("BTC-USDT")?.market_type).toBe("spot");
  // Dated futures and options are not collected: absent, so their frames count as ignored.
  expect(instruments("okx_spot").get("BTC-USD-220527")).toBeUndefined();
  expect(instruments("deribit_derivatives").get("BTC")).toEqual({ native: "BTC", base: "BTC", quote: "USD", market_type: "options", symbol: "BTC" });
});

recordingTest("a live REST body parses like the recorded one; a non-metadata body is an InstrumentError", () => {
  const line = readFileSync(join(FIXTURES_DIR, "reference/binance_derivatives_exchangeInfo.jsonl"), "utf8").split("\n")[0]!;
  const body = (JSON.parse(line) as { raw: string }).raw;
  expect(parseInstrumentBodies("binance_derivatives", [body]).size).toBe(instruments("binance_derivatives").size);
  expect(() => parseInstrumentBodies("okx_spot", ['{"code":"50011","msg":"Too Many Requests"}'])).toThrow(InstrumentError);
});

test("subscriptions are built from config symbols per data type", () => {
  const routed = (s: { stream: string; route: string }): string => `${s.route} ${s.stream}`;
  expect(binanceStreams("binance_spot", ["BTCUSDT"], ["trade", "orderbook"]).map(routed)).toEqual([" btcusdt@depth@100ms", " btcusdt@trade"]);
  // USDⓈ-M: book streams on /public, the rest on /market (the legacy unrouted paths deliver nothing).
  expect(binanceStreams("binance_derivatives", ["BTCUSDT"], ["trade", "orderbook", "funding_rate", "liquidation", "open_interest"]).map(routed)).toEqual([
    "/public btcusdt@depth@100ms",
    "/market btcusdt@aggTrade",
    "/market btcusdt@markPrice@1s",
    "/market btcusdt@forceOrder",
  ]);
  expect(binanceDepthPath("binance_derivatives", "BTCUSDT", 1000)).toBe("/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
  expect(binancePolls("binance_derivatives", ["BTCUSDT"], ["open_interest", "lsr_all_account"], "5m").map((p) => p.path)).toEqual([
    "/fapi/v1/openInterest?symbol=BTCUSDT",
    "/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=5m&limit=1",
  ]);
  const okx = docInstruments("okx_derivatives");
  expect(okxSubscribeArgs(["BTC-USDT-SWAP", "BTC-USDT"], ["orderbook", "funding_rate", "liquidation"], okx)).toEqual([
    { channel: "books", instId: "BTC-USDT-SWAP" },
    { channel: "funding-rate", instId: "BTC-USDT-SWAP" },
    { channel: "mark-price", instId: "BTC-USDT-SWAP" },
    { channel: "index-tickers", instId: "BTC-USDT" },
    { channel: "books", instId: "BTC-USDT" },
    { channel: "liquidation-orders", instType: "SWAP" },
  ]);
  expect(okxPolls(["BTC-USDT-SWAP", "BTC-USDT"], ["lsr_top_position"], "1h", okx).map((p) => p.path)).toEqual([
    "/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader?instId=BTC-USDT-SWAP&period=1H&limit=1",
  ]);
  expect(deribitChannels(["BTC", "ETH"], ["volatility_index"])).toEqual(["deribit_volatility_index.btc_usd", "deribit_volatility_index.eth_usd"]);
});
