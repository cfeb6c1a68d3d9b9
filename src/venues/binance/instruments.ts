import { isObject, stringField } from "../normalizer-stats.ts";
import { InstrumentError, type Instrument } from "../types.ts";
import type { BinanceVenue } from "./channels.ts";

/**
 * Binance instrument metadata: `GET /api/v3/exchangeInfo` (spot,
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints) and
 * `GET /fapi/v1/exchangeInfo` (USDⓈ-M,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information).
 */

/** Adds the symbols of one exchangeInfo body to `out`. */
export function addBinanceInstruments(venue: BinanceVenue, json: unknown, out: Map<string, Instrument>): void {
  if (!isObject(json) || !Array.isArray(json.symbols)) throw new InstrumentError(`${venue}: not an exchangeInfo body`);
  const futures = venue === "binance_derivatives";
  for (const s of json.symbols) {
    if (!isObject(s)) continue;
    const native = stringField(s, "symbol");
    const base = stringField(s, "baseAsset");
    const quote = stringField(s, "quoteAsset");
    if (native === "" || base === "" || quote === "") continue;
    // USDⓈ-M exchangeInfo also lists quarterly delivery contracts (BTCUSDT_210924): not collected.
    if (futures && s.contractType !== "PERPETUAL") continue;
    out.set(native, { native, base, quote, market_type: futures ? "perpetual" : "spot", symbol: `${base}-${quote}` });
  }
}
