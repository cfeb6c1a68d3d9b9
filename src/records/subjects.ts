import type { MarketRecord, RecordType } from "./types.ts";

/**
 * The one subject builder (SPEC section 4): `{data_type}.{exchange}.{market_type}.{symbol}`.
 * Gaps go to `gap.{exchange}.{market_type}.{symbol}`. NATS tokens cannot contain `.`, `*`, `>`
 * or whitespace; symbols never do (`BTC-USDT`, `BTC`), so they are used verbatim.
 */
export function subjectFor(record: Pick<MarketRecord, "data_type" | "exchange" | "market_type" | "symbol">): string {
  return `${record.data_type}.${record.exchange}.${record.market_type}.${record.symbol}`;
}

/** The wildcard subject binding every record of one type, e.g. `trade.>`. */
export function subjectFilterFor(type: RecordType): string {
  return `${type}.>`;
}
