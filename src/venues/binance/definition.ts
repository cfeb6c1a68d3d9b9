import type { VenueConfig } from "../../config/schema.ts";
import type { DataType } from "../../records/types.ts";
import { claimsByHost, onDomain } from "../url-claims.ts";
import type { VenueDefinition, VenueInstruments, VenueRequest } from "../venue-definition.ts";
import { binanceDepthPath, binancePolls, binancePremiumIndexPath, binanceTradeBackfill, type BinanceVenue } from "./channels.ts";
import { BinanceConnection } from "./connection.ts";
import { addBinanceInstruments } from "./instruments.ts";
import { BINANCE_DERIVATIVES_LISTING, BINANCE_SPOT_LISTING } from "./listing.ts";
import type { BinanceTuning } from "./tuning.ts";
import { BinanceNormalizer } from "./normalizer.ts";
import { binanceRestLimits } from "./rest-weights.ts";

/**
 * Binance spot and USDⓈ-M futures (SPEC section 1 table): books synced from REST depth
 * snapshots, open interest and long/short ratios polled over REST, REST `premiumIndex` for
 * funding when the mark price stream is silent or after a hole, and a hole in a trade stream
 * filled from the REST trade history (channels.ts binanceTradeBackfill).
 */

function instruments(venue: BinanceVenue, path: string): VenueInstruments {
  return {
    paths: [path],
    reference_file: `${venue}_exchangeInfo.jsonl`,
    add: (json, out) => addBinanceInstruments(venue, json, out),
  };
}

/** Data types a Binance venue fetches by REST poll only. */
const POLLED: readonly DataType[] = ["open_interest", "lsr_top_position", "lsr_all_account"];

/** Current mark price and funding of each symbol, so funding records resume at once after a hole. */
function premiumIndexAfterGap(natives: readonly string[], carried: readonly DataType[] | undefined, config: VenueConfig): VenueRequest[] {
  if (!config.data_types.includes("funding_rate") || !(carried?.includes("funding_rate") ?? true)) return [];
  return natives.map((native) => ({ path: binancePremiumIndexPath(native), channel: "premiumIndex", recovers: { native, data_type: "funding_rate" } }));
}

/** Binance hosts: binance.com (api, api1-4, stream, fstream, dstream, fapi, dapi, www) and the binance.vision market-data mirrors. */
const isBinanceHost = (host: string): boolean => onDomain(host, "binance.com") || onDomain(host, "binance.vision");

/** USDⓈ-M and COIN-M futures hosts (fstream, fapi, dstream, dapi) or paths (`/fapi/…`, `/dapi/…`, `/futures/data/…`). */
const isBinanceFutures = (host: string, path: string): boolean =>
  /^(fstream|dstream|fapi|dapi)[\w-]*\./.test(host) || /^\/(fapi|dapi|futures)\//.test(path);

export const binanceSpot: VenueDefinition<BinanceTuning> = {
  key: "binance_spot",
  exchange: "binance",
  short_name: "bn_spot",
  rest_limits: binanceRestLimits("binance_spot"),
  data_types: ["trade", "orderbook", "orderbook_delta"],
  book_checks: ["sequence"],
  instruments: instruments("binance_spot", "/api/v3/exchangeInfo"),
  listing: BINANCE_SPOT_LISTING,
  ingest: {
    connect: (ctx) => new BinanceConnection(ctx),
    polls: (config, symbols) => binancePolls("binance_spot", symbols, config.data_types, config.poll_period),
    polled_types: POLLED,
    snapshotPath: (native, limit) => binanceDepthPath("binance_spot", native, limit),
    backfill: binanceTradeBackfill("binance_spot"),
    gap_market_type: "spot",
  },
  createNormalizer: (options) => new BinanceNormalizer("binance_spot", options),
  claims: claimsByHost("binance_spot", (host, path) => isBinanceHost(host) && !isBinanceFutures(host, path)),
  recording_file: "binance_spot.jsonl",
};

export const binanceDerivatives: VenueDefinition<BinanceTuning> = {
  key: "binance_derivatives",
  exchange: "binance",
  short_name: "bn_perp",
  rest_limits: binanceRestLimits("binance_derivatives"),
  data_types: ["trade", "orderbook", "orderbook_delta", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"],
  book_checks: ["sequence"],
  instruments: instruments("binance_derivatives", "/fapi/v1/exchangeInfo"),
  listing: BINANCE_DERIVATIVES_LISTING,
  ingest: {
    connect: (ctx) => new BinanceConnection(ctx),
    polls: (config, symbols) => binancePolls("binance_derivatives", symbols, config.data_types, config.poll_period),
    polled_types: POLLED,
    snapshotPath: (native, limit) => binanceDepthPath("binance_derivatives", native, limit),
    recover: (_gap, natives, carried, config) => premiumIndexAfterGap(natives, carried, config),
    backfill: binanceTradeBackfill("binance_derivatives"),
    // A silent mark price stream falls back to REST premiumIndex (SPEC section 1).
    onStale: (stream) =>
      stream.includes("@markprice") ? { path: binancePremiumIndexPath(stream.split("@")[0]?.toUpperCase() ?? ""), channel: "premiumIndex" } : undefined,
    gap_market_type: "perpetual",
  },
  createNormalizer: (options) => new BinanceNormalizer("binance_derivatives", options),
  claims: claimsByHost("binance_derivatives", (host, path) => isBinanceHost(host) && isBinanceFutures(host, path)),
  recording_file: "binance_derivatives.jsonl",
};
