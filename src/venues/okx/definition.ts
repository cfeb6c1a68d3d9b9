import type { ConnectLimit, VenueDefinition } from "../types.ts";
import { OKX_CONNECTS_PER_S } from "./limits.ts";
import { OkxNormalizer } from "./normalizer.ts";
import { OKX_REST_LIMITS } from "./rest-weights.ts";
import { startOkxSim } from "./sim-venue.ts";

/** okx_spot and okx_derivatives share one per-IP connection-attempt limit. */
const OKX_CONNECT_LIMIT: ConnectLimit = { family: "okx", max: OKX_CONNECTS_PER_S, window_ms: 1000 };

/** OKX spot: trades and books (SPEC section 1 table). */
export const okxSpot: VenueDefinition = {
  key: "okx_spot",
  rest_limits: OKX_REST_LIMITS,
  exchange: "okx",
  data_types: ["trade", "orderbook"],
  connect_limit: OKX_CONNECT_LIMIT,
  book_checks: ["sequence", "checksum"],
  createNormalizer: (options) => new OkxNormalizer(true, options),
  sim: startOkxSim,
};

/** OKX swaps: books, trades and the derivatives data types. */
export const okxDerivatives: VenueDefinition = {
  key: "okx_derivatives",
  rest_limits: OKX_REST_LIMITS,
  exchange: "okx",
  data_types: ["trade", "orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"],
  connect_limit: OKX_CONNECT_LIMIT,
  book_checks: ["sequence", "checksum"],
  createNormalizer: (options) => new OkxNormalizer(false, options),
  sim: startOkxSim,
};
