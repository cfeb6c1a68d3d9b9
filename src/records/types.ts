/**
 * Normalized records (SPEC section 2): a readonly discriminated union on `data_type`.
 *
 * Prices, quantities, rates and ratios are the exchange's own decimal strings, end to end,
 * so ClickHouse `Decimal` columns receive exact values. Times are integer ms UTC.
 */

export const DATA_TYPES = [
  "trade",
  "orderbook",
  "funding_rate",
  "open_interest",
  "liquidation",
  "lsr_top_position",
  "lsr_all_account",
  "volatility_index",
  "orderbook_delta",
] as const;

/** A market data type (the first token of a NATS subject). */
export type DataType = (typeof DATA_TYPES)[number];

/** Every record kind that travels: the data types plus `gap`. */
export const RECORD_TYPES = [...DATA_TYPES, "gap"] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/**
 * The record types a venue sends many of a second per symbol: every trade, every book and every
 * book change. The others come at most once a second per symbol (funding, liquidations), at a
 * poll period (open interest, the ratios), per currency (volatility) or per incident (gaps).
 */
export const HIGH_VOLUME_TYPES: ReadonlySet<RecordType> = new Set(["trade", "orderbook", "orderbook_delta"]);

export type Exchange = "binance" | "okx" | "deribit";
export type MarketType = "spot" | "perpetual" | "options";
export type Side = "buy" | "sell";
/** The side of the book a level is on. */
export type BookSide = "bid" | "ask";
/** A decimal number kept as the exchange's text, e.g. "0.35130000". */
export type Decimal = string;
/** One book level: [price, quantity], both as exchange text. */
export type Level = readonly [Decimal, Decimal];

interface Common {
  readonly exchange: Exchange;
  readonly market_type: MarketType;
  /** BASE-QUOTE (`BTC-USDT`), or the currency for Deribit indices (`BTC`). */
  readonly symbol: string;
  /** Exchange event time, ms UTC. */
  readonly ts_ms: number;
  /** Local receive time, ms UTC. */
  readonly recv_ts_ms: number;
}

export interface TradeRecord extends Common {
  readonly data_type: "trade";
  readonly trade_id: string;
  readonly price: Decimal;
  readonly quantity: Decimal;
  /** Taker side. */
  readonly side: Side;
  /** Buyer is the maker. */
  readonly is_maker: boolean;
  readonly trade_time: number;
}

export interface OrderbookRecord extends Common {
  readonly data_type: "orderbook";
  readonly last_update_id: number;
  /** Top N bids, best (highest) first. */
  readonly bids: readonly Level[];
  /** Top N asks, best (lowest) first. */
  readonly asks: readonly Level[];
  readonly best_bid_price: Decimal;
  readonly best_bid_quantity: Decimal;
  readonly best_ask_price: Decimal;
  readonly best_ask_quantity: Decimal;
  /** Number of levels in `bids` / `asks` of this record. */
  readonly bids_count: number;
  readonly asks_count: number;
}

export interface FundingRateRecord extends Common {
  readonly data_type: "funding_rate";
  readonly funding_rate: Decimal;
  /** Settlement time the rate applies to, ms. */
  readonly funding_time: number;
  readonly next_funding_time: number;
  readonly mark_price: Decimal;
  readonly index_price: Decimal;
}

export interface OpenInterestRecord extends Common {
  readonly data_type: "open_interest";
  /** In contracts (base quantity on Binance USDⓈ-M). */
  readonly open_interest: Decimal;
  /** In the quote currency. */
  readonly open_interest_value: Decimal;
  readonly count: number;
}

export interface LiquidationRecord extends Common {
  readonly data_type: "liquidation";
  readonly side: Side;
  readonly price: Decimal;
  readonly quantity: Decimal;
  readonly liquidation_time: number;
}

export interface LsrTopPositionRecord extends Common {
  readonly data_type: "lsr_top_position";
  readonly long_position_ratio: Decimal;
  readonly short_position_ratio: Decimal;
  readonly long_short_ratio: Decimal;
  /** Bucket period, e.g. "5m". */
  readonly period: string;
}

export interface LsrAllAccountRecord extends Common {
  readonly data_type: "lsr_all_account";
  readonly long_account_ratio: Decimal;
  readonly short_account_ratio: Decimal;
  readonly long_short_ratio: Decimal;
  readonly period: string;
}

export interface VolatilityIndexRecord extends Common {
  readonly data_type: "volatility_index";
  readonly index_value: Decimal;
  readonly underlying_asset: string;
  /** Empty string for a perpetual index such as DVOL. */
  readonly maturity_date: string;
}

/**
 * One level of one book change, or of the book as it stood after a (re)sync, in the shape of
 * Tardis's `incremental_book_L2`: a row per level. After every (re)sync a book emits its whole
 * state as rows with `is_snapshot` (every level of the synced book, one `update_id` and time);
 * every change applied after it follows as rows without, in arrival order, so the book at any
 * instant is the nearest snapshot row set before it with the changes after it applied
 * (src/book/rebuild.ts).
 */
export interface OrderbookDeltaRecord extends Common {
  readonly data_type: "orderbook_delta";
  /**
   * The venue's id of the update: Binance `u` (final update id of the diff, or of the diff that
   * bridged the snapshot), OKX `seqId` (its `ts` where a stream carries none), as
   * `last_update_id` of the orderbook records.
   */
  readonly update_id: number;
  /** A row of the book's whole state after a (re)sync, not a change. */
  readonly is_snapshot: boolean;
  readonly side: BookSide;
  readonly price: Decimal;
  /** The level's new absolute quantity; 0 deletes the level. */
  readonly amount: Decimal;
}

export type GapCause =
  | "reconnect"
  | "sequence_gap"
  | "checksum_mismatch"
  | "ring_overflow"
  | "stale"
  | "resubscribe"
  | "resync"
  /** The engine stopped without a clean stop (crash, kill -9, power loss): from the last record kept before it to the first after the restart. */
  | "engine_down"
  /** Every attempt of a REST poll for this bucket failed (src/venues/connection/bucket-poller.ts): from the bucket's start to its end. */
  | "poll_failed";

/** Data is missing between `start_ts_ms` and `end_ts_ms` for `data_type_affected`. */
export interface GapRecord extends Common {
  readonly data_type: "gap";
  readonly data_type_affected: DataType;
  readonly start_ts_ms: number;
  readonly end_ts_ms: number;
  readonly cause: GapCause;
  /**
   * Records a recovery after the gap (a REST backfill) emitted for it. A gap is first written
   * with 0; a recovery writes it again with its count, which replaces the first row (same
   * sort key, later insert: src/venues/recovered-gaps.ts).
   */
  readonly recovered_records: number;
  /** When that recovery finished, ms UTC; 0 while none has reported. */
  readonly recovered_at_ms: number;
}

export type MarketRecord =
  | TradeRecord
  | OrderbookRecord
  | FundingRateRecord
  | OpenInterestRecord
  | LiquidationRecord
  | LsrTopPositionRecord
  | LsrAllAccountRecord
  | VolatilityIndexRecord
  | OrderbookDeltaRecord
  | GapRecord;

/** The record type for a given `data_type`. */
export type RecordOf<T extends RecordType> = Extract<MarketRecord, { data_type: T }>;

export function isDataType(value: unknown): value is DataType {
  return typeof value === "string" && (DATA_TYPES as readonly string[]).includes(value);
}

export function isRecordType(value: unknown): value is RecordType {
  return typeof value === "string" && (RECORD_TYPES as readonly string[]).includes(value);
}
