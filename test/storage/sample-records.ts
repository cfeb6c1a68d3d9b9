import type { MarketRecord, RecordOf, RecordType } from "../../src/records/types.ts";

/**
 * One record per type with the values that broke MarketPrism: decimals beyond Decimal64(8)
 * (15 integer digits, 9+ fractional digits), 1e-18 rates, same-millisecond times, is_maker,
 * an empty maturity_date.
 */
/**
 * Recent times: the hot tables' 3-day TTL drops older parts on merge, so a fixed 2023 time
 * would vanish from hot (on purpose). Whole ms, ending in 123 to catch any rounding.
 */
const T = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000 + 123;
const BUCKET = T - 123 + 300_000;

export const SAMPLES: { readonly [K in RecordType]: RecordOf<K> } = {
  trade: {
    data_type: "trade", exchange: "binance", market_type: "spot", symbol: "BTC-USDT",
    ts_ms: T, recv_ts_ms: T + 7, trade_id: "3318372093", price: "123456789012345.123456789",
    quantity: "0.00000001", side: "sell", is_maker: true, trade_time: T - 1,
  },
  orderbook: {
    data_type: "orderbook", exchange: "okx", market_type: "perpetual", symbol: "BTC-USDT",
    ts_ms: T + 1, recv_ts_ms: T + 9, last_update_id: 67_236_410_512_345,
    bids: [["37000.1", "1.5"], ["36999.9", "0.00000001"]], asks: [["37000.2", "12345678901.123456789"]],
    best_bid_price: "37000.1", best_bid_quantity: "1.5", best_ask_price: "37000.2",
    best_ask_quantity: "12345678901.123456789", bids_count: 2, asks_count: 1,
  },
  funding_rate: {
    data_type: "funding_rate", exchange: "binance", market_type: "perpetual", symbol: "ETH-USDT",
    ts_ms: T + 2, recv_ts_ms: T + 10, funding_rate: "-0.000000000000000001", funding_time: T - 123 + 28_800_000,
    next_funding_time: T - 123 + 57_600_000, mark_price: "2034.56000000", index_price: "2034.12345678",
  },
  open_interest: {
    data_type: "open_interest", exchange: "okx", market_type: "perpetual", symbol: "BTC-USDT",
    ts_ms: T + 3, recv_ts_ms: T + 11, open_interest: "2798357.27", open_interest_value: "103456789012.123456789012",
    count: 0,
  },
  liquidation: {
    data_type: "liquidation", exchange: "binance", market_type: "perpetual", symbol: "BTC-USDT",
    ts_ms: T + 4, recv_ts_ms: T + 12, side: "buy", price: "36500.10", quantity: "0.014", liquidation_time: T + 4,
  },
  lsr_top_position: {
    data_type: "lsr_top_position", exchange: "binance", market_type: "perpetual", symbol: "BTC-USDT",
    ts_ms: BUCKET, recv_ts_ms: T + 13, long_position_ratio: "0.5823", short_position_ratio: "0.4177",
    long_short_ratio: "1.3941", period: "5m",
  },
  lsr_all_account: {
    data_type: "lsr_all_account", exchange: "okx", market_type: "perpetual", symbol: "ETH-USDT",
    ts_ms: BUCKET, recv_ts_ms: T + 14, long_account_ratio: "0.61", short_account_ratio: "0.39",
    long_short_ratio: "1.56410256410256", period: "5m",
  },
  volatility_index: {
    data_type: "volatility_index", exchange: "deribit", market_type: "options", symbol: "BTC",
    ts_ms: T + 5, recv_ts_ms: T + 15, index_value: "52.67", underlying_asset: "BTC", maturity_date: "",
  },
  orderbook_delta: {
    data_type: "orderbook_delta", exchange: "okx", market_type: "perpetual", symbol: "BTC-USDT",
    ts_ms: T + 7, recv_ts_ms: T + 17, update_id: 9_007_199_254_740_991, is_snapshot: true, side: "ask",
    price: "123456789012345.123456789", amount: "0.000000000000000001",
  },
  gap: {
    data_type: "gap", exchange: "binance", market_type: "spot", symbol: "ETH-USDT",
    ts_ms: T + 6, recv_ts_ms: T + 16, data_type_affected: "orderbook", start_ts_ms: T - 5000, end_ts_ms: T + 6,
    cause: "sequence_gap", recovered_records: 4, recovered_at_ms: T + 40,
  },
};

/** `n` distinct trades (trade ids from `first_id`), several sharing each millisecond. */
export function trades(n: number, first_id = 1): MarketRecord[] {
  const out: MarketRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ ...SAMPLES.trade, trade_id: String(first_id + i), ts_ms: T + Math.floor(i / 3), price: `${37000 + (i % 100)}.${i % 10}1` });
  }
  return out;
}
