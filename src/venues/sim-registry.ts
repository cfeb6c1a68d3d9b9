import type { VenueKey } from "../config/venue-keys.ts";
import type { VenueSim } from "../replay/sim-venue.ts";
import { binanceGenerator } from "./binance/sim-generator.ts";
import { startBinanceSim } from "./binance/sim-venue.ts";
import { deribitGenerator } from "./deribit/sim-generator.ts";
import { startDeribitSim } from "./deribit/sim-venue.ts";
import { okxGenerator } from "./okx/sim-generator.ts";
import { startOkxSim } from "./okx/sim-venue.ts";

/**
 * Every venue's simulated server and its part of the built-in generator, one line each beside
 * the VENUES registry (registry.ts) but apart from it: the simulator and the generator import
 * this file, the engine's threads do not, so an ingest thread never loads simulator code
 * (test/venues/seam.test.ts). Venue keys of one server carry the same pair and share what it
 * starts (okx_spot and okx_derivatives: one OKX).
 */
const binance: VenueSim = { start: startBinanceSim, generator: binanceGenerator };
const okx: VenueSim = { start: startOkxSim, generator: okxGenerator };

export const SIM_VENUES: Readonly<Record<VenueKey, VenueSim>> = {
  binance_spot: binance,
  binance_derivatives: binance,
  okx_spot: okx,
  okx_derivatives: okx,
  deribit_derivatives: { start: startDeribitSim, generator: deribitGenerator },
};

export function getVenueSim(key: VenueKey): VenueSim {
  return SIM_VENUES[key];
}
