import type { VenueKey } from "../config/schema.ts";
import { binanceDerivatives, binanceSpot } from "./binance/definition.ts";
import { deribitDerivatives } from "./deribit/definition.ts";
import { okxDerivatives, okxSpot } from "./okx/definition.ts";
import type { VenueDefinition } from "./venue-definition.ts";

/**
 * Every venue, one line each (SPEC section 1 table); each definition lives in its venue folder
 * (`src/venues/<venue>/definition.ts`). The connection layer builds its subscriptions with the
 * `channels.ts` of each venue folder:
 * binanceStreams (binance/routes.ts) / binanceDepthPath / binancePolls, okxSubscribeArgs / okxPolls,
 * deribitChannels / deribitVolatilityIndexPath.
 */
export const VENUES: Readonly<Record<VenueKey, VenueDefinition>> = {
  binance_spot: binanceSpot,
  binance_derivatives: binanceDerivatives,
  okx_spot: okxSpot,
  okx_derivatives: okxDerivatives,
  deribit_derivatives: deribitDerivatives,
};

export function getVenue(key: VenueKey): VenueDefinition {
  return VENUES[key];
}
