import type { RecordType } from "../records/types.ts";
import type { StorageRecord } from "../codec/storage-record.ts";

/** ClickHouse table per record type (MarketPrism names, SPEC section 3). */
export const TABLES: Readonly<Record<RecordType, string>> = {
  trade: "trades",
  orderbook: "orderbooks",
  funding_rate: "funding_rates",
  open_interest: "open_interests",
  liquidation: "liquidations",
  lsr_top_position: "lsr_top_positions",
  lsr_all_account: "lsr_all_accounts",
  volatility_index: "volatility_indices",
  orderbook_delta: "orderbook_deltas",
  gap: "gaps",
};

export interface InsertResult {
  readonly rows: number;
  readonly latency_ms: number;
}

/** Where batch workers put records: ClickHouse, or anything that commits a batch atomically. */
export interface StorageSink {
  /**
   * Inserts `records` (all of `type`) as one columnar batch and resolves once it is committed.
   * Inserting the same records with the same `dedup_token` again stores them once. Records are
   * validated first unless `validated` says each already passed `validateRecord`.
   */
  insert(type: RecordType, records: readonly StorageRecord[], dedup_token: string, validated?: boolean): Promise<InsertResult>;
  close(): Promise<void>;
}
