import type { Exchange, GapCause, GapRecord, MarketType, OrderbookRecord } from "../records/types.ts";
import type { BookHealth, BookVerdict } from "../venues/types.ts";
import { PriceBook } from "./price-book.ts";

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

  constructor(
    readonly native: string,
    readonly symbol: string,
    readonly exchange: Exchange,
    readonly market_type: MarketType,
  ) {}

  /** Whether a top-N record is due at exchange time `ts_ms` (interval 0 = every update). */
  due(ts_ms: number, interval_ms: number): boolean {
    if (interval_ms === 0) return true;
    if (ts_ms < this.next_emit_ts_ms) return false;
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
