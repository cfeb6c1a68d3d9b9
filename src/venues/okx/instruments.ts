import { isObject, stringField } from "../normalizer-stats.ts";
import { InstrumentError, type Instrument } from "../types.ts";

/**
 * OKX instrument metadata: `GET /api/v5/public/instruments`
 * (https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments). Only SPOT and SWAP
 * are collected; FUTURES and OPTION instruments are left out, so their frames count as ignored.
 */

/** Adds the SPOT and SWAP instruments of one instruments body to `out`. */
export function addOkxInstruments(json: unknown, out: Map<string, Instrument>): void {
  if (!isObject(json) || !Array.isArray(json.data)) throw new InstrumentError("okx: not an instruments body");
  for (const d of json.data) {
    if (!isObject(d)) continue;
    const native = stringField(d, "instId");
    const type = d.instType;
    let base: string;
    let quote: string;
    if (type === "SPOT") {
      base = stringField(d, "baseCcy");
      quote = stringField(d, "quoteCcy");
    } else if (type === "SWAP") {
      // A swap's base/quote are its underlying's ("BTC-USDT", inverse "UNI-USD"); baseCcy is empty.
      const parts = (stringField(d, "uly") || stringField(d, "instFamily")).split("-");
      if (parts.length !== 2) continue;
      base = parts[0] as string;
      quote = parts[1] as string;
    } else {
      continue;
    }
    if (native === "" || base === "" || quote === "") continue;
    out.set(native, { native, base, quote, market_type: type === "SPOT" ? "spot" : "perpetual", symbol: `${base}-${quote}` });
  }
}
