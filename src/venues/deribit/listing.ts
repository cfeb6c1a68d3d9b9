import { isObject, parseJson } from "../normalizer-stats.ts";
import type { VenueListing } from "../venue-definition.ts";

/**
 * What a symbol selector reads from Deribit: the venue's symbols are the currencies of the DVOL
 * indices (instruments.ts), and a currency trades while any of its instruments is active
 * (`is_active`, https://docs.deribit.com/#public-get_instruments). DVOL has no volume to rank
 * by, so Deribit has no ticker path and refuses `top` (selection.ts).
 */

function trading(bodies: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const body of bodies) {
    const json = parseJson(body);
    if (!isObject(json) || !Array.isArray(json.result)) continue;
    for (const d of json.result) {
      if (isObject(d) && d.is_active === true && typeof d.base_currency === "string") out.add(d.base_currency);
    }
  }
  return out;
}

export const DERIBIT_LISTING: VenueListing = { trading, ticker_path: undefined, quoteVolumes: () => new Map() };
