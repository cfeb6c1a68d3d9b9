import type { Exchange, MarketType } from "../records/types.ts";
import { TieringUsageError } from "./errors.ts";
import { literal } from "./sql.ts";

/**
 * Row filters of a tiering pass (`--exchange`, `--market-type`, `--symbol-prefix`).
 *
 * A filtered pass copies and verifies only matching rows, so its results say nothing about the
 * rest of a window. Its window results and its watermark are therefore stored under its own
 * `filterKey` and never move the unfiltered (global) watermark; an unfiltered pass later finds
 * the filtered rows already in cold and copies only what is still missing.
 */
export interface TierFilter {
  readonly exchange?: Exchange;
  readonly market_type?: MarketType;
  readonly symbol_prefix?: string;
}

const EXCHANGES: readonly Exchange[] = ["binance", "okx", "deribit"];
const MARKET_TYPES: readonly MarketType[] = ["spot", "perpetual", "options"];
const SYMBOL_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function isExchange(value: string): value is Exchange {
  return (EXCHANGES as readonly string[]).includes(value);
}

function isMarketType(value: string): value is MarketType {
  return (MARKET_TYPES as readonly string[]).includes(value);
}

/** Validates user-supplied filter values; unknown ones raise a `TieringUsageError` naming them. */
export function parseTierFilter(input: {
  exchange?: string | undefined;
  market_type?: string | undefined;
  symbol_prefix?: string | undefined;
}): TierFilter {
  const filter: { exchange?: Exchange; market_type?: MarketType; symbol_prefix?: string } = {};
  if (input.exchange !== undefined) {
    if (!isExchange(input.exchange)) {
      throw new TieringUsageError(`unknown exchange '${input.exchange}': expected one of ${EXCHANGES.join(", ")}`);
    }
    filter.exchange = input.exchange;
  }
  if (input.market_type !== undefined) {
    if (!isMarketType(input.market_type)) {
      throw new TieringUsageError(`unknown market type '${input.market_type}': expected one of ${MARKET_TYPES.join(", ")}`);
    }
    filter.market_type = input.market_type;
  }
  if (input.symbol_prefix !== undefined) {
    if (!SYMBOL_PREFIX.test(input.symbol_prefix)) {
      throw new TieringUsageError(
        `invalid symbol prefix '${input.symbol_prefix}': expected letters, digits, '.', '_' or '-' such as BTC-`,
      );
    }
    filter.symbol_prefix = input.symbol_prefix;
  }
  return filter;
}

/** The key a filter's state is stored under; `""` is the unfiltered (global) pass. */
export function filterKey(filter: TierFilter): string {
  const parts: string[] = [];
  if (filter.exchange !== undefined) parts.push(`exchange=${filter.exchange}`);
  if (filter.market_type !== undefined) parts.push(`market_type=${filter.market_type}`);
  if (filter.symbol_prefix !== undefined) parts.push(`symbol_prefix=${filter.symbol_prefix}`);
  return parts.join(",");
}

/** ` AND …` conditions for the filter, or `""` when it matches every row. */
export function filterSql(filter: TierFilter): string {
  let sql = "";
  if (filter.exchange !== undefined) sql += ` AND exchange = ${literal(filter.exchange)}`;
  if (filter.market_type !== undefined) sql += ` AND market_type = ${literal(filter.market_type)}`;
  if (filter.symbol_prefix !== undefined) sql += ` AND startsWith(symbol, ${literal(filter.symbol_prefix)})`;
  return sql;
}
