import { isObject, stringField } from "../normalizer-stats.ts";
import { InstrumentError, type Instrument } from "../types.ts";

/**
 * Deribit instrument metadata: `public/get_instruments`
 * (https://docs.deribit.com/#public-get_instruments).
 */

/**
 * Deribit contributes only the DVOL volatility indices, one per currency, so the map holds the
 * currencies (native id `BTC`, symbol `BTC`) that the listed instruments are based on.
 */
export function addDeribitInstruments(json: unknown, out: Map<string, Instrument>): void {
  if (!isObject(json) || !Array.isArray(json.result)) throw new InstrumentError("deribit: not a get_instruments body");
  for (const d of json.result) {
    if (!isObject(d)) continue;
    const base = stringField(d, "base_currency");
    if (base === "" || out.has(base)) continue;
    // DVOL is quoted against USD (index names btc_usd, eth_usd) whatever the instruments settle in.
    out.set(base, { native: base, base, quote: "USD", market_type: "options", symbol: base });
  }
}
