import type { MarketRecord } from "../../records/types.ts";
import { sharesFromRatio } from "../decimal-text.ts";
import { countError, isDecimal, isObject, isPositiveDecimal, queryParam, toUint, type NormalizerStats } from "../normalizer-stats.ts";
import type { SymbolScope } from "../symbol-scope.ts";
import type { ElementOutcome } from "./funding-join.ts";

/**
 * OKX mappers for trades, open interest, liquidations and rubik ratios (one record per data
 * element; books and funding have their own files because they keep state).
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-open-interest-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel
 * https://www.okx.com/docs-v5/en/#trading-statistics-rest-api
 */
export class OkxRecords {
  constructor(
    private readonly scope: SymbolScope,
    private readonly stats: NormalizerStats,
    private readonly emit: (r: MarketRecord) => void,
  ) {}

  /** `trades`: `{instId, tradeId, px, sz, side (taker), ts}`; every element is its own trade. */
  trades(data: unknown[], recv: number): void {
    for (let i = 0; i < data.length; i++) {
      const d = data[i];
      if (
        !isObject(d) ||
        typeof d.instId !== "string" ||
        typeof d.tradeId !== "string" ||
        d.tradeId === "" ||
        !isPositiveDecimal(d.px) ||
        !isPositiveDecimal(d.sz) ||
        (d.side !== "buy" && d.side !== "sell")
      ) {
        countError(this.stats, "trades");
        continue;
      }
      const ts = toUint(d.ts);
      if (ts === undefined) {
        countError(this.stats, "trades");
        continue;
      }
      const inst = this.scope.get(d.instId);
      if (inst === undefined) {
        this.stats.ignored++;
        continue;
      }
      this.emit({
        data_type: "trade",
        exchange: "okx",
        market_type: inst.market_type,
        symbol: inst.symbol,
        ts_ms: ts,
        recv_ts_ms: recv,
        trade_id: d.tradeId,
        price: d.px,
        quantity: d.sz,
        side: d.side,
        // The taker sold exactly when the buyer was the resting (maker) order.
        is_maker: d.side === "sell",
        trade_time: ts,
      });
    }
  }

  /**
   * `open-interest` push or `/public/open-interest` row: `{instId, oi, oiCcy, oiUsd, ts}`.
   * open_interest is `oi` (contracts). OKX gives the value in USD only (`oiUsd`), which is the
   * quote currency of inverse swaps (BTC-USD-SWAP) and stands in for USDT/USDC on linear ones.
   */
  openInterest(d: unknown, recv: number): ElementOutcome {
    if (!isObject(d) || typeof d.instId !== "string" || !isDecimal(d.oi) || !isDecimal(d.oiUsd)) return "bad";
    const ts = toUint(d.ts);
    if (ts === undefined) return "bad";
    const inst = this.scope.get(d.instId);
    if (inst === undefined) return "ignored";
    this.emit({
      data_type: "open_interest",
      exchange: "okx",
      market_type: inst.market_type,
      symbol: inst.symbol,
      ts_ms: ts,
      recv_ts_ms: recv,
      open_interest: d.oi,
      open_interest_value: d.oiUsd,
      // One instrument per record: Spectra never sums open interest across instruments.
      count: 1,
    });
    return "emitted";
  }

  /**
   * `liquidation-orders`: `[{instId, instType, details:[{side, bkPx, sz, ts, …}]}]`, one record
   * per detail. price is the bankruptcy price `bkPx` (the only price OKX publishes), quantity
   * `sz` in contracts; `side` is the liquidation order's side.
   */
  liquidations(data: unknown[], recv: number): void {
    for (const d of data) {
      if (!isObject(d) || typeof d.instId !== "string" || !Array.isArray(d.details)) {
        countError(this.stats, "liquidation-orders");
        continue;
      }
      const inst = this.scope.get(d.instId);
      if (inst === undefined || d.details.length === 0) {
        this.stats.ignored++;
        continue;
      }
      for (const x of d.details) {
        const ts = isObject(x) ? toUint(x.ts) : undefined;
        if (!isObject(x) || ts === undefined || (x.side !== "buy" && x.side !== "sell") || !isPositiveDecimal(x.bkPx) || !isPositiveDecimal(x.sz)) {
          countError(this.stats, "liquidation-orders");
          continue;
        }
        this.emit({
          data_type: "liquidation",
          exchange: "okx",
          market_type: inst.market_type,
          symbol: inst.symbol,
          ts_ms: ts,
          recv_ts_ms: recv,
          side: x.side,
          price: x.bkPx,
          quantity: x.sz,
          liquidation_time: ts,
        });
      }
    }
  }

  /**
   * Rubik ratio rows `[ts, ratio]`. OKX publishes only the ratio, so the long and short shares
   * are derived as r/(1+r) and 1/(1+r) in exact decimal arithmetic (decimal-text.ts). The
   * period is the request's (`5m` when absent, OKX's default), written like config periods.
   */
  ratios(url: string, type: "lsr_top_position" | "lsr_all_account", data: unknown[], recv: number): void {
    const native = queryParam(url, "instId");
    const inst = native === undefined ? undefined : this.scope.get(native);
    if (inst === undefined) {
      this.stats.ignored++;
      return;
    }
    const period = (queryParam(url, "period") ?? "5m").toLowerCase();
    // `period=` names no bucket: the rows cannot be stored under one.
    if (period === "") return countError(this.stats, type);
    for (const row of data) {
      const ts = Array.isArray(row) ? toUint(row[0]) : undefined;
      const ratio: unknown = Array.isArray(row) ? row[1] : undefined;
      const shares = isDecimal(ratio) ? sharesFromRatio(ratio) : undefined;
      if (ts === undefined || !isDecimal(ratio) || shares === undefined) {
        countError(this.stats, type);
        continue;
      }
      const common = {
        exchange: "okx",
        market_type: inst.market_type,
        symbol: inst.symbol,
        ts_ms: ts,
        recv_ts_ms: recv,
        long_short_ratio: ratio,
        period,
      } as const;
      if (type === "lsr_top_position")
        this.emit({ data_type: type, ...common, long_position_ratio: shares.long, short_position_ratio: shares.short });
      else this.emit({ data_type: type, ...common, long_account_ratio: shares.long, short_account_ratio: shares.short });
    }
  }
}
