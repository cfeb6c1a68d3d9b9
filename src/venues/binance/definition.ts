import type { VenueDefinition } from "../types.ts";
import { BinanceNormalizer } from "./normalizer.ts";
import { binanceRestLimits } from "./rest-weights.ts";
import { startBinanceSim } from "./sim-venue.ts";

/** Binance spot: trades and books (SPEC section 1 table). */
export const binanceSpot: VenueDefinition = {
  key: "binance_spot",
  rest_limits: binanceRestLimits("binance_spot"),
  exchange: "binance",
  data_types: ["trade", "orderbook"],
  book_checks: ["sequence"],
  createNormalizer: (options) => new BinanceNormalizer("binance_spot", options),
  sim: startBinanceSim,
};

/** Binance USDⓈ-M futures: books, trades and the derivatives data types. */
export const binanceDerivatives: VenueDefinition = {
  key: "binance_derivatives",
  rest_limits: binanceRestLimits("binance_derivatives"),
  exchange: "binance",
  data_types: ["trade", "orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"],
  book_checks: ["sequence"],
  createNormalizer: (options) => new BinanceNormalizer("binance_derivatives", options),
  sim: startBinanceSim,
};
