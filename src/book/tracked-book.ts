import type { BookSide, Exchange, GapCause, GapRecord, Level, MarketType, OrderbookDeltaRecord, OrderbookRecord } from "../records/types.ts";
import type { BookHealth, BookVerdict } from "../venues/types.ts";
import { PriceBook, type RawLevel } from "./price-book.ts";

/** Where a book's orderbook_delta rows go (the normalizer's emit), when its venue collects them. */
export type DeltaSink = (record: OrderbookDeltaRecord) => void;

/**
 * One symbol's local book plus what the engine reports about it: sync state, health counters
 * and the exchange-time cadence of its top-N records. The venue-specific chain rules live in
 * src/venues/binance/book-sync.ts and src/venues/okx/book-sync.ts; this file is what they share.
 */
export class TrackedBook {
  readonly book = new PriceBook();
  /** "syncing" until the first snapshot bridges, "stale" while a resync is pending after a violation. */
  state: BookHealth["state"] = "syncing";
  resyncs = 0;
  checksum_failures = 0;
  sequence_gaps = 0;
  last_update_ts_ms = 0;
  private next_emit_ts_ms = 0;
  /**
   * Receives the book's orderbook_delta rows: the whole book after every (re)sync
   * (`emitSyncedBook`), then every change it applies (`emitChange`). Undefined: none are made.
   */
  deltas: DeltaSink | undefined = undefined;

  constructor(
    readonly native: string,
    readonly symbol: string,
    readonly exchange: Exchange,
    readonly market_type: MarketType,
  ) {}

  /** Whether a top-N record is due at exchange time `ts_ms` (interval 0 = every update), without moving the cadence on. */
  isDue(ts_ms: number, interval_ms: number): boolean {
    return interval_ms === 0 || ts_ms >= this.next_emit_ts_ms;
  }

  /** Whether a top-N record is due at exchange time `ts_ms`; when it is, the cadence moves to the next interval. */
  due(ts_ms: number, interval_ms: number): boolean {
    if (interval_ms === 0) return true;
    if (!this.isDue(ts_ms, interval_ms)) return false;
    // Align to interval boundaries so records land on the cadence regardless of update timing.
    this.next_emit_ts_ms = (Math.floor(ts_ms / interval_ms) + 1) * interval_ms;
    return true;
  }

  /** Re-arms the cadence so the first record after a (re)sync is emitted at once. */
  resetCadence(): void {
    this.next_emit_ts_ms = 0;
  }

  record(ts_ms: number, recv_ts_ms: number, last_update_id: number, depth: number): OrderbookRecord {
    const bids = this.book.bids.top(depth);
    const asks = this.book.asks.top(depth);
    const bestBid = bids[0];
    const bestAsk = asks[0];
    return {
      data_type: "orderbook",
      exchange: this.exchange,
      market_type: this.market_type,
      symbol: this.symbol,
      ts_ms,
      recv_ts_ms,
      last_update_id,
      bids,
      asks,
      // An empty side has no best level; the Decimal column needs a value and 0 is never a real price.
      best_bid_price: bestBid === undefined ? "0" : bestBid[0],
      best_bid_quantity: bestBid === undefined ? "0" : bestBid[1],
      best_ask_price: bestAsk === undefined ? "0" : bestAsk[0],
      best_ask_quantity: bestAsk === undefined ? "0" : bestAsk[1],
      bids_count: bids.length,
      asks_count: asks.length,
    };
  }

  /**
   * The book as it stands right after a (re)sync, as orderbook_delta rows with `is_snapshot`:
   * every level, bids then asks, best first, all at `update_id` and `ts_ms` (those of the update
   * that made the book live). A rebuild starts from the newest such row set before its instant.
   */
  protected emitSyncedBook(update_id: number, ts_ms: number, recv_ts_ms: number): void {
    const sink = this.deltas;
    if (sink === undefined) return;
    this.snapshotRows(sink, this.book.bids.top(this.book.bids.size), "bid", update_id, ts_ms, recv_ts_ms);
    this.snapshotRows(sink, this.book.asks.top(this.book.asks.size), "ask", update_id, ts_ms, recv_ts_ms);
  }

  /**
   * One applied change as orderbook_delta rows: each received level as it came (quantity 0
   * deletes the level; a delete of an absent level is kept too, as the venue sent it).
   */
  protected emitChange(bids: readonly RawLevel[], asks: readonly RawLevel[], update_id: number, ts_ms: number, recv_ts_ms: number): void {
    const sink = this.deltas;
    if (sink === undefined) return;
    this.changeRows(sink, bids, "bid", update_id, ts_ms, recv_ts_ms);
    this.changeRows(sink, asks, "ask", update_id, ts_ms, recv_ts_ms);
  }

  private snapshotRows(sink: DeltaSink, levels: readonly Level[], side: BookSide, update_id: number, ts_ms: number, recv_ts_ms: number): void {
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i] as Level;
      sink(this.deltaRow(true, side, l[0], l[1], update_id, ts_ms, recv_ts_ms));
    }
  }

  private changeRows(sink: DeltaSink, levels: readonly RawLevel[], side: BookSide, update_id: number, ts_ms: number, recv_ts_ms: number): void {
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i] as RawLevel;
      sink(this.deltaRow(false, side, l[0], l[1], update_id, ts_ms, recv_ts_ms));
    }
  }

  private deltaRow(is_snapshot: boolean, side: BookSide, price: string, amount: string, update_id: number, ts_ms: number, recv_ts_ms: number): OrderbookDeltaRecord {
    return {
      data_type: "orderbook_delta",
      exchange: this.exchange,
      market_type: this.market_type,
      symbol: this.symbol,
      ts_ms,
      recv_ts_ms,
      update_id,
      is_snapshot,
      side,
      price,
      amount,
    };
  }

  /** Counts a chain violation and returns its gap record; the caller resyncs. */
  violation(cause: GapCause, end_ts_ms: number, recv_ts_ms: number): GapRecord {
    if (cause === "checksum_mismatch") this.checksum_failures++;
    else this.sequence_gaps++;
    this.resyncs++;
    this.state = "stale";
    return {
      data_type: "gap",
      exchange: this.exchange,
      market_type: this.market_type,
      symbol: this.symbol,
      ts_ms: end_ts_ms,
      recv_ts_ms,
      data_type_affected: "orderbook",
      start_ts_ms: this.last_update_ts_ms === 0 ? end_ts_ms : this.last_update_ts_ms,
      end_ts_ms,
      cause,
      recovered_records: 0,
      recovered_at_ms: 0,
    };
  }

  /**
   * What is wrong with a live book, or undefined: its levels (`PriceBook.problem`) plus what each
   * venue's chain promises (the subclasses). A book that is not live publishes nothing and
   * passes; it resyncs before it does.
   */
  verify(): string | undefined {
    return this.state === "live" ? this.book.problem() : undefined;
  }

  verdict(): BookVerdict {
    return { native: this.native, state: this.state, problem: this.verify() };
  }

  health(): BookHealth {
    return {
      symbol: this.symbol,
      native: this.native,
      state: this.state,
      resyncs: this.resyncs,
      checksum_failures: this.checksum_failures,
      sequence_gaps: this.sequence_gaps,
      last_update_ts_ms: this.last_update_ts_ms,
    };
  }
}
