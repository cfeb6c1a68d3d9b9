import type { VenueDefinition } from "../types.ts";
import { DeribitNormalizer } from "./normalizer.ts";
import { DERIBIT_REST_LIMITS } from "./rest-weights.ts";
import { startDeribitSim } from "./sim-venue.ts";

/** Deribit: the DVOL volatility index (SPEC section 1 table). */
export const deribitDerivatives: VenueDefinition = {
  key: "deribit_derivatives",
  rest_limits: DERIBIT_REST_LIMITS,
  exchange: "deribit",
  data_types: ["volatility_index"],
  book_checks: [],
  createNormalizer: (options) => new DeribitNormalizer(options),
  sim: startDeribitSim,
};
