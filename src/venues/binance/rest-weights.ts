import type { RestCost, RestLimitSpec, VenueRestLimits } from "../connection/rest-budget.ts";
import { splitPath } from "../connection/rest-budget.ts";

/**
 * Binance REST limits and request weights, as documented:
 * - https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits: weight is
 *   counted per IP in fixed 1-minute intervals (REQUEST_WEIGHT 6,000/min on spot), the used
 *   weight comes back in `X-MBX-USED-WEIGHT-1M`, a 429 and a 418 carry `Retry-After`, and
 *   requests that go on after a 429 earn a 418 IP ban of 2 minutes up to 3 days.
 * - https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#order-book:
 *   `GET /api/v3/depth` weighs 5 (limit 1-100), 25 (101-500), 50 (501-1000), 250 (1001-5000);
 *   `GET /api/v3/exchangeInfo` weighs 20.
 * - https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Order-Book:
 *   `GET /fapi/v1/depth` weighs 2 (limit 5-50), 5 (100), 10 (500), 20 (1000); USDⓈ-M allows
 *   2,400 REQUEST_WEIGHT a minute (exchangeInfo `rateLimits`).
 * - .../rest-api/Exchange-Information, .../Open-Interest, .../Mark-Price: weight 1 each.
 * - https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#24hr-ticker-price-change-statistics:
 *   `GET /api/v3/ticker/24hr` weighs 2 for one `symbol` or 1-20 `symbols`, 40 for 21-100, 80 for
 *   more or for none (every symbol).
 * - https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/24hr-Ticker-Price-Change-Statistics:
 *   `GET /fapi/v1/ticker/24hr` weighs 1 with a symbol, 40 without. A selector's `top` reads the
 *   list without a symbol at start and at each instrument refresh.
 * - .../rest-api/Long-Short-Ratio, .../Top-Trader-Long-Short-Ratio: `/futures/data/*` weigh 0
 *   and share an "IP rate limit 1000 requests/5min".
 * - https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#old-trade-lookup:
 *   `GET /api/v3/historicalTrades` weighs 25 (a trade backfill's page of up to 1,000 trades).
 * - https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Compressed-Aggregate-Trades-List:
 *   `GET /fapi/v1/aggTrades` weighs 20.
 */

export type BinanceRestVenue = "binance_spot" | "binance_derivatives";

const WEIGHT = 0;
const FUTURES_DATA = 1;

const SPOT_BUCKETS: readonly RestLimitSpec[] = [{ name: "request_weight", kind: "window", limit: 6000, window_ms: 60_000 }];
const FUTURES_BUCKETS: readonly RestLimitSpec[] = [
  { name: "request_weight", kind: "window", limit: 2400, window_ms: 60_000 },
  { name: "futures_data", kind: "window", limit: 1000, window_ms: 300_000 },
];

/** Weight of `GET /api/v3/depth` for a limit (Binance's default limit is 100). */
export function spotDepthWeight(limit: number): number {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

/** Weight of `GET /fapi/v1/depth` for a limit (Binance's default limit is 500). */
export function futuresDepthWeight(limit: number): number {
  if (limit <= 50) return 2;
  if (limit <= 100) return 5;
  if (limit <= 500) return 10;
  return 20;
}

/** Weight of `GET /api/v3/ticker/24hr` for the `symbols` asked (undefined = every symbol). */
export function spotTicker24hWeight(symbols: number | undefined): number {
  if (symbols === undefined || symbols > 100) return 80;
  return symbols <= 20 ? 2 : 40;
}

/** How many symbols a spot `symbols=["A","B"]` parameter names (a malformed one counts as all). */
function symbolsCount(text: string | null): number | undefined {
  if (text === null) return undefined;
  try {
    const list: unknown = JSON.parse(text);
    return Array.isArray(list) ? list.length : undefined;
  } catch {
    return undefined;
  }
}

function spotCost(path: string): RestCost {
  const { pathname, query } = splitPath(path);
  if (pathname === "/api/v3/ticker/24hr") {
    return { bucket: WEIGHT, weight: spotTicker24hWeight(query.has("symbol") ? 1 : symbolsCount(query.get("symbols"))) };
  }
  if (pathname === "/api/v3/depth") return { bucket: WEIGHT, weight: spotDepthWeight(Number(query.get("limit") ?? 100) || 100) };
  if (pathname === "/api/v3/exchangeInfo") return { bucket: WEIGHT, weight: 20 };
  if (pathname === "/api/v3/historicalTrades") return { bucket: WEIGHT, weight: 25 };
  return { bucket: WEIGHT, weight: 1 };
}

function futuresCost(path: string): RestCost {
  const { pathname, query } = splitPath(path);
  if (pathname === "/fapi/v1/depth") return { bucket: WEIGHT, weight: futuresDepthWeight(Number(query.get("limit") ?? 500) || 500) };
  if (pathname.startsWith("/futures/data/")) return { bucket: FUTURES_DATA, weight: 1 };
  if (pathname === "/fapi/v1/ticker/24hr") return { bucket: WEIGHT, weight: query.has("symbol") ? 1 : 40 };
  if (pathname === "/fapi/v1/aggTrades") return { bucket: WEIGHT, weight: 20 };
  return { bucket: WEIGHT, weight: 1 };
}

function refusalBody(status: 429 | 418, until_ms: number): string {
  const msg =
    status === 418
      ? `Way too many requests; IP banned until ${Math.ceil(until_ms)}. Please use the websocket for live updates to avoid bans.`
      : "Too many requests; current limit of IP request weight is exceeded. Please use the websocket for live updates to avoid polling the API.";
  return JSON.stringify({ code: -1003, msg });
}

export function binanceRestLimits(venue: BinanceRestVenue): VenueRestLimits {
  return {
    buckets: venue === "binance_spot" ? SPOT_BUCKETS : FUTURES_BUCKETS,
    cost: venue === "binance_spot" ? spotCost : futuresCost,
    snapshotCost: (limit) => ({ bucket: WEIGHT, weight: venue === "binance_spot" ? spotDepthWeight(limit) : futuresDepthWeight(limit) }),
    used_weight_header: { name: "x-mbx-used-weight-1m", bucket: WEIGHT },
    sends_retry_after: true,
    default_retry_after_ms: 60_000,
    refusalBody,
  };
}
