import { VENUE_KEYS, type VenueKey } from "../config/venue-keys.ts";
import type { Simulator } from "./simulator.ts";

/** The part of a venue's config that replay mode replaces. */
export interface VenueReplayOverride {
  readonly ws_url: string;
  readonly rest_url: string;
  readonly symbols: string[];
}

/**
 * Config overrides that point every venue at the simulator and at the symbols its recordings
 * carry (recorded frames are served with their own symbols, never rewritten). Deribit keeps
 * BTC and ETH: its volatility index is synthetic for both.
 */
export function replayVenueOverrides(sim: Pick<Simulator, "url" | "symbols">): { venues: Record<VenueKey, VenueReplayOverride> } {
  const ws = sim.url.replace(/^http/, "ws");
  const venues = Object.fromEntries(
    VENUE_KEYS.map((key) => [key, { ws_url: `${ws}/${key}`, rest_url: `${sim.url}/${key}`, symbols: [...sim.symbols[key]] }]),
  ) as Record<VenueKey, VenueReplayOverride>;
  return { venues };
}
