import type { OkxBookChannel, VenueConfig } from "../../config/schema.ts";
import type { DataType } from "../../records/types.ts";
import type { VenueTradeBackfill } from "../connection/trade-pages.ts";
import type { InstrumentMap } from "../types.ts";
import type { VenuePoll } from "../venue-definition.ts";

/**
 * What the connection layer subscribes to and polls on OKX v5 (SPEC section 1 table).
 * https://www.okx.com/docs-v5/en/#overview-websocket-subscribe
 */

/** One `args` element of `{"op":"subscribe","args":[…]}` on `/ws/v5/public`. */
export interface OkxSubscribeArg {
  readonly channel: string;
  readonly instId?: string;
  readonly instType?: string;
}

/** The configured book channel of an OKX venue's config (`books` for a config without one). */
export function okxBookChannel(config: VenueConfig): OkxBookChannel {
  return "book_channel" in config ? config.book_channel : "books";
}

/**
 * Subscribe args for `symbols` (native ids); books on `book_channel`. Funding records need the
 * mark and index price, which the funding-rate channel lacks, so `funding_rate` also subscribes
 * `mark-price` and `index-tickers` (index id = the instrument's BASE-QUOTE, from metadata). Liquidations are
 * per instrument type, one arg for all swaps.
 */
export function okxSubscribeArgs(
  symbols: readonly string[],
  data_types: readonly DataType[],
  instruments: InstrumentMap,
  book_channel: OkxBookChannel = "books",
): OkxSubscribeArg[] {
  const out: OkxSubscribeArg[] = [];
  const wants = (t: DataType): boolean => data_types.includes(t);
  let swaps = false;
  for (const instId of symbols) {
    const inst = instruments.get(instId);
    const swap = inst?.market_type === "perpetual";
    swaps ||= swap;
    if (wants("orderbook")) out.push({ channel: book_channel, instId });
    if (wants("trade")) out.push({ channel: "trades", instId });
    if (!swap || inst === undefined) continue;
    if (wants("funding_rate")) {
      out.push({ channel: "funding-rate", instId });
      out.push({ channel: "mark-price", instId });
      out.push({ channel: "index-tickers", instId: `${inst.base}-${inst.quote}` });
    }
    if (wants("open_interest")) out.push({ channel: "open-interest", instId });
  }
  if (swaps && wants("liquidation")) out.push({ channel: "liquidation-orders", instType: "SWAP" });
  return out;
}

/** Staleness limit of a channel, ms (StaleLimit), sized to its push cadence; 0 = none. */
export function okxStaleLimitMs(channel: string): number {
  const c = channel.toLowerCase();
  if (c.startsWith("funding-rate")) return 180_000;
  if (c.startsWith("open-interest") || c.startsWith("mark-price") || c.startsWith("index-tickers")) return 60_000;
  return 0;
}

/** OKX rubik accepts 5m, 1H, 1D; config periods are 5m, 15m, 30m, 1h. */
export function okxRubikPeriod(period: string): string | undefined {
  if (period === "5m") return "5m";
  if (period === "1h") return "1H";
  return undefined;
}

/**
 * Rubik REST polls for the long/short ratios (no push channel exists). Returns [] for a
 * period rubik does not offer (15m, 30m): the normalizer would otherwise mislabel buckets.
 * A missed bucket comes from the same endpoints with `begin`/`end` (ms) and `limit` (at most
 * 100 rows, newest first):
 * https://www.okx.com/docs-v5/en/#trading-statistics-rest-api-get-top-traders-contract-long-short-ratio-by-position,
 * https://www.okx.com/docs-v5/en/#trading-statistics-rest-api-get-contract-long-short-ratio.
 */
export function okxPolls(
  symbols: readonly string[],
  data_types: readonly DataType[],
  period: string,
  instruments: InstrumentMap,
): VenuePoll[] {
  const p = okxRubikPeriod(period);
  if (p === undefined) return [];
  const out: VenuePoll[] = [];
  const poll = (data_type: DataType, native: string, endpoint: string): VenuePoll => {
    const path = `/api/v5/rubik/stat/contracts/${endpoint}?instId=${native}&period=${p}`;
    return { data_type, native, path: `${path}&limit=1`, stamp: "closed", history: (s) => `${path}&begin=${s.from_ms}&end=${s.to_ms}&limit=${s.limit}` };
  };
  for (const native of symbols) {
    if (instruments.get(native)?.market_type !== "perpetual") continue;
    if (data_types.includes("lsr_top_position")) out.push(poll("lsr_top_position", native, "long-short-position-ratio-contract-top-trader"));
    if (data_types.includes("lsr_all_account")) out.push(poll("lsr_all_account", native, "long-short-account-ratio-contract"));
  }
  return out;
}

/** Trades an OKX history page holds at most (`limit`: default and maximum 100). */
export const OKX_TRADE_PAGE = 100;

/**
 * Where a hole in an OKX `trades` stream is filled from: `GET /api/v5/market/history-trades`
 * (the last 3 months, 20 requests per 2 s per IP), paged by trade id (`type=1`) newest first:
 * `after` returns the trades older than the given id; without it, the newest ones.
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades-history
 */
export const OKX_TRADE_BACKFILL: VenueTradeBackfill = {
  channel: "history-trades",
  page_limit: OKX_TRADE_PAGE,
  direction: "backward",
  path: (instId, cursor) => `/api/v5/market/history-trades?instId=${instId}&type=1&limit=${OKX_TRADE_PAGE}${cursor === undefined ? "" : `&after=${cursor}`}`,
};
