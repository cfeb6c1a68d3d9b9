import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ClickHouseClient } from "@clickhouse/client";
import { drainPending } from "chdb";
import { rebuildBook, type BookQuery, type RebuiltBook } from "../book/rebuild.ts";
import { ConfigError, loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { createLogger } from "../log/logger.ts";
import type { Exchange, MarketType } from "../records/types.ts";
import { createClickHouse, embeddedPath } from "../storage/client.ts";
import { helpText, usageLine, wantsHelp, type CommandHelp } from "./help.ts";

/**
 * `bun run book --exchange X --market-type M --symbol S --at TIME [--depth N] [--json]
 *   [--data-dir DIR] [--config FILE]`
 *
 * Rebuilds one book at an instant from the orderbook_deltas table (src/book/rebuild.ts): the
 * newest snapshot row set at or before TIME, then every change after it up to TIME. The store is
 * the engine's: embedded chDB under --data-dir (or engine.data_dir), which only one process may
 * open, or the server of clickhouse.url / CLICKHOUSE_URL. Exit codes: 0 printed; 1 ClickHouse
 * failed or there is no data; 2 bad arguments, or no snapshot stored at or before TIME.
 */

export const BOOK_HELP: CommandHelp = {
  usage: "bun run book --exchange X --market-type M --symbol S --at TIME [--depth N] [--json] [--data-dir DIR] [--config FILE]",
  about:
    "Rebuilds an order book at an instant from the orderbook_delta rows ClickHouse stores (venues.<v>.data_types must have listed orderbook_delta while it was collected): the newest snapshot row set at or before TIME, then every change after it up to TIME, and prints its levels per side, best first. --data-dir uses the embedded ClickHouse under DIR/clickhouse, which only one process may open: stop the engine first.",
  flags: [
    ["--exchange X", "binance, okx or deribit"],
    ["--market-type M", "spot, perpetual or options"],
    ["--symbol S", "the normalized symbol, e.g. BTC-USDT"],
    ["--at TIME", "the instant, exchange time: ISO-8601 (UTC unless it names a zone) or epoch milliseconds"],
    ["--depth N", "levels per side to print (default 20; 0: all)"],
    ["--json", "print the book as one JSON object instead of a table"],
    ["--data-dir DIR", "embedded ClickHouse under DIR/clickhouse (default engine.data_dir, unless clickhouse.url is set)"],
    ["--config FILE", "YAML merged over config/default.yaml (clickhouse.url, databases)"],
    ["--help, -h", "this text"],
  ],
  env: [["CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD", "a ClickHouse server instead of embedded chDB"]],
  exits: [
    [0, "the book was printed"],
    [1, "ClickHouse refused or failed the query, or there is no data"],
    [2, "bad arguments or configuration, or no snapshot of the book is stored at or before TIME"],
  ],
};

const EXCHANGES: readonly Exchange[] = ["binance", "okx", "deribit"];
const MARKET_TYPES: readonly MarketType[] = ["spot", "perpetual", "options"];
const DEFAULT_DEPTH = 20;

export interface BookArgs {
  readonly query: BookQuery;
  readonly json: boolean;
  readonly data_dir: string | undefined;
  readonly config: string | undefined;
}

class UsageError extends Error {}

/**
 * An instant as ms UTC: epoch milliseconds, or ISO-8601 (a date-time without a zone is UTC, so
 * the answer does not depend on the machine's time zone). Undefined when it is neither.
 */
export function parseInstant(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const zoned = /T.*(Z|[+-]\d{2}:?\d{2})$/i.test(text) || !text.includes("T") ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

export function parseBookArgs(argv: readonly string[]): BookArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        exchange: { type: "string" },
        "market-type": { type: "string" },
        symbol: { type: "string" },
        at: { type: "string" },
        depth: { type: "string" },
        json: { type: "boolean" },
        "data-dir": { type: "string" },
        config: { type: "string" },
      },
    }));
  } catch (cause) {
    throw new UsageError(cause instanceof Error ? cause.message : String(cause));
  }
  const exchange = values.exchange;
  if (exchange === undefined || !(EXCHANGES as readonly string[]).includes(exchange)) throw new UsageError(`--exchange must be one of ${EXCHANGES.join(", ")}`);
  const market_type = values["market-type"];
  if (market_type === undefined || !(MARKET_TYPES as readonly string[]).includes(market_type)) throw new UsageError(`--market-type must be one of ${MARKET_TYPES.join(", ")}`);
  const symbol = values.symbol;
  if (symbol === undefined || symbol === "") throw new UsageError("--symbol S is required");
  if (values.at === undefined) throw new UsageError("--at TIME is required");
  const at_ms = parseInstant(values.at);
  if (at_ms === undefined) throw new UsageError(`--at must be ISO-8601 or epoch milliseconds, got ${JSON.stringify(values.at)}`);
  let depth = DEFAULT_DEPTH;
  if (values.depth !== undefined) {
    depth = Number(values.depth);
    if (!Number.isSafeInteger(depth) || depth < 0) throw new UsageError(`--depth must be a non-negative integer, got ${JSON.stringify(values.depth)}`);
  }
  return {
    query: { exchange: exchange as Exchange, market_type: market_type as MarketType, symbol, at_ms, depth },
    json: values.json === true,
    data_dir: values["data-dir"],
    config: values.config,
  };
}

/** The book as a table: one line per level index, bids left and asks right, best first. */
export function formatBook(book: RebuiltBook): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const head = [
    `${book.exchange} ${book.market_type} ${book.symbol} at ${iso(book.at_ms)}`,
    `from the snapshot of ${iso(book.snapshot_ts_ms)} (update ${book.snapshot_update_id}), ${book.changes} level changes after it, the last at ${iso(book.ts_ms)} (update ${book.update_id})`,
    `${book.bids.length} bid and ${book.asks.length} ask levels shown, best first`,
    "",
  ];
  const n = Math.max(book.bids.length, book.asks.length);
  const cells: [string, string, string, string][] = [["bid amount", "bid price", "ask price", "ask amount"]];
  for (let i = 0; i < n; i++) {
    const b = book.bids[i];
    const a = book.asks[i];
    cells.push([b?.[1] ?? "", b?.[0] ?? "", a?.[0] ?? "", a?.[1] ?? ""]);
  }
  const widths = [0, 1, 2, 3].map((c) => Math.max(...cells.map((row) => row[c]!.length)));
  const lines = cells.map(([ba, bp, ap, aa]) => `${ba.padStart(widths[0]!)}  ${bp.padStart(widths[1]!)}  |  ${ap.padEnd(widths[2]!)}  ${aa.padEnd(widths[3]!)}`.trimEnd());
  return `${[...head, ...lines].join("\n")}\n`;
}

export interface BookStore {
  readonly client: ClickHouseClient;
  /** hot, then cold. */
  readonly databases: readonly string[];
  close(): Promise<void>;
}

export interface BookIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

function configFor(args: BookArgs): Config {
  const overrides: Record<string, unknown> = {};
  if (args.data_dir !== undefined) {
    overrides.engine = { data_dir: args.data_dir };
    overrides.clickhouse = { url: "" };
  }
  return loadConfig({ ...(args.config === undefined ? {} : { file: args.config }), overrides });
}

function openStore(cfg: Config): BookStore {
  if (cfg.clickhouse.url === "") {
    const path = embeddedPath(cfg.engine.data_dir);
    if (!existsSync(path)) throw new NoDataError(`no embedded ClickHouse data at ${path}`);
  }
  const client = createClickHouse(cfg.clickhouse, cfg.engine.data_dir, createLogger("error", { component: "clickhouse-client" }));
  return {
    client,
    databases: [cfg.clickhouse.hot_database, cfg.clickhouse.cold_database],
    async close() {
      await client.close();
      if (cfg.clickhouse.url === "") await drainPending();
    },
  };
}

class NoDataError extends Error {}

/** The CLI as a function (tests give their own store); resolves to the exit code. */
export async function runBook(argv: readonly string[], io: BookIo, open: (cfg: Config) => BookStore = openStore): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(helpText(BOOK_HELP));
    return 0;
  }
  let args: BookArgs;
  let cfg: Config;
  try {
    args = parseBookArgs(argv);
    cfg = configFor(args);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.stderr(`book: ${err.message}\n${usageLine(BOOK_HELP)}\n`);
      return 2;
    }
    throw err;
  }
  let store: BookStore;
  try {
    store = open(cfg);
  } catch (err) {
    if (err instanceof NoDataError) {
      io.stderr(`book: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  try {
    const book = await rebuildBook(store.client, store.databases, args.query);
    const q = args.query;
    if (book === undefined) {
      io.stderr(
        `book: no snapshot of ${q.exchange} ${q.market_type} ${q.symbol} is stored at or before ${new Date(q.at_ms).toISOString()}: the book cannot be rebuilt there (is orderbook_delta in venues.<venue>.data_types?)\n`,
      );
      return 2;
    }
    io.stdout(args.json ? `${JSON.stringify(book)}\n` : formatBook(book));
    return 0;
  } catch (err) {
    io.stderr(`book: ClickHouse failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

if (import.meta.main) process.exitCode = await runBook(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
