/**
 * The trades a replayed venue sent, per symbol, for its REST trade history (Binance
 * `historicalTrades` / `aggTrades`, OKX `history-trades`): each trade frame the feed's cursor
 * passes (feed-pump.ts) is kept as the venue's REST row, in id order, whether or not a client
 * received it, as a venue's history holds every trade. Bounded as a venue's retention is: a
 * symbol keeps its newest MAX_SENT_TRADES trades.
 */

/** Trades kept per symbol. */
export const MAX_SENT_TRADES = 20_000;
/** Trades dropped at once when a symbol passes the bound, so trimming is rare. */
const TRIM = 2_000;

interface SymbolTrades {
  readonly ids: number[];
  readonly rows: string[];
}

export class SentTrades {
  private readonly bySymbol = new Map<string, SymbolTrades>();

  constructor(private readonly max_per_symbol = MAX_SENT_TRADES) {}

  /** A trade sent now; ids rise loop after loop (feed.ts), so one not above the newest is already kept. */
  add(symbol: string, id: number, row: string): void {
    let t = this.bySymbol.get(symbol);
    if (t === undefined) {
      t = { ids: [], rows: [] };
      this.bySymbol.set(symbol, t);
    }
    const newest = t.ids[t.ids.length - 1];
    if (newest !== undefined && id <= newest) return;
    t.ids.push(id);
    t.rows.push(row);
    if (t.ids.length > this.max_per_symbol) {
      const drop = Math.min(t.ids.length, t.ids.length - this.max_per_symbol + TRIM);
      t.ids.splice(0, drop);
      t.rows.splice(0, drop);
    }
  }

  /** Rows of trades with id >= `from_id`, oldest first, at most `limit`. */
  from(symbol: string, from_id: number, limit: number): string[] {
    const t = this.bySymbol.get(symbol);
    if (t === undefined) return [];
    const start = lowerBound(t.ids, from_id);
    return t.rows.slice(start, start + limit);
  }

  /** Rows of trades with id < `before_id` (undefined: the newest), newest first, at most `limit`. */
  before(symbol: string, before_id: number | undefined, limit: number): string[] {
    const t = this.bySymbol.get(symbol);
    if (t === undefined) return [];
    const end = before_id === undefined ? t.ids.length : lowerBound(t.ids, before_id);
    return t.rows.slice(Math.max(0, end - limit), end).reverse();
  }
}

/** The first index whose id is >= `id`. */
function lowerBound(ids: readonly number[], id: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] as number) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
