import { LEVEL_VALUES, levelValue } from "../../../src/book/price-book.ts";
import type { GapCause, MarketRecord } from "../../../src/records/types.ts";
import { isDataType } from "../../../src/records/types.ts";
import { validateRecord } from "../../../src/storage/validate-record.ts";
import { parseBookFrame } from "../../../src/venues/book-frame-parser.ts";
import type { InstrumentMap } from "../../../src/venues/types.ts";

/**
 * What the fuzz run asserts about each emitted record and each parse of the book frame parser.
 * Every check returns a problem description or undefined.
 */

const GAP_CAUSES: ReadonlySet<GapCause> = new Set(["reconnect", "sequence_gap", "checksum_mismatch", "ring_overflow", "stale", "resubscribe", "resync"]);

/**
 * A record is well-formed when ClickHouse takes every column as it is (`validateRecord`: decimals
 * fit Decimal(38,18), times are integers >= 0, …), it names one of the venue's instruments,
 * and an orderbook record is a sorted top N whose best levels and counts agree with its lists.
 */
export function recordProblem(r: MarketRecord, exchange: string, instruments: InstrumentMap, depth: number): string | undefined {
  const stored = validateRecord(r.data_type, r);
  if (stored !== null) return stored;
  if (r.exchange !== exchange) return `exchange ${r.exchange}`;
  let known = false;
  for (const i of instruments.values()) if (i.symbol === r.symbol && i.market_type === r.market_type) known = true;
  if (!known) return `symbol ${r.symbol} (${r.market_type}) is no instrument of the venue`;
  switch (r.data_type) {
    case "orderbook": {
      if (r.bids.length > depth || r.asks.length > depth) return `more than ${depth} levels`;
      if (r.bids_count !== r.bids.length || r.asks_count !== r.asks.length) return "counts differ from the lists";
      for (let i = 1; i < r.bids.length; i++) if (!(Number(r.bids[i - 1]?.[0]) > Number(r.bids[i]?.[0]))) return "bids not descending";
      for (let i = 1; i < r.asks.length; i++) if (!(Number(r.asks[i - 1]?.[0]) < Number(r.asks[i]?.[0]))) return "asks not ascending";
      for (const l of [...r.bids, ...r.asks]) if (!(Number(l[0]) > 0) || !(Number(l[1]) > 0)) return `level ${l[0]}:${l[1]} is not live`;
      if (r.best_bid_price !== (r.bids[0]?.[0] ?? "0") || r.best_bid_quantity !== (r.bids[0]?.[1] ?? "0")) return "best bid is not bids[0]";
      if (r.best_ask_price !== (r.asks[0]?.[0] ?? "0") || r.best_ask_quantity !== (r.asks[0]?.[1] ?? "0")) return "best ask is not asks[0]";
      return undefined;
    }
    case "trade":
    case "liquidation":
      if (r.side !== "buy" && r.side !== "sell") return `side ${String(r.side)}`;
      if (!(Number(r.price) > 0) || !(Number(r.quantity) > 0)) return "price or quantity not > 0";
      return undefined;
    case "gap":
      if (!GAP_CAUSES.has(r.cause)) return `gap cause ${String(r.cause)}`;
      if (!isDataType(r.data_type_affected)) return `gap data type ${String(r.data_type_affected)}`;
      return undefined;
    default:
      return undefined;
  }
}

const LEVEL_KEYS: ReadonlySet<string> = new Set(["bids", "asks", "b", "a"]);

/**
 * The book frame parser against `JSON.parse` on the same text: where it answers, it must answer
 * what `JSON.parse` does, level lists cut to `[price, qty]` and each carried level value equal to
 * the book's own `levelValue` of the level's text (or NaN, left to the book).
 */
export function parserProblem(raw: string): string | undefined {
  const fast = parseBookFrame(raw);
  if (fast === undefined) return undefined;
  let slow: unknown;
  try {
    slow = JSON.parse(raw);
  } catch {
    return "the parser accepted text JSON.parse refuses";
  }
  return sameAsJson(fast, slow, false, "$");
}

function sameAsJson(fast: unknown, slow: unknown, levels: boolean, path: string): string | undefined {
  if (levels && Array.isArray(fast) && Array.isArray(slow)) {
    if (fast.length !== slow.length) return `${path}: ${fast.length} levels, JSON.parse ${slow.length}`;
    const values = (fast as { [LEVEL_VALUES]?: readonly number[] })[LEVEL_VALUES];
    for (let i = 0; i < fast.length; i++) {
      const f = fast[i] as unknown[];
      const s = slow[i] as unknown[];
      if (!Array.isArray(s) || f.length !== 2 || f[0] !== s[0] || f[1] !== s[1]) return `${path}[${i}]: level differs`;
      const v = values?.[i];
      if (v !== undefined && v === v && v !== levelValue(f[0] as string, f[1] as string)) return `${path}[${i}]: level value ${v}`;
    }
    return undefined;
  }
  if (Array.isArray(fast)) {
    if (!Array.isArray(slow) || fast.length !== slow.length) return `${path}: array differs`;
    for (let i = 0; i < fast.length; i++) {
      const p = sameAsJson(fast[i], slow[i], false, `${path}[${i}]`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (typeof fast === "object" && fast !== null) {
    if (typeof slow !== "object" || slow === null || Array.isArray(slow)) return `${path}: object differs`;
    const fk = Object.keys(fast);
    const sk = Object.keys(slow);
    if (fk.length !== sk.length) return `${path}: keys ${fk.join(",")} against ${sk.join(",")}`;
    for (const k of fk) {
      if (!Object.hasOwn(slow, k)) return `${path}: key ${k} not in JSON.parse's`;
      const p = sameAsJson((fast as Record<string, unknown>)[k], (slow as Record<string, unknown>)[k], LEVEL_KEYS.has(k), `${path}.${k}`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  return Object.is(fast, slow) ? undefined : `${path}: ${String(fast)} against ${String(slow)}`;
}
