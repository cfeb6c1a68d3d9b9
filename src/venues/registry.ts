import type { VenueKey } from "../config/schema.ts";
import { BinanceNormalizer } from "./binance/normalizer.ts";
import { binanceRestLimits } from "./binance/rest-weights.ts";
import { DERIBIT_REST_LIMITS } from "./deribit/rest-weights.ts";
import { OKX_REST_LIMITS } from "./okx/rest-weights.ts";
import { DeribitNormalizer } from "./deribit/normalizer.ts";
import { OKX_CONNECTS_PER_S } from "./okx/limits.ts";
import { OkxNormalizer } from "./okx/normalizer.ts";
import { startBinanceSim } from "./binance/sim-venue.ts";
import { startDeribitSim } from "./deribit/sim-venue.ts";
import { startOkxSim } from "./okx/sim-venue.ts";
import type { ConnectLimit, VenueDefinition } from "./types.ts";

const OKX_CONNECT_LIMIT: ConnectLimit = { family: "okx", max: OKX_CONNECTS_PER_S, window_ms: 1000 };

/**
 * Every venue, one line each (SPEC section 1 table). The connection layer builds its
 * subscriptions with the `channels.ts` of each venue folder:
 * binanceStreams (binance/routes.ts) / binanceDepthPath / binancePolls, okxSubscribeArgs / okxPolls,
 * deribitChannels / deribitVolatilityIndexPath.
 */
export const VENUES: Readonly<Record<VenueKey, VenueDefinition>> = {
  binance_spot: {
    key: "binance_spot",
    rest_limits: binanceRestLimits("binance_spot"),
    exchange: "binance",
    data_types: ["trade", "orderbook"],
    book_checks: ["sequence"],
    createNormalizer: (options) => new BinanceNormalizer("binance_spot", options),
    sim: startBinanceSim,
  },
  binance_derivatives: {
    key: "binance_derivatives",
    rest_limits: binanceRestLimits("binance_derivatives"),
    exchange: "binance",
    data_types: ["trade", "orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"],
    book_checks: ["sequence"],
    createNormalizer: (options) => new BinanceNormalizer("binance_derivatives", options),
    sim: startBinanceSim,
  },
  okx_spot: {
    key: "okx_spot",
    rest_limits: OKX_REST_LIMITS,
    exchange: "okx",
    data_types: ["trade", "orderbook"],
    connect_limit: OKX_CONNECT_LIMIT,
    book_checks: ["sequence", "checksum"],
    createNormalizer: (options) => new OkxNormalizer(true, options),
    sim: startOkxSim,
  },
  okx_derivatives: {
    key: "okx_derivatives",
    rest_limits: OKX_REST_LIMITS,
    exchange: "okx",
    data_types: ["trade", "orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"],
    connect_limit: OKX_CONNECT_LIMIT,
    book_checks: ["sequence", "checksum"],
    createNormalizer: (options) => new OkxNormalizer(false, options),
    sim: startOkxSim,
  },
  deribit_derivatives: {
    key: "deribit_derivatives",
    rest_limits: DERIBIT_REST_LIMITS,
    exchange: "deribit",
    data_types: ["volatility_index"],
    book_checks: [],
    createNormalizer: (options) => new DeribitNormalizer(options),
    sim: startDeribitSim,
  },
};

export function getVenue(key: VenueKey): VenueDefinition {
  return VENUES[key];
}
