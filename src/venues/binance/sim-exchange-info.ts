import { decimalText, GENERATED_T0_MS } from "../../replay/generated-book.ts";
import type { RecordedLine } from "../../replay/recording.ts";

/** One generated symbol as exchangeInfo lists it. */
export interface GeneratedListing {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** Price and quantity decimals. */
  readonly pd: number;
  readonly qd: number;
}

/**
 * The exchangeInfo body of the generated Binance spot or USDⓈ-M markets (sim-generator.ts),
 * listing exactly the generated symbols, as a reference-file line:
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information
 */
export function generatedExchangeInfo(futures: boolean, listed: readonly GeneratedListing[]): RecordedLine {
  const symbols = listed.map((m) => {
    const tick = decimalText(1, m.pd);
    const step = decimalText(1, m.qd);
    const filters = [
      { filterType: "PRICE_FILTER", minPrice: tick, maxPrice: "10000000", tickSize: tick },
      { filterType: "LOT_SIZE", minQty: step, maxQty: "9000000", stepSize: step },
    ];
    return futures
      ? {
          symbol: m.symbol, pair: m.symbol, contractType: "PERPETUAL", deliveryDate: 4133404800000, onboardDate: GENERATED_T0_MS,
          status: "TRADING", baseAsset: m.base, quoteAsset: m.quote, marginAsset: m.quote, pricePrecision: m.pd,
          quantityPrecision: m.qd, baseAssetPrecision: 8, quotePrecision: 8, underlyingType: "COIN", filters,
          orderTypes: ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
          timeInForce: ["GTC", "IOC", "FOK", "GTX"],
        }
      : {
          symbol: m.symbol, status: "TRADING", baseAsset: m.base, baseAssetPrecision: 8, quoteAsset: m.quote, quotePrecision: 8,
          quoteAssetPrecision: 8, orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
          icebergAllowed: true, ocoAllowed: true, isSpotTradingAllowed: true, isMarginTradingAllowed: false, filters,
          permissions: ["SPOT"],
        };
  });
  const rateLimits = [{ rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: futures ? 2400 : 6000 }];
  const body = futures
    ? { timezone: "UTC", serverTime: GENERATED_T0_MS, futuresType: "U_MARGINED", rateLimits, exchangeFilters: [], symbols }
    : { timezone: "UTC", serverTime: GENERATED_T0_MS, rateLimits, exchangeFilters: [], symbols };
  const url = futures ? "https://fapi.binance.com/fapi/v1/exchangeInfo" : "https://api.binance.com/api/v3/exchangeInfo";
  return { source: "http", url, recv_ts: GENERATED_T0_MS / 1000, raw: JSON.stringify(body) };
}
