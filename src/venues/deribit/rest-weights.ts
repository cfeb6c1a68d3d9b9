import type { VenueRestLimits } from "../connection/rest-budget.ts";

/**
 * Deribit's credit pool for non-matching-engine requests
 * (https://docs.deribit.com/articles/rate-limits, https://support.deribit.com/hc/en-us/articles/25944617523357-Rate-Limits):
 * each request costs 500 credits from a pool of 50,000 refilled at 10,000 credits a second,
 * so about 20 requests a second sustained with bursts of 100. Past it Deribit answers
 * `too_many_requests` (code 10028, https://docs.deribit.com/#rpc-error-codes); the engine waits
 * one second, which refills 20 requests.
 */

export const DERIBIT_REST_LIMITS: VenueRestLimits = {
  buckets: [{ name: "credits", kind: "pool", limit: 50_000, window_ms: 5000 }],
  cost: () => ({ bucket: 0, weight: 500 }),
  sends_retry_after: false,
  default_retry_after_ms: 1000,
  refusalBody: () => JSON.stringify({ jsonrpc: "2.0", error: { message: "too_many_requests", code: 10028 } }),
};
