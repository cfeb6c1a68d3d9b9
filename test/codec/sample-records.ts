import type { RawRecord } from "../../src/codec/raw-frame.ts";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import type { MarketRecord, RecordType } from "../../src/records/types.ts";

/** One realistic record of every record type, with exchange-style decimal strings. */
export const SAMPLE_RECORDS: { readonly [T in RecordType]: Extract<MarketRecord, { data_type: T }> } = {
  trade: {
    data_type: "trade",
    exchange: "binance",
    market_type: "spot",
    symbol: "BTC-USDT",
    ts_ms: 1_700_000_000_123,
    recv_ts_ms: 1_700_000_000_131,
    trade_id: "3291508831",
    price: "43251.12000000",
    quantity: "0.00123000",
    side: "sell",
    is_maker: true,
    trade_time: 1_700_000_000_122,
  },
  orderbook: {
    data_type: "orderbook",
    exchange: "okx",
    market_type: "perpetual",
    symbol: "BTC-USDT",
    ts_ms: 1_700_000_000_200,
    recv_ts_ms: 1_700_000_000_210,
    last_update_id: Number.MAX_SAFE_INTEGER,
    bids: [
      ["43250.1", "1.5"],
      ["43250", "0.00000001"],
    ],
    asks: [["43250.2", "12"]],
    best_bid_price: "43250.1",
    best_bid_quantity: "1.5",
    best_ask_price: "43250.2",
    best_ask_quantity: "12",
    bids_count: 2,
    asks_count: 1,
  },
  funding_rate: {
    data_type: "funding_rate",
    exchange: "binance",
    market_type: "perpetual",
    symbol: "ETH-USDT",
    ts_ms: 1_700_000_001_000,
    recv_ts_ms: 1_700_000_001_004,
    funding_rate: "-0.00010000",
    funding_time: 1_700_006_400_000,
    next_funding_time: 1_700_006_400_000,
    mark_price: "2011.41000000",
    index_price: "2012.00612245",
  },
  open_interest: {
    data_type: "open_interest",
    exchange: "okx",
    market_type: "perpetual",
    symbol: "BTC-USDT",
    ts_ms: 1_700_000_002_000,
    recv_ts_ms: 1_700_000_002_050,
    open_interest: "2903421.37",
    open_interest_value: "125563458213.0123456789",
    count: 0,
  },
  liquidation: {
    data_type: "liquidation",
    exchange: "binance",
    market_type: "perpetual",
    symbol: "BTC-USDT",
    ts_ms: 1_700_000_003_000,
    recv_ts_ms: 1_700_000_003_002,
    side: "buy",
    price: "43300.00",
    quantity: "0.010",
    liquidation_time: 1_700_000_002_999,
  },
  lsr_top_position: {
    data_type: "lsr_top_position",
    exchange: "binance",
    market_type: "perpetual",
    symbol: "BTC-USDT",
    ts_ms: 1_700_000_100_000,
    recv_ts_ms: 1_700_000_100_500,
    long_position_ratio: "0.5612",
    short_position_ratio: "0.4388",
    long_short_ratio: "1.2789",
    period: "5m",
  },
  lsr_all_account: {
    data_type: "lsr_all_account",
    exchange: "okx",
    market_type: "perpetual",
    symbol: "ETH-USDT",
    ts_ms: 1_700_000_100_000,
    recv_ts_ms: 1_700_000_100_700,
    long_account_ratio: "0.7012",
    short_account_ratio: "0.2988",
    long_short_ratio: "2.3467",
    period: "1h",
  },
  volatility_index: {
    data_type: "volatility_index",
    exchange: "deribit",
    market_type: "options",
    symbol: "BTC",
    ts_ms: 1_700_000_005_000,
    recv_ts_ms: 1_700_000_005_030,
    index_value: "52.47",
    underlying_asset: "BTC",
    maturity_date: "",
  },
  orderbook_delta: {
    data_type: "orderbook_delta",
    exchange: "binance",
    market_type: "perpetual",
    symbol: "BTC-USDT",
    ts_ms: 1_700_000_006_000,
    recv_ts_ms: 1_700_000_006_011,
    update_id: 3_277_198_451_123,
    is_snapshot: false,
    side: "bid",
    price: "37010.10",
    amount: "0.000",
  },
  gap: {
    data_type: "gap",
    exchange: "okx",
    market_type: "spot",
    symbol: "BTC-USDT",
    ts_ms: 1_700_000_006_000,
    recv_ts_ms: 1_700_000_006_000,
    data_type_affected: "orderbook",
    start_ts_ms: 1_700_000_004_000,
    end_ts_ms: 1_700_000_006_000,
    cause: "checksum_mismatch",
    recovered_records: 12,
    recovered_at_ms: 1_700_000_009_000,
  },
};

export const ALL_SAMPLES: readonly MarketRecord[] = Object.values(SAMPLE_RECORDS);

const codec = new RecordCodec();

/** Ring-encoded copies of `records`, back to back in one buffer (after 7 other bytes) as a ring holds them. */
export function ringBytes(records: readonly MarketRecord[]): RawRecord[] {
  const encoded = records.map((r) => codec.encodeRecord(r));
  const data = new Uint8Array(7 + encoded.reduce((n, e) => n + e.length, 0));
  const out: RawRecord[] = [];
  let p = 7;
  for (const e of encoded) {
    data.set(e, p);
    out.push({ data, start: p, end: p + e.length });
    p += e.length;
  }
  return out;
}
