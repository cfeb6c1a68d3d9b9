import { expect, test } from "bun:test";
import type { VenueConfig } from "../../src/config/schema.ts";
import { VENUE_KEYS } from "../../src/config/venue-keys.ts";
import type { WsGap } from "../../src/venues/connection/ws-client.ts";
import { gapRecords } from "../../src/venues/gap-records.ts";
import { getVenue } from "../../src/venues/registry.ts";
import type { Instrument } from "../../src/venues/types.ts";

const config = (data_types: VenueConfig["data_types"]): VenueConfig => ({
  enabled: true,
  symbols: [],
  workers: 1,
  data_types,
  ws_url: "ws://x",
  rest_url: "http://x",
  poll_period: "5m",
  instruments_refresh_s: 0,
  max_clock_skew_ms: 1000,
});

const HOLE: WsGap = { start_ts_ms: 1_000, end_ts_ms: 9_000, cause: "reconnect" };

test("every venue's definition sits under its own key, and its workers' thread names stay distinct within 15 characters", () => {
  const names = VENUE_KEYS.map((key) => {
    expect(getVenue(key).key).toBe(key);
    const name = `i:${getVenue(key).short_name}:99`;
    expect(name.length).toBeLessThanOrEqual(15);
    return name;
  });
  expect(new Set(names).size).toBe(VENUE_KEYS.length);
});

test("a silent USDⓈ-M mark price stream falls back to REST premiumIndex; other streams and venues have no fallback", () => {
  expect(getVenue("binance_derivatives").ingest.onStale?.("btcusdt@markprice@1s")).toEqual({ path: "/fapi/v1/premiumIndex?symbol=BTCUSDT", channel: "premiumIndex" });
  expect(getVenue("binance_derivatives").ingest.onStale?.("btcusdt@forceorder")).toBeUndefined();
  expect(getVenue("binance_spot").ingest.onStale).toBeUndefined();
  expect(getVenue("okx_derivatives").ingest.onStale).toBeUndefined();
});

test("after a hole Deribit backfills the volatility index paced and USDⓈ-M refetches funding only when the lost connection carried it", () => {
  const deribit = getVenue("deribit_derivatives").ingest;
  expect(deribit.recover?.(HOLE, ["BTC"], undefined, config(["volatility_index"]))).toEqual([
    { path: "/api/v2/public/get_volatility_index_data?currency=BTC&start_timestamp=1000&end_timestamp=9000&resolution=1", channel: "get_volatility_index_data", recovers: { native: "BTC", data_type: "volatility_index" } },
  ]);
  expect(deribit.recover_per_s).toBe(1);
  const binance = getVenue("binance_derivatives").ingest;
  const funding = config(["orderbook", "funding_rate"]);
  expect(binance.recover?.(HOLE, ["BTCUSDT"], ["funding_rate", "trade"], funding)).toEqual([{ path: "/fapi/v1/premiumIndex?symbol=BTCUSDT", channel: "premiumIndex", recovers: { native: "BTCUSDT", data_type: "funding_rate" } }]);
  // A USDⓈ-M hole on /public (books only) leaves funding alone.
  expect(binance.recover?.(HOLE, ["BTCUSDT"], ["orderbook"], funding)).toEqual([]);
  expect(binance.recover?.(HOLE, ["BTCUSDT"], undefined, config(["orderbook"]))).toEqual([]);
  expect(binance.recover_per_s).toBeUndefined();
  expect(getVenue("okx_derivatives").ingest.recover).toBeUndefined();
});

test("books sync from REST snapshots on Binance only, at the configured depth", () => {
  expect(getVenue("binance_spot").ingest.snapshotPath?.("BTCUSDT", 1000)).toBe("/api/v3/depth?symbol=BTCUSDT&limit=1000");
  expect(getVenue("binance_derivatives").ingest.snapshotPath?.("BTCUSDT", 500)).toBe("/fapi/v1/depth?symbol=BTCUSDT&limit=500");
  expect(getVenue("okx_spot").ingest.snapshotPath).toBeUndefined();
  expect(getVenue("deribit_derivatives").ingest.snapshotPath).toBeUndefined();
});

test("a hole gives one gap per symbol and socket-fed type: none for polled types, the instrument's market type or the venue's", () => {
  // Without an instrument, each venue's gaps carry the market type its records have.
  const fallback = VENUE_KEYS.map((key) => `${key} ${gapRecords(getVenue(key), HOLE, ["X"], new Map(), ["trade"], undefined)[0]?.market_type}`);
  expect(fallback).toEqual([
    "binance_spot spot",
    "binance_derivatives perpetual",
    "okx_spot spot",
    "okx_derivatives perpetual",
    "deribit_derivatives options",
  ]);
  const swap: Instrument = { native: "BTCUSDT", base: "BTC", quote: "USDT", market_type: "perpetual", symbol: "BTC-USDT" };
  const types: VenueConfig["data_types"] = ["trade", "open_interest", "lsr_top_position", "funding_rate"];
  const binance = gapRecords(getVenue("binance_derivatives"), HOLE, ["BTCUSDT", "ETHUSDT"], new Map([["BTCUSDT", swap]]), types, undefined);
  expect(binance.map((r) => `${r.symbol} ${r.market_type} ${r.data_type_affected}`)).toEqual([
    "BTC-USDT perpetual trade",
    "BTC-USDT perpetual funding_rate",
    "ETHUSDT perpetual trade",
    "ETHUSDT perpetual funding_rate",
  ]);
  expect(binance[0]).toEqual({
    data_type: "gap",
    exchange: "binance",
    market_type: "perpetual",
    symbol: "BTC-USDT",
    ts_ms: 9_000,
    recv_ts_ms: 9_000,
    data_type_affected: "trade",
    start_ts_ms: 1_000,
    end_ts_ms: 9_000,
    cause: "reconnect",
    recovered_records: 0,
    recovered_at_ms: 0,
  });
  // A recovery's records ride the gap written again for its symbol and type.
  const recovered = gapRecords(getVenue("binance_derivatives"), HOLE, ["BTCUSDT"], new Map([["BTCUSDT", swap]]), types, ["funding_rate"], { records: 1, at_ms: 9_400 });
  expect(recovered).toEqual(binance.slice(1, 2).map((r) => ({ ...r, recovered_records: 1, recovered_at_ms: 9_400 })));
  // OKX open interest rides the socket, so it gets a gap; only the ratios are polled.
  const okx = gapRecords(getVenue("okx_derivatives"), HOLE, ["BTC-USDT-SWAP"], new Map(), types, ["trade", "open_interest"]);
  expect(okx.map((r) => `${r.market_type} ${r.data_type_affected}`)).toEqual(["perpetual trade", "perpetual open_interest"]);
  const deribit = gapRecords(getVenue("deribit_derivatives"), HOLE, ["BTC"], new Map(), ["volatility_index"], undefined);
  expect(deribit.map((r) => `${r.exchange} ${r.market_type}`)).toEqual(["deribit options"]);
});

test("config errors come from the venue: OKX ratio buckets and logins, Deribit's connection cap", () => {
  const okx = getVenue("okx_derivatives");
  expect(okx.configErrors?.({ ...config(["lsr_all_account"]), poll_period: "15m" }, {})).toEqual([
    `'venues.okx_derivatives.poll_period' = "15m": OKX long/short ratios come in 5m or 1h buckets`,
  ]);
  expect(okx.configErrors?.(config(["lsr_all_account"]), {})).toEqual([]);
  const deribit = getVenue("deribit_derivatives");
  expect(deribit.configErrors?.({ ...config(["volatility_index"]), workers: 17, symbols: Array.from({ length: 17 }, (_, i) => `C${i}`) }, {})).toHaveLength(1);
  expect(deribit.configErrors?.({ ...config(["volatility_index"]), workers: 16, symbols: Array.from({ length: 17 }, (_, i) => `C${i}`) }, {})).toEqual([]);
  expect(getVenue("binance_spot").configErrors).toBeUndefined();
});
