import { isObject, parseJson } from "../normalizer-stats.ts";
import type { VenueListing } from "../venue-definition.ts";

/**
 * What a symbol selector reads from Binance besides the instrument map:
 * - exchangeInfo `status`, "TRADING" for a pair that trades now (`BREAK`, `HALT`, … do not)
 *   (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information);
 * - the 24 h `quoteVolume` of every pair from one ticker request without a symbol:
 *   `GET /api/v3/ticker/24hr` (weight 80,
 *   https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#24hr-ticker-price-change-statistics)
 *   and `GET /fapi/v1/ticker/24hr` (weight 40,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/24hr-Ticker-Price-Change-Statistics);
 *   the weights are in rest-weights.ts.
 */

function trading(bodies: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const body of bodies) {
    const json = parseJson(body);
    if (!isObject(json) || !Array.isArray(json.symbols)) continue;
    for (const s of json.symbols) {
      if (isObject(s) && s.status === "TRADING" && typeof s.symbol === "string") out.add(s.symbol);
    }
  }
  return out;
}

function quoteVolumes(body: string): Map<string, number> {
  const out = new Map<string, number>();
  const json = parseJson(body);
  if (!Array.isArray(json)) return out;
  for (const t of json) {
    if (!isObject(t) || typeof t.symbol !== "string") continue;
    const v = Number(t.quoteVolume);
    if (Number.isFinite(v)) out.set(t.symbol, v);
  }
  return out;
}

export const BINANCE_SPOT_LISTING: VenueListing = { trading, ticker_path: "/api/v3/ticker/24hr", quoteVolumes };
export const BINANCE_DERIVATIVES_LISTING: VenueListing = { trading, ticker_path: "/fapi/v1/ticker/24hr", quoteVolumes };
