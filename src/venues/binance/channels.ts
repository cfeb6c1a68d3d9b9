import type { DataType } from "../../records/types.ts";
import type { VenueTradeBackfill } from "../connection/trade-pages.ts";
import type { HistorySpan } from "../connection/missed-buckets.ts";
import type { VenuePoll } from "../venue-definition.ts";

/**
 * What the connection layer subscribes to and polls on Binance (SPEC section 1 table).
 * Spot streams:   https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * USDⓈ-M streams: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 */

export type BinanceVenue = "binance_spot" | "binance_derivatives";

/** REST depth snapshot path for one symbol (the body goes back to the normalizer as an `http` frame). */
export function binanceDepthPath(venue: BinanceVenue, native: string, limit: number): string {
  const base = venue === "binance_spot" ? "/api/v3/depth" : "/fapi/v1/depth";
  return `${base}?symbol=${native}&limit=${limit}`;
}

/**
 * REST polls for data without a push channel (USDⓈ-M only). `period` is the ratio bucket
 * ("5m", "15m", "30m", "1h"), which Binance accepts as written; `limit=1` asks for the
 * latest closed bucket only, so each bucket is fetched once. `premiumIndex` is the funding
 * fallback for when the mark-price stream is down.
 *
 * A missed bucket comes from the `/futures/data` statistics with `startTime`/`endTime` (both
 * inclusive, ms; at most 500 rows, the latest 30 days):
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Open-Interest-Statistics
 * (`openInterestHist`: rows stamped at the period's boundaries, the open interest then),
 * .../Top-Trader-Long-Short-Ratio and .../Long-Short-Ratio (the same endpoints as the polls).
 */
export function binancePolls(
  venue: BinanceVenue,
  symbols: readonly string[],
  data_types: readonly DataType[],
  period: string,
): VenuePoll[] {
  if (venue !== "binance_derivatives") return [];
  const out: VenuePoll[] = [];
  const history = (endpoint: string, native: string) => (s: HistorySpan) =>
    `/futures/data/${endpoint}?symbol=${native}&period=${period}&startTime=${s.from_ms}&endTime=${s.to_ms}&limit=${s.limit}`;
  for (const native of symbols) {
    if (data_types.includes("open_interest"))
      out.push({ data_type: "open_interest", native, path: `/fapi/v1/openInterest?symbol=${native}`, stamp: "current", history: history("openInterestHist", native) });
    if (data_types.includes("lsr_top_position"))
      out.push({
        data_type: "lsr_top_position",
        native,
        path: `/futures/data/topLongShortPositionRatio?symbol=${native}&period=${period}&limit=1`,
        stamp: "closed",
        history: history("topLongShortPositionRatio", native),
      });
    if (data_types.includes("lsr_all_account"))
      out.push({
        data_type: "lsr_all_account",
        native,
        path: `/futures/data/globalLongShortAccountRatio?symbol=${native}&period=${period}&limit=1`,
        stamp: "closed",
        history: history("globalLongShortAccountRatio", native),
      });
  }
  return out;
}

/** Staleness limit of a stream, ms (StaleLimit): mark price streams push every 1 s or 3 s; 0 = none. */
export function binanceStaleLimitMs(stream: string): number {
  const c = stream.toLowerCase();
  if (c.includes("@markprice@1s")) return 10_000;
  if (c.includes("@markprice")) return 30_000;
  return 0;
}

/** The funding fallback poll for one symbol (used while `@markPrice` is not delivering). */
export function binancePremiumIndexPath(native: string): string {
  return `/fapi/v1/premiumIndex?symbol=${native}`;
}

/** Trades a Binance trade history page holds at most (`limit`: default 500, max 1000). */
export const BINANCE_TRADE_PAGE = 1000;

/**
 * Where a hole in a Binance trade stream is filled from: the REST list whose ids are the
 * stream's, paged up from `fromId` (inclusive).
 * - spot streams `<s>@trade`, whose `t` ids are those of `GET /api/v3/historicalTrades`
 *   ("Old trade lookup", weight 25, `fromId` = trade id to fetch from, no API key):
 *   https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#old-trade-lookup.
 *   `GET /api/v3/aggTrades` weighs less but its ids are aggregate ids, which the stream's
 *   records do not carry, so its trades could not be matched to the stored ones.
 * - USDⓈ-M streams `<s>@aggTrade` (routes.ts), whose `a` ids are those of
 *   `GET /fapi/v1/aggTrades` (weight 20, `fromId` inclusive):
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Compressed-Aggregate-Trades-List
 */
export function binanceTradeBackfill(venue: BinanceVenue): VenueTradeBackfill {
  const spot = venue === "binance_spot";
  const base = spot ? "/api/v3/historicalTrades" : "/fapi/v1/aggTrades";
  return {
    channel: spot ? "historicalTrades" : "aggTrades",
    page_limit: BINANCE_TRADE_PAGE,
    direction: "forward",
    path: (native, cursor) => `${base}?symbol=${native}&limit=${BINANCE_TRADE_PAGE}${cursor === undefined ? "" : `&fromId=${cursor}`}`,
  };
}
