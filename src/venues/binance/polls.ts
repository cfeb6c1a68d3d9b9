import type { DataType, MarketRecord } from "../../records/types.ts";
import { multiplyDecimals } from "../decimal-text.ts";
import { countError, isDecimal, isObject, queryParam, toUint, type NormalizerStats } from "../normalizer-stats.ts";
import type { Instrument, RawFrame } from "../types.ts";
import { openInterestHistRow, ratioRow } from "./wire.ts";

/**
 * Binance USDⓈ-M REST polls -> records: open interest and the two long/short ratios (the
 * normalizer routes REST bodies here by path; depth snapshots and premiumIndex stay with it,
 * as they feed its books and mark prices).
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Open-Interest
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Top-Trader-Long-Short-Ratio
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Long-Short-Ratio
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Open-Interest-Statistics
 * (`openInterestHist`: the history that fills an open-interest bucket a poll missed).
 */
export class BinancePolls {
  constructor(
    /** The kept instrument for a native id, when this normalizer collects `type`. */
    private readonly instrument: (native: unknown, type: DataType) => Instrument | undefined,
    /** Latest mark price per native symbol (the normalizer's, updated by markPrice pushes and polls). */
    private readonly markPrices: ReadonlyMap<string, string>,
    private readonly stats: NormalizerStats,
    private readonly emit: (r: MarketRecord) => void,
  ) {}

  /**
   * `/fapi/v1/openInterest` is in base-asset units; its quote value is oi × the latest mark
   * price (exact decimal product). Without a mark price yet there is no honest value, so the
   * poll is counted as ignored rather than stored with a made-up one; the connection layer
   * subscribes `@markPrice@1s` with open_interest, so this only affects the first second.
   */
  openInterest(body: unknown, recv: number): void {
    if (!isObject(body) || typeof body.symbol !== "string" || !isDecimal(body.openInterest))
      return countError(this.stats, "openInterest");
    const time = toUint(body.time);
    const inst = this.instrument(body.symbol, "open_interest");
    if (time === undefined) return countError(this.stats, "openInterest");
    if (inst === undefined) {
      this.stats.ignored++;
      return;
    }
    const mark = this.markPrices.get(body.symbol);
    if (mark === undefined) {
      this.stats.ignored++;
      return;
    }
    // A product past Decimal(38,18) (e.g. 10 + 10 fraction digits) is no value storage can take.
    const value = multiplyDecimals(body.openInterest, mark);
    if (value === undefined || !isDecimal(value)) return countError(this.stats, "openInterest");
    this.emit({
      data_type: "open_interest",
      exchange: "binance",
      market_type: inst.market_type,
      symbol: inst.symbol,
      ts_ms: time,
      recv_ts_ms: recv,
      open_interest: body.openInterest,
      open_interest_value: value,
      // One instrument per record: Spectra never sums open interest across instruments.
      count: 1,
    });
  }

  /**
   * `/futures/data/openInterestHist` rows: open interest at each period boundary, in base-asset
   * units and in quote value as Binance computed it, one record per row with the row's
   * timestamp. A row fills a bucket the live poll missed (bucket-poller.ts), so no live record
   * shares its timestamp.
   */
  openInterestHist(body: unknown, recv: number): void {
    if (!Array.isArray(body)) return countError(this.stats, "openInterestHist");
    if (body.length === 0) this.stats.ignored++;
    for (const item of body) {
      const row = openInterestHistRow(item);
      if (row === undefined) {
        countError(this.stats, "openInterestHist");
        continue;
      }
      const inst = this.instrument(row.symbol, "open_interest");
      if (inst === undefined) {
        this.stats.ignored++;
        continue;
      }
      this.emit({
        data_type: "open_interest",
        exchange: "binance",
        market_type: inst.market_type,
        symbol: inst.symbol,
        ts_ms: row.timestamp,
        recv_ts_ms: recv,
        open_interest: row.sumOpenInterest,
        open_interest_value: row.sumOpenInterestValue,
        count: 1,
      });
    }
  }

  /**
   * USDⓈ-M ratio rows name both shares `longAccount`/`shortAccount`, also on the position
   * endpoint (where they are position shares). The period is the request's `period` parameter.
   */
  ratios(frame: RawFrame, body: unknown, type: "lsr_top_position" | "lsr_all_account"): void {
    const period = queryParam(frame.url, "period");
    if (!Array.isArray(body) || period === undefined || period === "") return countError(this.stats, type);
    if (body.length === 0) this.stats.ignored++;
    for (const item of body) {
      const row = ratioRow(item);
      if (row === undefined) {
        countError(this.stats, type);
        continue;
      }
      const inst = this.instrument(row.symbol, type);
      if (inst === undefined) {
        this.stats.ignored++;
        continue;
      }
      const common = {
        exchange: "binance",
        market_type: inst.market_type,
        symbol: inst.symbol,
        ts_ms: row.timestamp,
        recv_ts_ms: frame.recv_ts_ms,
        long_short_ratio: row.longShortRatio,
        period,
      } as const;
      if (type === "lsr_top_position")
        this.emit({ data_type: type, ...common, long_position_ratio: row.longAccount, short_position_ratio: row.shortAccount });
      else this.emit({ data_type: type, ...common, long_account_ratio: row.longAccount, short_account_ratio: row.shortAccount });
    }
  }
}
