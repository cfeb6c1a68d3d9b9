import { LEVEL_VALUES, type RawLevel, type RawLevels } from "../book/price-book.ts";
import { parseBookFrame } from "./book-frame-parser.ts";
import { DECIMAL_38_18 } from "../records/decimal.ts";
import type { MarketRecord } from "../records/types.ts";

/**
 * Per-venue normalization counts (SPEC: bad input is counted, never thrown). Every frame moves
 * at least one of `records`, `ignored`, `absorbed`, `unrecognized` and `errors`; a frame that
 * carries several elements (trades, rows, a `!markPrice@arr` list) counts each element.
 */
export interface NormalizerStats {
  frames: number;
  /** Recognized frames that carry no record (acks, pongs, tickers, klines, stale diffs). */
  ignored: number;
  /**
   * Recognized book frames that went into a book without a record of their own: diffs buffered
   * for a snapshot or applied between cadence records, installed snapshots.
   */
  absorbed: number;
  /** Frames whose shape or channel is not recognized. */
  unrecognized: number;
  /** Frames that were recognized but malformed (missing fields, wrong types). */
  errors: number;
  /** Records emitted per data type (gap included). */
  records: Record<string, number>;
  /** Unrecognized + errors per channel, e.g. `depth`, `aggTrade`, `books`, `unknown`. */
  bad_by_channel: Record<string, number>;
}

/**
 * Counting shared by every venue normalizer: one object per normalizer, mutated in place so
 * `stats` can be read at any time without copying.
 */
export function emptyStats(): NormalizerStats {
  return { frames: 0, ignored: 0, absorbed: 0, unrecognized: 0, errors: 0, records: {}, bad_by_channel: {} };
}

export function countUnrecognized(stats: NormalizerStats, channel: string): void {
  stats.unrecognized++;
  stats.bad_by_channel[channel] = (stats.bad_by_channel[channel] ?? 0) + 1;
}

export function countError(stats: NormalizerStats, channel: string): void {
  stats.errors++;
  stats.bad_by_channel[channel] = (stats.bad_by_channel[channel] ?? 0) + 1;
}

/** Wraps the caller's emit so every record is counted by data type. */
export function countingEmit(stats: NormalizerStats, emit: (r: MarketRecord) => void): (r: MarketRecord) => void {
  return (r) => {
    stats.records[r.data_type] = (stats.records[r.data_type] ?? 0) + 1;
    emit(r);
  };
}

/** Parses a frame's text; `undefined` for malformed JSON (the one try/catch of the path). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * `parseJson` for a frame that carries book levels: the book-frame parser first (level lists
 * come back as `[price, qty]` pairs), `JSON.parse` for whatever it leaves (book-frame-parser.ts).
 */
export function parseBookJson(text: string): unknown {
  return parseBookFrame(text) ?? parseJson(text);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A decimal string that fits the Decimal(38,18) columns (src/records/decimal.ts): bad input is counted here, not dead-lettered by storage later. */
export function isDecimal(v: unknown): v is string {
  return typeof v === "string" && DECIMAL_38_18.test(v);
}

/** A strictly positive decimal string (prices). */
export function isPositiveDecimal(v: unknown): v is string {
  return isDecimal(v) && Number(v) > 0;
}

/** A JSON number that is an integer >= 0 a double holds exactly (Binance ids and times). */
export function isUint(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/**
 * An integer >= 0 (times, ids) that arrives as a JSON number or as a string of digits (OKX
 * sends times as text); negative or fractional values are not times.
 */
export function toUint(v: unknown): number | undefined {
  if (typeof v === "number") return isUint(v) ? v : undefined;
  if (typeof v === "string" && /^\d{1,16}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/**
 * Levels `[price, qty, ...]` of strings. Structure only: the numbers are checked (price > 0,
 * qty >= 0) where they are parsed anyway, as the book applies them (BookSide.apply), which
 * saved a second parse of every level (~10 % of Binance USDⓈ-M normalize time). A list from
 * the book frame parser (it carries LEVEL_VALUES) is one by construction.
 */
export function isLevelList(v: unknown): v is RawLevel[] {
  if (!Array.isArray(v)) return false;
  if ((v as RawLevels)[LEVEL_VALUES] !== undefined) return true;
  for (let i = 0; i < v.length; i++) {
    const l: unknown = v[i];
    if (!Array.isArray(l) || l.length < 2 || typeof l[0] !== "string" || typeof l[1] !== "string") return false;
  }
  return true;
}

/** The string at `key`, or "" when it is absent or not a string. */
export function stringField(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  return typeof v === "string" ? v : "";
}

/** The query parameter `name` of a URL (REST frames are routed by path and query). */
export function queryParam(url: string, name: string): string | undefined {
  const q = url.indexOf("?");
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined;
}

/** A URL's path without the query. */
export function urlPath(url: string): string {
  const q = url.indexOf("?");
  const noQuery = q < 0 ? url : url.slice(0, q);
  const scheme = noQuery.indexOf("://");
  if (scheme < 0) return noQuery;
  const slash = noQuery.indexOf("/", scheme + 3);
  return slash < 0 ? "/" : noQuery.slice(slash);
}
