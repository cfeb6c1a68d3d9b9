import type { VenueKey } from "../config/schema.ts";
import { BINANCE_DERIVATIVES_LISTING, BINANCE_SPOT_LISTING } from "./binance/listing.ts";
import { DERIBIT_LISTING } from "./deribit/listing.ts";
import { OKX_SPOT_LISTING, OKX_SWAP_LISTING } from "./okx/listing.ts";

/** What a symbol selector reads from a venue besides its instrument map (each venue folder's listing.ts). */
export interface VenueListing {
  /** Native ids the metadata bodies (instruments.ts INSTRUMENT_PATHS) list as trading now. */
  trading(bodies: readonly string[]): Set<string>;
  /** The venue's 24 h ticker list, relative to rest_url; undefined: the venue has none to rank by. */
  readonly ticker_path: string | undefined;
  /** 24 h quote volume per native id in a ticker body; ids without a readable volume are absent. */
  quoteVolumes(body: string): Map<string, number>;
}

export const VENUE_LISTINGS: Readonly<Record<VenueKey, VenueListing>> = {
  binance_spot: BINANCE_SPOT_LISTING,
  binance_derivatives: BINANCE_DERIVATIVES_LISTING,
  okx_spot: OKX_SPOT_LISTING,
  okx_derivatives: OKX_SWAP_LISTING,
  deribit_derivatives: DERIBIT_LISTING,
};
