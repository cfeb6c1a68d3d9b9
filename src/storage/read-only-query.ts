import type { ClickHouseClient } from "@clickhouse/client";
import { clickHouseErrorOf } from "./insert-errors.ts";
import { ident, literal } from "./sql-quote.ts";
import { type GuardVerdict, guardReadQuery } from "./query-guard.ts";

/**
 * Read-only SQL with the conventions of ClickHouse's own HTTP interface, shared by
 * `POST /query` and `bun run query`: the output format comes from the statement's FORMAT
 * clause, else `default_format`, else TabSeparated; errors carry ClickHouse's code and message
 * and the HTTP status ClickHouse would answer with.
 *
 * Every statement passes the query guard first (src/storage/query-guard.ts): anything but one
 * read statement is refused with 403 before it runs (`refused: true`), and what runs is the
 * canonical text the guard checked. `readonly = 1` stays on as a second wall; it does not stop
 * INTO OUTFILE, `file()` or file paths read as table names in embedded ClickHouse.
 *
 * `readonly = 1` is passed as a client setting. On embedded chDB that is a `SET` which stays
 * on the client's connection for good, so the client given here must be used for nothing but
 * these queries (create it with its own `createClickHouse` call; chDB shares the data path).
 */

export const DEFAULT_FORMAT = "TabSeparated";

export type QueryOutcome =
  | {
      readonly ok: true;
      readonly body: Uint8Array;
      readonly format: string;
      /** The engine's progress figures (`read_rows`, `elapsed_ns`, …), when it reports them. */
      readonly summary: Readonly<Record<string, string>> | undefined;
    }
  | {
      readonly ok: false;
      readonly status: number;
      readonly code: number;
      readonly message: string;
      /** The guard refused the statement before it ran. */
      readonly refused: boolean;
    };

/**
 * HTTP status per ClickHouse error code, as ClickHouse's own HTTP interface answers
 * (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp); codes from src/Common/ErrorCodes.cpp.
 */
const STATUS_CODES: ReadonlyArray<readonly [number, readonly number[]]> = [
  [401, [194]], // REQUIRED_PASSWORD
  // UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, SET_NON_GRANTED_ROLE, ACCESS_DENIED,
  // and READONLY (164): ClickHouse answers 500 for it, but a write sent to a read-only endpoint
  // is the caller's mistake, so it is reported like ACCESS_DENIED.
  [403, [192, 193, 516, 512, 497, 164]],
  // BAD_ARGUMENTS, CANNOT_COMPILE_REGEXP, CANNOT_PARSE_* (text, escape, quoted, date, datetime,
  // number, domain, ipv4, ipv6, assertion, uuid), DUPLICATE_COLUMN, ILLEGAL_COLUMN,
  // UNKNOWN_ELEMENT_IN_AST, UNKNOWN_TYPE_OF_AST_NODE, THERE_IS_NO_COLUMN, TOO_DEEP_AST,
  // TOO_BIG_AST, UNEXPECTED_AST_STRUCTURE, SYNTAX_ERROR, INCORRECT_DATA, TYPE_MISMATCH,
  // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  [400, [36, 427, 6, 25, 26, 38, 41, 72, 441, 675, 676, 27, 376, 15, 44, 37, 123, 8, 167, 168, 223, 62, 117, 53, 321]],
  // UNKNOWN_TABLE, UNKNOWN_FUNCTION, UNKNOWN_IDENTIFIER, UNKNOWN_TYPE, UNKNOWN_STORAGE,
  // UNKNOWN_DATABASE, UNKNOWN_SETTING, UNKNOWN_DIRECTION_OF_SORTING, UNKNOWN_AGGREGATE_FUNCTION,
  // UNKNOWN_FORMAT, UNKNOWN_DATABASE_ENGINE, UNKNOWN_TYPE_OF_QUERY, UNKNOWN_ROLE
  [404, [60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511]],
  [413, [229]], // QUERY_IS_TOO_LARGE
  [501, [48]], // NOT_IMPLEMENTED
  [503, [209, 76, 439]], // SOCKET_TIMEOUT, CANNOT_OPEN_FILE, CANNOT_SCHEDULE_TASK
  [411, [381]], // HTTP_LENGTH_REQUIRED
  [408, [159]], // TIMEOUT_EXCEEDED
  [415, [779]], // UNSUPPORTED_MEDIA_TYPE
];

const STATUS_BY_CODE: ReadonlyMap<number, number> = new Map(
  STATUS_CODES.flatMap(([status, codes]) => codes.map((code): [number, number] => [code, status])),
);

/** The HTTP status ClickHouse's HTTP interface uses for error `code`. */
export function statusForErrorCode(code: number): number {
  return STATUS_BY_CODE.get(code) ?? 500;
}

const FORMAT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** The format named by a trailing `FORMAT x` clause, if any. */
export function formatClause(sql: string): string | undefined {
  return /\bFORMAT\s+([A-Za-z][A-Za-z0-9]*)\s*;?\s*$/i.exec(sql)?.[1];
}

export interface ReadOnlyQueryOptions {
  /** Used when the statement has no FORMAT clause. */
  readonly default_format: string;
  /** Gives up after this long (ms); the embedded engine may still finish the work in the background. */
  readonly timeout_ms: number;
  /**
   * Runs the checked statement with these settings and in `database`, on `session`, whose
   * connection stays at readonly = 2: readonly = 1 refuses a statement's own SETTINGS, and
   * readonly = 2 still refuses every write. The caller chooses the settings (an allowlist); the
   * guard still refuses any SETTINGS clause in the SQL itself.
   */
  readonly session?: {
    readonly client: ClickHouseClient;
    readonly database: string;
    readonly settings: ReadonlyMap<string, string>;
    readonly query_params: Readonly<Record<string, string>>;
  };
}

/**
 * `USE database; statement SETTINGS …`: one call, so no other statement of the session runs
 * between the two and each statement names its database. A SETTINGS clause after FORMAT is
 * ClickHouse's grammar for every statement with output (SELECT, SHOW, DESCRIBE, EXPLAIN, EXISTS).
 */
function sessionSql(sql: string, database: string, settings: ReadonlyMap<string, string>): string {
  const clause = [...settings].map(([k, v]) => `${k} = ${literal(v)}`).join(", ");
  return `USE ${ident(database)}; ${sql}${clause === "" ? "" : ` SETTINGS ${clause}`}`;
}

/** Runs `sql` with readonly = 1 and returns its output text or ClickHouse's error. */
export async function runReadOnlyQuery(
  client: ClickHouseClient,
  sql: string,
  opts: ReadOnlyQueryOptions,
): Promise<QueryOutcome> {
  if (sql.trim() === "") return { ok: false, status: 400, code: 0, message: "Empty query", refused: false };
  if (!FORMAT_NAME.test(opts.default_format)) {
    const message = `Code: 36. DB::Exception: Bad default_format: ${JSON.stringify(opts.default_format)} (BAD_ARGUMENTS)`;
    return { ok: false, status: 400, code: 36, message, refused: false };
  }
  let guarded: GuardVerdict;
  try {
    guarded = await guardReadQuery(client, sql, { current_database: opts.session?.database, query_params: opts.session?.query_params });
  } catch (err) {
    return failure(err, opts.timeout_ms);
  }
  if (guarded.verdict === "refused") {
    const message = `Code: 164. DB::Exception: Refused before it ran: ${guarded.what}: ${guarded.why}. (READONLY)`;
    return { ok: false, status: 403, code: 164, message, refused: true };
  }
  if (guarded.verdict === "failed") return failure(guarded.error, opts.timeout_ms);
  // Any format name ClickHouse knows is allowed (Pretty, Vertical, …), not only the client's
  // DataFormat union; an unknown one comes back as ClickHouse's UNKNOWN_FORMAT error.
  const { session } = opts;
  const settings: Record<string, string> = { readonly: session === undefined ? "1" : "2", default_format: opts.default_format };
  try {
    const result = await (session?.client ?? client).exec({
      query: session === undefined ? guarded.sql : sessionSql(guarded.sql, session.database, session.settings),
      clickhouse_settings: settings,
      ...(session === undefined ? {} : { query_params: session.query_params }),
      abort_signal: AbortSignal.timeout(opts.timeout_ms),
    });
    const chunks: Uint8Array[] = [];
    for await (const chunk of result.stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    const summary = result.summary === undefined ? undefined : Object.fromEntries(Object.entries(result.summary).map(([k, v]) => [k, String(v)]));
    return { ok: true, body: Buffer.concat(chunks), format: formatClause(guarded.sql) ?? opts.default_format, summary };
  } catch (err) {
    return failure(err, opts.timeout_ms);
  }
}

/** ClickHouse's text after `: In scope` quotes the guard's own query around the SQL sent. */
const GUARD_SCOPE = /: In scope SELECT formatQuerySingleLine\(.*$/s;

function failure(err: unknown, timeout_ms: number): QueryOutcome {
  const ch = clickHouseErrorOf(err);
  if (ch !== undefined) {
    const message = `Code: ${ch.code}. DB::Exception: ${ch.message.replace(GUARD_SCOPE, "").trim()} (${ch.type})`;
    return { ok: false, status: statusForErrorCode(ch.code), code: ch.code, message, refused: false };
  }
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    const message = `Code: 159. DB::Exception: Timeout exceeded: query ran longer than ${timeout_ms} ms. (TIMEOUT_EXCEEDED)`;
    return { ok: false, status: 408, code: 159, message, refused: false };
  }
  return { ok: false, status: 500, code: 0, message: err instanceof Error ? err.message : String(err), refused: false };
}
