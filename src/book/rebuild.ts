import type { ClickHouseClient } from "@clickhouse/client";
import type { BookSide, Exchange, Level, MarketType, OrderbookDeltaRecord } from "../records/types.ts";
import { ident } from "../storage/sql-quote.ts";
import { TABLES } from "../storage/types.ts";

/**
 * A book at any instant, rebuilt from its orderbook_delta rows (src/records/types.ts): the newest
 * snapshot row set at or before the instant (the whole book after a (re)sync), then every change
 * after it up to the instant, in update order, each level set to its amount (0 deletes it).
 * Shared by `bun run book` and the tests that hold the rebuild against the stored top-N books.
 *
 * Prices and amounts come back from ClickHouse's Decimal(38,18) in its own spelling, which is not
 * the exchange's ("0.35130000" reads back "0.3513"): levels are keyed, ordered and printed in the
 * canonical spelling of `canonicalDecimal`, and compared with stored books in that spelling.
 */

/** One orderbook_deltas row as the rebuild reads it. */
export type DeltaRow = Pick<OrderbookDeltaRecord, "ts_ms" | "update_id" | "is_snapshot" | "side" | "price" | "amount">;

/**
 * Plain non-negative decimal text without leading zeros of its integer part or trailing zeros
 * of its fraction ("0.35130000" -> "0.3513", "30189.0" -> "30189", "00" -> "0").
 */
export function canonicalDecimal(text: string): string {
  let s = text;
  const point = s.indexOf(".");
  if (point >= 0) {
    let end = s.length;
    while (end > point + 1 && s.charCodeAt(end - 1) === 48) end--;
    s = end === point + 1 ? s.slice(0, point) : s.slice(0, end);
  }
  let start = 0;
  const intEnd = s.indexOf(".") < 0 ? s.length : s.indexOf(".");
  while (start < intEnd - 1 && s.charCodeAt(start) === 48) start++;
  return start === 0 ? s : s.slice(start);
}

/** Orders two canonical decimals exactly (no float rounding): negative, 0 or positive. */
export function compareDecimal(a: string, b: string): number {
  const pa = a.indexOf(".");
  const pb = b.indexOf(".");
  const ia = pa < 0 ? a : a.slice(0, pa);
  const ib = pb < 0 ? b : b.slice(0, pb);
  if (ia.length !== ib.length) return ia.length - ib.length;
  if (ia !== ib) return ia < ib ? -1 : 1;
  // Canonical fractions have no trailing zeros, so text order is numeric order ("5" > "49").
  const fa = pa < 0 ? "" : a.slice(pa + 1);
  const fb = pb < 0 ? "" : b.slice(pb + 1);
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

/**
 * A book folded from rows in the order a rebuild reads them. A snapshot row of another update or
 * time than the current snapshot set starts a new set: the book is cleared first, so rows of a
 * whole stream, resyncs included, fold to the book the engine held.
 */
export class ReplayedBook {
  private readonly bids = new Map<string, string>();
  private readonly asks = new Map<string, string>();
  private snapshot_key = "";
  /** The snapshot set the book starts from: its update id and time (-1 before any). */
  snapshot_update_id = -1;
  snapshot_ts_ms = -1;
  /** The last row applied: its update id and time. */
  update_id = -1;
  ts_ms = -1;
  /** Change rows applied since the snapshot set. */
  changes = 0;

  apply(row: DeltaRow): void {
    if (row.is_snapshot) {
      const key = `${row.update_id}@${row.ts_ms}`;
      if (key !== this.snapshot_key) {
        this.snapshot_key = key;
        this.bids.clear();
        this.asks.clear();
        this.snapshot_update_id = row.update_id;
        this.snapshot_ts_ms = row.ts_ms;
        this.changes = 0;
      }
    } else {
      this.changes++;
    }
    const side = row.side === "bid" ? this.bids : this.asks;
    const price = canonicalDecimal(row.price);
    const amount = canonicalDecimal(row.amount);
    if (amount === "0") side.delete(price);
    else side.set(price, amount);
    this.update_id = row.update_id;
    this.ts_ms = row.ts_ms;
  }

  /** The best `depth` levels of `side`, best first, in canonical spelling (depth 0: all). */
  levels(side: BookSide, depth = 0): Level[] {
    const map = side === "bid" ? this.bids : this.asks;
    const prices = [...map.keys()].sort(side === "bid" ? (a, b) => compareDecimal(b, a) : compareDecimal);
    const n = depth > 0 ? Math.min(depth, prices.length) : prices.length;
    const out: Level[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = prices[i] as string;
      out[i] = [p, map.get(p) as string];
    }
    return out;
  }
}

/** Levels in canonical spelling: a stored orderbooks row's levels, to compare with a rebuild's. */
export function canonicalLevels(levels: readonly (readonly [string, string])[]): Level[] {
  return levels.map(([p, q]) => [canonicalDecimal(p), canonicalDecimal(q)] as const);
}

export interface BookQuery {
  readonly exchange: Exchange;
  readonly market_type: MarketType;
  readonly symbol: string;
  /** The instant, ms UTC (exchange time, as the rows' `timestamp`). */
  readonly at_ms: number;
  /** Levels per side to return, best first; 0 = all. */
  readonly depth: number;
}

export interface RebuiltBook {
  readonly exchange: Exchange;
  readonly market_type: MarketType;
  readonly symbol: string;
  readonly at_ms: number;
  /** The snapshot row set the rebuild started from. */
  readonly snapshot_ts_ms: number;
  readonly snapshot_update_id: number;
  /** The last row applied (the snapshot's when no change followed it). */
  readonly update_id: number;
  readonly ts_ms: number;
  /** Change rows applied after the snapshot. */
  readonly changes: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}

const VENUE_FILTER = "exchange = {exchange:String} AND market_type = {market_type:String} AND symbol = {symbol:String}";

/** `SELECT … FROM` each database's orderbook_deltas, as one UNION ALL. */
function fromEach(databases: readonly string[], columns: string, where: string): string {
  return databases.map((db) => `SELECT ${columns} FROM ${ident(db)}.${ident(TABLES.orderbook_delta)} WHERE ${VENUE_FILTER} AND ${where}`).join("\nUNION ALL\n");
}

/**
 * The book of `q` at `q.at_ms` from the orderbook_deltas of `databases` (hot, then cold: rows
 * tiered to cold and not yet dropped from hot are in both, and count once). Undefined when no
 * snapshot row set is stored at or before the instant.
 */
export async function rebuildBook(client: ClickHouseClient, databases: readonly string[], q: BookQuery): Promise<RebuiltBook | undefined> {
  const params = { exchange: q.exchange, market_type: q.market_type, symbol: q.symbol, at: q.at_ms };
  const at = "fromUnixTimestamp64Milli({at:Int64}, 'UTC')";
  const snapshots = await client.query({
    query: `SELECT toUnixTimestamp64Milli(timestamp) AS ts, toString(update_id) AS uid FROM (
${fromEach(databases, "timestamp, update_id", `is_snapshot AND timestamp <= ${at}`)}
) ORDER BY timestamp DESC, update_id DESC LIMIT 1`,
    query_params: params,
    format: "JSONEachRow",
  });
  const [snapshot] = await snapshots.json<{ ts: string | number; uid: string }>();
  if (snapshot === undefined) return undefined;
  const from = "fromUnixTimestamp64Milli({snap_ts:Int64}, 'UTC')";
  const rows = await client.query({
    // DISTINCT, not FINAL: a row delivered twice, or in hot and in cold, is one row (a row's
    // natural key and time fix its content), and DISTINCT sees across the two tables.
    query: `SELECT DISTINCT toUnixTimestamp64Milli(timestamp) AS ts, toString(update_id) AS uid, is_snapshot, side, toString(price) AS price, toString(amount) AS amount FROM (
${fromEach(
  databases,
  "timestamp, update_id, is_snapshot, side, price, amount",
  `timestamp >= ${from} AND timestamp <= ${at} AND ((is_snapshot AND timestamp = ${from} AND update_id = {snap_uid:UInt64}) OR (NOT is_snapshot AND update_id > {snap_uid:UInt64}))`,
)}
) ORDER BY is_snapshot DESC, toUInt64(uid), ts`,
    query_params: { ...params, snap_ts: Number(snapshot.ts), snap_uid: snapshot.uid },
    format: "JSONEachRow",
  });
  const book = new ReplayedBook();
  for (const r of await rows.json<{ ts: string | number; uid: string; is_snapshot: boolean | number; side: BookSide; price: string; amount: string }>()) {
    book.apply({ ts_ms: Number(r.ts), update_id: Number(r.uid), is_snapshot: r.is_snapshot === true || r.is_snapshot === 1, side: r.side, price: r.price, amount: r.amount });
  }
  return {
    exchange: q.exchange,
    market_type: q.market_type,
    symbol: q.symbol,
    at_ms: q.at_ms,
    snapshot_ts_ms: book.snapshot_ts_ms,
    snapshot_update_id: book.snapshot_update_id,
    update_id: book.update_id,
    ts_ms: book.ts_ms,
    changes: book.changes,
    bids: book.levels("bid", q.depth),
    asks: book.levels("ask", q.depth),
  };
}
