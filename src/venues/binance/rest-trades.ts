import type { MarketRecord } from "../../records/types.ts";
import { countError, isObject, isPositiveDecimal, isUint, type NormalizerStats } from "../normalizer-stats.ts";
import type { Instrument, RawFrame } from "../types.ts";

/**
 * Binance REST trade pages -> trade records, for the backfill of a hole in a trade stream
 * (src/venues/trade-gaps.ts; the normalizer routes the bodies here by path):
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#old-trade-lookup
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Compressed-Aggregate-Trades-List
 */

/**
 * One row of a REST trade page, in the stream's terms: spot `GET /api/v3/historicalTrades`
 * (`{id, price, qty, time, isBuyerMaker}`, the ids of the `<s>@trade` stream) or USDⓈ-M
 * `GET /fapi/v1/aggTrades` (`{a, p, q, T, m}`, the ids of the `<s>@aggTrade` stream).
 */
interface RestTrade {
  readonly id: number;
  readonly price: string;
  readonly qty: string;
  readonly time: number;
  readonly buyer_maker: boolean;
}

function restTradeOf(d: unknown, kind: "historicalTrades" | "aggTrades"): RestTrade | undefined {
  if (!isObject(d)) return undefined;
  const [id, price, qty, time, m] = kind === "aggTrades" ? [d.a, d.p, d.q, d.T, d.m] : [d.id, d.price, d.qty, d.time, d.isBuyerMaker];
  if (!isUint(id) || !isPositiveDecimal(price) || !isPositiveDecimal(qty) || !isUint(time) || typeof m !== "boolean") return undefined;
  return { id, price, qty, time, buyer_maker: m };
}

/**
 * A page of past trades: the same records as the stream's, for `inst` (the request's `symbol`,
 * undefined when this normalizer does not keep it). The rows carry no event time, so `ts_ms` is
 * the trade time; the backfill keeps only trades the stream did not deliver
 * (src/venues/trade-gaps.ts), so no trade is stored under two timestamps.
 */
export function restTrades(
  frame: RawFrame,
  body: unknown,
  kind: "historicalTrades" | "aggTrades",
  inst: Instrument | undefined,
  stats: NormalizerStats,
  emit: (r: MarketRecord) => void,
): void {
  if (!Array.isArray(body)) return countError(stats, kind);
  if (inst === undefined) {
    stats.ignored++;
    return;
  }
  for (const row of body) {
    const t = restTradeOf(row, kind);
    if (t === undefined) {
      countError(stats, kind);
      continue;
    }
    emit({
      data_type: "trade",
      exchange: "binance",
      market_type: inst.market_type,
      symbol: inst.symbol,
      ts_ms: t.time,
      recv_ts_ms: frame.recv_ts_ms,
      trade_id: String(t.id),
      price: t.price,
      quantity: t.qty,
      side: t.buyer_maker ? "sell" : "buy",
      is_maker: t.buyer_maker,
      trade_time: t.time,
    });
  }
}
