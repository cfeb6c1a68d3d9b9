import { isObject, parseJson } from "../normalizer-stats.ts";
import type { VenueListing } from "../venue-definition.ts";

/**
 * What a symbol selector reads from OKX besides the instrument map:
 * - an instrument's `state`, "live" while it trades (`suspend`, `preopen` do not)
 *   (https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments);
 * - 24 h volume of every instrument of a type from `GET /api/v5/market/tickers?instType=…`
 *   (20 requests per 2 s per IP, https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-tickers).
 *   `volCcy24h` is in the quote currency for SPOT and in the base currency for SWAP, so a
 *   swap's quote volume is `volCcy24h × last`.
 */

function trading(bodies: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const body of bodies) {
    const json = parseJson(body);
    if (!isObject(json) || !Array.isArray(json.data)) continue;
    for (const d of json.data) {
      if (isObject(d) && d.state === "live" && typeof d.instId === "string") out.add(d.instId);
    }
  }
  return out;
}

function quoteVolumes(body: string): Map<string, number> {
  const out = new Map<string, number>();
  const json = parseJson(body);
  if (!isObject(json) || !Array.isArray(json.data)) return out;
  for (const t of json.data) {
    if (!isObject(t) || typeof t.instId !== "string") continue;
    const ccy = Number(t.volCcy24h);
    const v = t.instType === "SWAP" ? ccy * Number(t.last) : ccy;
    if (Number.isFinite(v)) out.set(t.instId, v);
  }
  return out;
}

export const OKX_SPOT_LISTING: VenueListing = { trading, ticker_path: "/api/v5/market/tickers?instType=SPOT", quoteVolumes };
export const OKX_SWAP_LISTING: VenueListing = { trading, ticker_path: "/api/v5/market/tickers?instType=SWAP", quoteVolumes };
