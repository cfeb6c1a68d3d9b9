import type { RawLevel } from "../../book/price-book.ts";
import { isDecimal, isLevelList, isObject, isPositiveDecimal, isUint, toUint } from "../normalizer-stats.ts";

/**
 * Binance raw wire shapes (fixtures README sections 4, 5 and 9) and the cheap guards that
 * narrow `unknown` into them. A guard checks exactly the fields the mapper reads.
 */

export interface WireDepthUpdate {
  readonly E: number;
  readonly s: string;
  readonly U: number;
  readonly u: number;
  readonly pu?: number;
  readonly b: RawLevel[];
  readonly a: RawLevel[];
}

export function isDepthUpdate(d: Record<string, unknown>): d is Record<string, unknown> & WireDepthUpdate {
  return (
    isUint(d.E) &&
    typeof d.s === "string" &&
    isUint(d.U) &&
    isUint(d.u) &&
    (d.pu === undefined || isUint(d.pu)) &&
    isLevelList(d.b) &&
    isLevelList(d.a)
  );
}

/**
 * Ids and times are integers >= 0 that a double holds exactly: they become `trade_id` text,
 * `last_update_id` (UInt64) and DateTime64 columns, where 1.5, -1 or 1e21 have no meaning.
 */

/** `aggTrade` (id `a`) or `trade` (id `t`). */
export interface WireTrade {
  readonly E: number;
  readonly s: string;
  readonly p: string;
  readonly q: string;
  readonly T: number;
  readonly m: boolean;
}

export function isTrade(d: Record<string, unknown>, idKey: "a" | "t"): d is Record<string, unknown> & WireTrade {
  return (
    isUint(d.E) &&
    typeof d.s === "string" &&
    isUint(d[idKey]) &&
    isPositiveDecimal(d.p) &&
    isPositiveDecimal(d.q) &&
    isUint(d.T) &&
    typeof d.m === "boolean"
  );
}

/** `markPriceUpdate` (WS) fields, also produced from a `premiumIndex` REST object. */
export interface MarkPrice {
  readonly symbol: string;
  readonly mark_price: string;
  readonly index_price: string;
  readonly funding_rate: string;
  readonly next_funding_time: number;
  readonly ts_ms: number;
}

export function markPriceFromWs(d: Record<string, unknown>): MarkPrice | undefined {
  const T = toUint(d.T);
  const E = toUint(d.E);
  if (typeof d.s !== "string" || !isPositiveDecimal(d.p) || !isPositiveDecimal(d.i) || !isDecimal(d.r)) return undefined;
  if (T === undefined || E === undefined) return undefined;
  return { symbol: d.s, mark_price: d.p, index_price: d.i, funding_rate: d.r, next_funding_time: T, ts_ms: E };
}

export function markPriceFromRest(d: unknown): MarkPrice | undefined {
  if (!isObject(d)) return undefined;
  const T = toUint(d.nextFundingTime);
  const time = toUint(d.time);
  if (typeof d.symbol !== "string" || !isPositiveDecimal(d.markPrice) || !isPositiveDecimal(d.indexPrice)) return undefined;
  if (!isDecimal(d.lastFundingRate) || T === undefined || time === undefined) return undefined;
  return {
    symbol: d.symbol,
    mark_price: d.markPrice,
    index_price: d.indexPrice,
    funding_rate: d.lastFundingRate,
    next_funding_time: T,
    ts_ms: time,
  };
}

/** The `o` object of a `forceOrder` event. */
export interface WireForceOrder {
  readonly s: string;
  readonly S: "BUY" | "SELL";
  readonly ap: string;
  readonly z: string;
  readonly T: number;
}

export function forceOrderOf(d: Record<string, unknown>): WireForceOrder | undefined {
  const o = d.o;
  if (!isObject(o)) return undefined;
  if (typeof o.s !== "string" || (o.S !== "BUY" && o.S !== "SELL") || !isUint(o.T)) return undefined;
  if (!isPositiveDecimal(o.ap) || !isPositiveDecimal(o.z)) return undefined;
  return { s: o.s, S: o.S, ap: o.ap, z: o.z, T: o.T };
}

/** One row of `topLongShortPositionRatio` / `globalLongShortAccountRatio`. */
export interface WireRatioRow {
  readonly symbol: string;
  readonly longShortRatio: string;
  readonly longAccount: string;
  readonly shortAccount: string;
  readonly timestamp: number;
}

export function ratioRow(d: unknown): WireRatioRow | undefined {
  if (!isObject(d)) return undefined;
  // `timestamp` is a string in the USDⓈ-M docs and an int on coin-M: accept both.
  const ts = toUint(d.timestamp);
  if (typeof d.symbol !== "string" || ts === undefined) return undefined;
  if (!isDecimal(d.longShortRatio) || !isDecimal(d.longAccount) || !isDecimal(d.shortAccount)) return undefined;
  return {
    symbol: d.symbol,
    longShortRatio: d.longShortRatio,
    longAccount: d.longAccount,
    shortAccount: d.shortAccount,
    timestamp: ts,
  };
}

/** One row of `openInterestHist` (Open Interest Statistics). */
export interface WireOpenInterestHistRow {
  readonly symbol: string;
  readonly sumOpenInterest: string;
  readonly sumOpenInterestValue: string;
  readonly timestamp: number;
}

export function openInterestHistRow(d: unknown): WireOpenInterestHistRow | undefined {
  if (!isObject(d)) return undefined;
  const ts = toUint(d.timestamp);
  if (typeof d.symbol !== "string" || ts === undefined) return undefined;
  if (!isDecimal(d.sumOpenInterest) || !isDecimal(d.sumOpenInterestValue)) return undefined;
  return { symbol: d.symbol, sumOpenInterest: d.sumOpenInterest, sumOpenInterestValue: d.sumOpenInterestValue, timestamp: ts };
}
