/**
 * OKX v5 WebSocket limits, as the venue documents them (checked 2026-12):
 * https://www.okx.com/docs-v5/en/#overview-rate-limit and
 * https://www.okx.com/docs-v5/en/#overview-websocket-connect
 *   "Connection limit: 3 requests per second (based on IP)"; "The total number of
 *   'subscribe'/'unsubscribe'/'login' requests per connection is limited to 480 times per hour";
 *   "The connection will break automatically if the subscription is not established or data has
 *   not been pushed for more than 30 seconds": clients send the text `ping` after N < 30 s.
 * https://www.okx.com/docs-v5/en/#overview-websocket-subscribe
 *   "the total length of multiple channels cannot exceed 64 KB" per subscribe request.
 * https://www.okx.com/docs-v5/en/#overview-websocket-login (sign = Base64(HMAC-SHA256(secret,
 *   timestamp + "GET" + "/users/self/verify"))).
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 *   `books` (400 levels, 100 ms), `books5`, `bbo-tbt` are public; `books50-l2-tbt` needs a
 *   logged-in VIP4+ account and `books-l2-tbt` a logged-in VIP5+ account.
 * https://www.okx.com/docs-v5/en/#error-code-websocket-public (60011 "Please log in",
 *   60012 "Invalid request", 60014 "Requests too frequent", 60018 "Wrong URL or {0} doesn't
 *   exist. Please use the correct URL, channel and parameters referring to API document.").
 * The simulator enforces the same numbers (sim-protocol.ts).
 */

/** Connection requests per second per IP. */
export const OKX_CONNECTS_PER_S = 3;
/** subscribe + unsubscribe + login requests per connection per hour. */
export const OKX_REQUESTS_PER_HOUR = 480;
export const HOUR_MS = 3_600_000;
/** Bytes of one subscribe request at most. */
export const OKX_MAX_REQUEST_BYTES = 64 * 1024;
/** A connection idle this long is closed, ms. */
export const OKX_IDLE_CLOSE_MS = 30_000;

/** The book channels (config/schema.ts OKX_BOOK_CHANNELS) that need a login. */
export function needsLogin(channel: string): boolean {
  return channel === "books-l2-tbt" || channel === "books50-l2-tbt";
}

/** OKX's codes for the errors the simulator answers and the engine recognises. */
export const OKX_ERRORS = {
  please_log_in: { code: "60011", msg: "Please log in" },
  invalid_request: { code: "60012", msg: "Invalid request" },
  too_frequent: { code: "60014", msg: "Requests too frequent." },
  /** `{0}` is the refused arg as OKX names it: `channel:books,instId:BTC-USDT`. */
  not_found: { code: "60018", msg: "Wrong URL or {0} doesn't exist. Please use the correct URL, channel and parameters referring to API document." },
} as const;

/** OKX's 60018 message for a subscribe arg it does not serve (`instType` for a per-type channel). */
export function okxNotFoundMsg(channel: string, inst: { readonly instId?: string; readonly instType?: string }): string {
  const named = inst.instId !== undefined ? `instId:${inst.instId}` : `instType:${inst.instType ?? ""}`;
  return OKX_ERRORS.not_found.msg.replace("{0}", `channel:${channel},${named}`);
}
