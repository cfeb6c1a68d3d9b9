import type { VenueKey } from "../config/schema.ts";
import { binanceDerivatives, binanceSpot } from "./binance/definition.ts";
import { BINANCE_TUNING, type BinanceTuning } from "./binance/tuning.ts";
import { CONNECTION_TUNING, type ConnectionTuning } from "./connection/venue-connection.ts";
import { DERIBIT_TUNING, type DeribitTuning } from "./deribit/connection.ts";
import { deribitDerivatives } from "./deribit/definition.ts";
import { OKX_TUNING, type OkxTuning } from "./okx/connection.ts";
import { okxDerivatives, okxSpot } from "./okx/definition.ts";
import type { VenueDefinition } from "./venue-definition.ts";

/** Connection tuning: the keys every venue shares and each venue's own (tests override some). */
export type EngineTuning = ConnectionTuning & BinanceTuning & OkxTuning & DeribitTuning;

export const DEFAULT_TUNING: EngineTuning = { ...CONNECTION_TUNING, ...BINANCE_TUNING, ...OKX_TUNING, ...DERIBIT_TUNING };

/**
 * Every venue, one line each (SPEC section 1 table); each definition lives in its venue folder
 * (`src/venues/<venue>/definition.ts`) and supplies everything venue-specific
 * (venue-definition.ts). Adding a venue: one folder, one line here (and its tuning above), and
 * one in sim-registry.ts for its simulated server and generator.
 */
export const VENUES: Readonly<Record<VenueKey, VenueDefinition<EngineTuning>>> = {
  binance_spot: binanceSpot,
  binance_derivatives: binanceDerivatives,
  okx_spot: okxSpot,
  okx_derivatives: okxDerivatives,
  deribit_derivatives: deribitDerivatives,
};

export function getVenue(key: VenueKey): VenueDefinition<EngineTuning> {
  return VENUES[key];
}
