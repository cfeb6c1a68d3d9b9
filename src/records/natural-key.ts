import type { MarketRecord } from "./types.ts";

/**
 * A record's natural key (SPEC section 2): what deduplication uses everywhere, in NATS
 * `Nats-Msg-Id`s and ClickHouse insert tokens. It never contains a local time, so a record
 * re-fetched or re-delivered gets the same key (MarketPrism failure 7).
 */
export function naturalKey(r: MarketRecord): string {
  const venue = `${r.exchange}|${r.market_type}|${r.symbol}`;
  switch (r.data_type) {
    case "trade":
      return `trade|${venue}|${r.trade_id}`;
    case "orderbook":
      return `orderbook|${venue}|${r.last_update_id}`;
    case "funding_rate":
      return `funding_rate|${venue}|${r.funding_time}|${r.ts_ms}`;
    case "open_interest":
      return `open_interest|${venue}|${r.ts_ms}`;
    case "liquidation":
      return `liquidation|${venue}|${r.liquidation_time}|${r.side}|${r.price}|${r.quantity}`;
    case "lsr_top_position":
      return `lsr_top_position|${venue}|${r.period}|${r.ts_ms}`;
    case "lsr_all_account":
      return `lsr_all_account|${venue}|${r.period}|${r.ts_ms}`;
    case "volatility_index":
      return `volatility_index|${venue}|${r.ts_ms}`;
    case "orderbook_delta":
      // Levels of one update differ by side and price; a snapshot row set shares its update id
      // with the diff that bridged it, and is told apart by is_snapshot.
      return `orderbook_delta|${venue}|${r.update_id}|${r.is_snapshot ? "s" : "d"}|${r.side}|${r.price}`;
    case "gap": {
      // A gap written again with what its recovery brought back is a new message (NATS would
      // drop it as a duplicate of the first otherwise); the count, not the local time, tells it apart.
      const key = `gap|${venue}|${r.data_type_affected}|${r.cause}|${r.start_ts_ms}|${r.end_ts_ms}`;
      return r.recovered_at_ms === 0 ? key : `${key}|recovered|${r.recovered_records}`;
    }
  }
}
