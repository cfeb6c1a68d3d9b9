/**
 * Pages through a venue's REST trade history to fill one symbol's hole in its trade stream
 * (src/venues/trade-gaps.ts decides which holes and feeds the pages to the normalizer). The
 * venue's definition says how its history pages (`VenueTradeBackfill`):
 * - `forward` (Binance `fromId`, inclusive): pages run up from the first missing id, each from
 *   the id after the previous page's highest, until a page reaches the first id the stream
 *   delivered after the hole, or comes back short (the venue has nothing newer);
 * - `backward` (OKX `after`, exclusive, newest first): pages run down from the first id
 *   delivered after the hole (the newest trades when it is not known), each below the previous
 *   page's lowest, until a page reaches the last id stored before the hole, or comes back short
 *   (the venue has nothing older).
 * A venue that refuses (an error answer), serves a page that does not move on, or pages on
 * past `max_pages` ends the backfill with a failure: what came back so far stays recovered.
 */

/** How a venue's REST trade history pages (a venue definition's `ingest.backfill`). */
export interface VenueTradeBackfill {
  /** The stats channel a failure is counted on, e.g. `historicalTrades`. */
  readonly channel: string;
  /** Trades a page holds at most (the venue's maximum `limit`). */
  readonly page_limit: number;
  readonly direction: "forward" | "backward";
  /**
   * Path and query (relative to rest_url) of `native`'s page at `cursor`: forward, the first id
   * wanted; backward, the page ends just below it (undefined: the newest trades).
   */
  path(native: string, cursor: number | undefined): string;
}

/** Ids of one symbol's hole, both exclusive: trades with `after_id < id < before_id` are missing. */
export interface TradeHole {
  /** The last trade id stored before the hole. */
  readonly after_id: number;
  /** The first trade id the stream delivered after it; undefined while none arrived. */
  readonly before_id: number | undefined;
}

/** A page's answer: its body, or why there is none. */
export type PageAnswer = { readonly ok: true; readonly body: string; readonly recv_ts_ms: number } | { readonly ok: false; readonly error: string };

export interface TradePageIo {
  /** GETs one page (through the venue's weight budget). */
  fetch(path: string): Promise<PageAnswer>;
  /** Feeds the body of page `path` to the normalizer; returns the ids of the symbol's trades it held. */
  push(path: string, body: string, recv_ts_ms: number): readonly number[];
  /** False once the ingest runner stops: paging ends without a failure. */
  running(): boolean;
}

export interface TradePagesResult {
  readonly pages: number;
  /** Why the backfill stopped short (refused, stuck, page bound reached); undefined when it finished. */
  readonly failure: string | undefined;
}

export async function fetchTradePages(spec: VenueTradeBackfill, native: string, hole: TradeHole, io: TradePageIo, max_pages: number): Promise<TradePagesResult> {
  const forward = spec.direction === "forward";
  let cursor = forward ? hole.after_id + 1 : hole.before_id;
  for (let pages = 1; pages <= max_pages; pages++) {
    const path = spec.path(native, cursor);
    const answer = await io.fetch(path);
    if (!io.running()) return { pages, failure: undefined };
    if (!answer.ok) return { pages, failure: `refused: ${answer.error}` };
    const ids = io.push(path, answer.body, answer.recv_ts_ms);
    if (ids.length === 0) return { pages, failure: undefined };
    let lo = Infinity;
    let hi = -Infinity;
    for (const id of ids) {
      if (id < lo) lo = id;
      if (id > hi) hi = id;
    }
    const short = ids.length < spec.page_limit;
    if (forward) {
      if ((hole.before_id !== undefined && hi >= hole.before_id - 1) || short) return { pages, failure: undefined };
      if (cursor !== undefined && hi < cursor) return { pages, failure: `page ${pages} did not move past id ${cursor}` };
      cursor = hi + 1;
    } else {
      if (lo <= hole.after_id + 1 || short) return { pages, failure: undefined };
      if (cursor !== undefined && lo >= cursor) return { pages, failure: `page ${pages} did not move below id ${cursor}` };
      cursor = lo;
    }
  }
  return { pages: max_pages, failure: `stopped after ${max_pages} pages` };
}
