import type { RestCost, RestLimitSpec, VenueRestLimits } from "../connection/rest-budget.ts";
import { splitPath } from "../connection/rest-budget.ts";

/**
 * OKX v5 REST limits, per endpoint (https://www.okx.com/docs-v5/en/#overview-rate-limits):
 * - `GET /api/v5/public/instruments`: 20 requests per 2 s, IP + instrument type
 *   (https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments).
 * - rubik contract ratios, `long-short-position-ratio-contract-top-trader` and
 *   `long-short-account-ratio-contract`: 5 requests per 2 s, IP + instrument ID
 *   (https://www.okx.com/docs-v5/en/#trading-statistics-rest-api-get-top-traders-contract-long-short-ratio-by-position,
 *   https://www.okx.com/docs-v5/en/#trading-statistics-rest-api-get-contract-long-short-ratio).
 *   The budget counts them per endpoint over all instruments, which is stricter than OKX and
 *   still lets 2.5 polls a second through: a 5-minute bucket of 300 swaps takes two minutes.
 * - `GET /api/v5/market/tickers` (a selector's `top`): 20 requests per 2 s, IP
 *   (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-tickers).
 * - `GET /api/v5/market/history-trades` (a trade backfill's pages): 20 requests per 2 s, IP
 *   (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades-history).
 * - other public market data, among them `GET /api/v5/market/ticker`: 20 requests per 2 s
 *   (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-ticker).
 * Past a limit OKX answers HTTP 429 with code 50011 "Rate limit reached"
 * (https://www.okx.com/docs-v5/en/#error-code-rest-api-public) and no `Retry-After`; the engine then waits
 * one window. okx_spot and okx_derivatives keep a budget each: only okx_derivatives polls
 * rubik, and each sends one instruments request (of its own instrument type) at start.
 */

const BUCKETS: readonly RestLimitSpec[] = [
  { name: "public_instruments", kind: "window", limit: 20, window_ms: 2000 },
  { name: "rubik_position_top_trader", kind: "window", limit: 5, window_ms: 2000 },
  { name: "rubik_account_ratio_contract", kind: "window", limit: 5, window_ms: 2000 },
  { name: "public_other", kind: "window", limit: 20, window_ms: 2000 },
  { name: "market_tickers", kind: "window", limit: 20, window_ms: 2000 },
  { name: "market_history_trades", kind: "window", limit: 20, window_ms: 2000 },
];

function cost(path: string): RestCost {
  const { pathname } = splitPath(path);
  if (pathname === "/api/v5/public/instruments") return { bucket: 0, weight: 1 };
  if (pathname === "/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader") return { bucket: 1, weight: 1 };
  if (pathname === "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract") return { bucket: 2, weight: 1 };
  if (pathname === "/api/v5/market/tickers") return { bucket: 4, weight: 1 };
  if (pathname === "/api/v5/market/history-trades") return { bucket: 5, weight: 1 };
  return { bucket: 3, weight: 1 };
}

export const OKX_REST_LIMITS: VenueRestLimits = {
  buckets: BUCKETS,
  cost,
  sends_retry_after: false,
  default_retry_after_ms: 2000,
  refusalBody: () => JSON.stringify({ code: "50011", data: [], msg: "Too Many Requests" }),
};
