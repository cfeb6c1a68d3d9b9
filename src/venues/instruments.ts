import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { VenueKey } from "../config/schema.ts";
import type { Instrument, InstrumentMap } from "./types.ts";
import { isObject, parseJson } from "./normalizer-stats.ts";

/**
 * Instrument metadata loaders (SPEC section 1: symbols come from base/quote assets, never from
 * guessing quote suffixes). The engine fetches the same REST endpoints at start
 * (`INSTRUMENT_PATHS`) and passes each body to `parseInstrumentBodies`; tests and the normalize
 * CLI read the recorded bodies in `fixtures/exchanges/reference/`.
 */

/** REST paths (relative to the venue's rest_url) whose bodies describe the venue's instruments. */
export const INSTRUMENT_PATHS: Readonly<Record<VenueKey, readonly string[]>> = {
  binance_spot: ["/api/v3/exchangeInfo"],
  binance_derivatives: ["/fapi/v1/exchangeInfo"],
  okx_spot: ["/api/v5/public/instruments?instType=SPOT"],
  okx_derivatives: ["/api/v5/public/instruments?instType=SWAP"],
  deribit_derivatives: [
    "/api/v2/public/get_instruments?currency=BTC&expired=false",
    "/api/v2/public/get_instruments?currency=ETH&expired=false",
  ],
};

/** The recorded reference file per venue, inside `fixtures/exchanges/reference/`. */
const REFERENCE_FILES: Readonly<Record<VenueKey, string>> = {
  binance_spot: "binance_spot_exchangeInfo.jsonl",
  binance_derivatives: "binance_derivatives_exchangeInfo.jsonl",
  okx_spot: "okx_instruments.jsonl",
  okx_derivatives: "okx_instruments.jsonl",
  deribit_derivatives: "deribit_instruments.jsonl",
};

export class InstrumentError extends Error {}

/**
 * Builds the instrument map from REST bodies (raw response texts). Instruments a venue does
 * not collect (Binance delivery contracts, OKX FUTURES/OPTION) are left out, so frames about
 * them are counted as ignored. Throws `InstrumentError` when a body is not metadata at all.
 */
export function parseInstrumentBodies(venue: VenueKey, bodies: readonly string[]): InstrumentMap {
  const out = new Map<string, Instrument>();
  for (const body of bodies) {
    const json = parseJson(body);
    if (venue === "binance_spot" || venue === "binance_derivatives") addBinance(json, venue, out);
    else if (venue === "okx_spot" || venue === "okx_derivatives") addOkx(json, out);
    else addDeribit(json, out);
  }
  return out;
}

/**
 * Reads instrument bodies from a file in the capture line format (`{source,url,recv_ts,raw}`
 * per line) or holding one raw REST body.
 */
export function loadInstrumentFile(venue: VenueKey, file: string): InstrumentMap {
  const text = readFileSync(file, "utf8");
  const bodies: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const json = parseJson(line);
    if (isObject(json) && typeof json.raw === "string") bodies.push(json.raw);
    else bodies.push(line);
  }
  return parseInstrumentBodies(venue, bodies);
}

/** The recorded metadata in `<fixturesDir>/reference/`, or undefined when the file is absent. */
export function loadReferenceInstruments(venue: VenueKey, fixturesDir: string): InstrumentMap | undefined {
  const file = join(fixturesDir, "reference", REFERENCE_FILES[venue]);
  return existsSync(file) ? loadInstrumentFile(venue, file) : undefined;
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  return typeof v === "string" ? v : "";
}

function addBinance(json: unknown, venue: VenueKey, out: Map<string, Instrument>): void {
  if (!isObject(json) || !Array.isArray(json.symbols)) throw new InstrumentError(`${venue}: not an exchangeInfo body`);
  const futures = venue === "binance_derivatives";
  for (const s of json.symbols) {
    if (!isObject(s)) continue;
    const native = str(s, "symbol");
    const base = str(s, "baseAsset");
    const quote = str(s, "quoteAsset");
    if (native === "" || base === "" || quote === "") continue;
    // USDⓈ-M exchangeInfo also lists quarterly delivery contracts (BTCUSDT_210924): not collected.
    if (futures && s.contractType !== "PERPETUAL") continue;
    out.set(native, { native, base, quote, market_type: futures ? "perpetual" : "spot", symbol: `${base}-${quote}` });
  }
}

function addOkx(json: unknown, out: Map<string, Instrument>): void {
  if (!isObject(json) || !Array.isArray(json.data)) throw new InstrumentError("okx: not an instruments body");
  for (const d of json.data) {
    if (!isObject(d)) continue;
    const native = str(d, "instId");
    const type = d.instType;
    let base: string;
    let quote: string;
    if (type === "SPOT") {
      base = str(d, "baseCcy");
      quote = str(d, "quoteCcy");
    } else if (type === "SWAP") {
      // A swap's base/quote are its underlying's ("BTC-USDT", inverse "UNI-USD"); baseCcy is empty.
      const parts = (str(d, "uly") || str(d, "instFamily")).split("-");
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

/**
 * Deribit contributes only the DVOL volatility indices, one per currency, so the map holds the
 * currencies (native id `BTC`, symbol `BTC`) that the listed instruments are based on.
 */
function addDeribit(json: unknown, out: Map<string, Instrument>): void {
  if (!isObject(json) || !Array.isArray(json.result)) throw new InstrumentError("deribit: not a get_instruments body");
  for (const d of json.result) {
    if (!isObject(d)) continue;
    const base = str(d, "base_currency");
    if (base === "" || out.has(base)) continue;
    // DVOL is quoted against USD (index names btc_usd, eth_usd) whatever the instruments settle in.
    out.set(base, { native: base, base, quote: "USD", market_type: "options", symbol: base });
  }
}
