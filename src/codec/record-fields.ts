import {
  RECORD_TYPES,
  isDataType,
  isRecordType,
  type Exchange,
  type GapCause,
  type MarketRecord,
  type MarketType,
  type RecordOf,
  type RecordType,
  type BookSide,
  type Side,
} from "../records/types.ts";
import { LevelsText } from "./levels-text.ts";

/**
 * Every record type's fields in one canonical order, with the primitive kind each must have.
 * The codec derives its msgpack structures from this table and the type guard checks decoded
 * values against it. The mapped type makes the compiler reject a table that misses or adds a
 * field of the record interfaces in src/records/types.ts.
 */
export type FieldKind =
  | "string"
  | "decimal"
  | "int"
  | "boolean"
  | "levels"
  | "exchange"
  | "market_type"
  | "side"
  | "book_side"
  | "data_type"
  | "gap_cause";

type FieldTable = {
  readonly [T in RecordType]: { readonly [K in Exclude<keyof RecordOf<T>, "data_type">]-?: FieldKind };
};

const COMMON = {
  exchange: "exchange",
  market_type: "market_type",
  symbol: "string",
  ts_ms: "int",
  recv_ts_ms: "int",
} as const;

export const FIELD_KINDS: FieldTable = {
  trade: {
    ...COMMON,
    trade_id: "string",
    price: "decimal",
    quantity: "decimal",
    side: "side",
    is_maker: "boolean",
    trade_time: "int",
  },
  orderbook: {
    ...COMMON,
    last_update_id: "int",
    bids: "levels",
    asks: "levels",
    best_bid_price: "decimal",
    best_bid_quantity: "decimal",
    best_ask_price: "decimal",
    best_ask_quantity: "decimal",
    bids_count: "int",
    asks_count: "int",
  },
  funding_rate: {
    ...COMMON,
    funding_rate: "decimal",
    funding_time: "int",
    next_funding_time: "int",
    mark_price: "decimal",
    index_price: "decimal",
  },
  open_interest: { ...COMMON, open_interest: "decimal", open_interest_value: "decimal", count: "int" },
  liquidation: { ...COMMON, side: "side", price: "decimal", quantity: "decimal", liquidation_time: "int" },
  lsr_top_position: {
    ...COMMON,
    long_position_ratio: "decimal",
    short_position_ratio: "decimal",
    long_short_ratio: "decimal",
    period: "string",
  },
  lsr_all_account: {
    ...COMMON,
    long_account_ratio: "decimal",
    short_account_ratio: "decimal",
    long_short_ratio: "decimal",
    period: "string",
  },
  volatility_index: { ...COMMON, index_value: "decimal", underlying_asset: "string", maturity_date: "string" },
  orderbook_delta: { ...COMMON, update_id: "int", is_snapshot: "boolean", side: "book_side", price: "decimal", amount: "decimal" },
  gap: { ...COMMON, data_type_affected: "data_type", start_ts_ms: "int", end_ts_ms: "int", cause: "gap_cause", recovered_records: "int", recovered_at_ms: "int" },
};

type FieldList = readonly (readonly [string, FieldKind])[];

function buildFieldLists(): Readonly<Record<RecordType, FieldList>> {
  const lists: Partial<Record<RecordType, FieldList>> = {};
  for (const type of RECORD_TYPES) lists[type] = Object.entries(FIELD_KINDS[type]) as [string, FieldKind][];
  return lists as Record<RecordType, FieldList>;
}

/** [field name, kind] pairs per record type, without `data_type`; built once. */
export const FIELDS = buildFieldLists();

/** The canonical key order of each record type, `data_type` first (the codec's structures). */
export function canonicalKeys(type: RecordType): string[] {
  return ["data_type", ...FIELDS[type].map(([name]) => name)];
}

const EXCHANGES: ReadonlySet<unknown> = new Set<Exchange>(["binance", "okx", "deribit"]);
const MARKET_TYPES: ReadonlySet<unknown> = new Set<MarketType>(["spot", "perpetual", "options"]);
const SIDES: ReadonlySet<unknown> = new Set<Side>(["buy", "sell"]);
const BOOK_SIDES: ReadonlySet<unknown> = new Set<BookSide>(["bid", "ask"]);
const GAP_CAUSES: ReadonlySet<unknown> = new Set<GapCause>([
  "reconnect",
  "sequence_gap",
  "checksum_mismatch",
  "ring_overflow",
  "stale",
  "resubscribe",
  "resync",
  "engine_down",
  "poll_failed",
]);

function isLevels(value: unknown): boolean {
  if (value instanceof LevelsText) return true;
  if (!Array.isArray(value)) return false;
  for (const level of value) {
    if (!Array.isArray(level) || level.length !== 2 || typeof level[0] !== "string" || typeof level[1] !== "string") {
      return false;
    }
  }
  return true;
}

function hasKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case "string":
    case "decimal":
      return typeof value === "string";
    case "int":
      return Number.isSafeInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "levels":
      return isLevels(value);
    case "exchange":
      return EXCHANGES.has(value);
    case "market_type":
      return MARKET_TYPES.has(value);
    case "side":
      return SIDES.has(value);
    case "book_side":
      return BOOK_SIDES.has(value);
    case "data_type":
      return isDataType(value);
    case "gap_cause":
      return GAP_CAUSES.has(value);
  }
}

/**
 * Why `value` is not a well-formed MarketRecord (first problem found), or `null` when it is:
 * a known `data_type` and every field of that type present with the right primitive type.
 * Extra fields are tolerated (they are not stored).
 */
export function recordProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an object";
  const fields = value as Record<string, unknown>;
  const type = fields.data_type;
  if (!isRecordType(type)) return `unknown data_type ${JSON.stringify(type) ?? String(type)}`;
  for (const [name, kind] of FIELDS[type]) {
    const field = fields[name];
    if (!hasKind(field, kind)) {
      return field === undefined ? `${type}.${name} is missing` : `${type}.${name} is not a valid ${kind}`;
    }
  }
  return null;
}

/**
 * A gap record written before gaps carried their recovery (an older engine's message still in
 * JetStream) gets the values of a gap nothing was recovered for, so it is stored rather than
 * dead-lettered as malformed. Other values pass unchanged.
 */
export function withGapRecoveryDefaults(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const fields = value as Record<string, unknown>;
  if (fields.data_type !== "gap" || (fields.recovered_records !== undefined && fields.recovered_at_ms !== undefined)) return value;
  return { ...fields, recovered_records: fields.recovered_records ?? 0, recovered_at_ms: fields.recovered_at_ms ?? 0 };
}

/** Type guard: a decoded value is a well-formed MarketRecord (see `recordProblem`). */
export function isMarketRecord(value: unknown): value is MarketRecord {
  return recordProblem(value) === null;
}
