import type { Level, MarketRecord, OrderbookRecord } from "../records/types.ts";
import type { LevelsText } from "./levels-text.ts";

/**
 * An order book as the storage path reads it from a frame: its level lists either still in the
 * frame's bytes (`LevelsText`, book-frame-reader.ts), which the columnar batch copies into the
 * insert document as they are, or as level arrays (the generic decoder, JSON messages, rings).
 */
export interface StorageOrderbookRecord extends Omit<OrderbookRecord, "bids" | "asks"> {
  readonly bids: readonly Level[] | LevelsText;
  readonly asks: readonly Level[] | LevelsText;
}

/** A record on its way into ClickHouse: any market record, order books with levels in either form. */
export type StorageRecord = Exclude<MarketRecord, OrderbookRecord> | StorageOrderbookRecord;
