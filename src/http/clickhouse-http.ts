import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import type { ClickHouseClient } from "@clickhouse/client";
import { redactSecrets } from "../log/redact.ts";
import { DEFAULT_FORMAT, runReadOnlyQuery } from "../storage/read-only-query.ts";
import { contentTypeFor } from "./query.ts";
import { bearerMatches, crossSiteReason, foreignHostReason, tokenMatches } from "./security.ts";

/**
 * ClickHouse's own HTTP interface over the embedded store, read-only (`http.clickhouse_port`),
 * so `@clickhouse/client` with a plain `url`, Grafana's ClickHouse datasource and DBeaver connect
 * as to a ClickHouse server:
 * - `GET /`, `GET /ping` (and `HEAD`) answer `Ok.`;
 * - `GET /?query=…` and `POST /` run SQL from the `query` parameter and the body (both: the body
 *   follows the parameter), with `default_format`, `database` (or the `X-ClickHouse-Database` header), `query_id`, `param_<name>`
 *   query parameters, and settings as URL parameters;
 * - responses carry `X-ClickHouse-Format`, `-Query-Id`, `-Timezone`, `-Server-Display-Name` and
 *   `-Summary`; errors are ClickHouse's text (`Code: N. DB::Exception: … (NAME) (version …)`)
 *   with `X-ClickHouse-Exception-Code` and the status ClickHouse would answer with.
 *
 * Every statement passes the same guard as `POST /query` (src/storage/query-guard.ts); the same
 * cross-site, loopback-Host and token rules as the main server apply (src/http/security.ts).
 * With `http.auth_token` set, a request shows it as `Authorization: Bearer`, as the password of
 * basic auth, in `X-ClickHouse-Key` or in the `password` parameter (what ClickHouse clients send).
 *
 * Settings: only those that shape output or limit work are accepted (a write or file access
 * cannot hide in one); any other is refused as ClickHouse refuses settings in readonly mode.
 * Parameters that belong to HTTP itself are handled or have no meaning here: sessions
 * (`session_id`: statements that change session state are refused anyway), `wait_end_of_query`
 * and progress headers (the response is built whole before it is sent).
 * `enable_http_compression=1` with `Accept-Encoding: gzip` or `deflate` compresses the response;
 * a gzip or deflate request body is decompressed. ClickHouse's own LZ4 framing (`compress=1`,
 * `decompress=1`) is refused with a message to turn it off in the driver.
 */
export interface ClickHouseHttpOptions {
  /** Checks statements; readonly = 1 stays on it (a client of its own). */
  readonly guard_client: ClickHouseClient;
  /** Runs checked statements at readonly = 2 with their settings (a client of its own). */
  readonly run_client: ClickHouseClient;
  readonly auth_token: string;
  readonly loopback_only: boolean;
  /** Names besides localhost and loopback addresses a loopback-bound server answers (server.ts `HttpOptions`). */
  readonly loopback_aliases?: ReadonlySet<string>;
  readonly max_body_bytes: number;
  readonly timeout_ms: number;
  /** `SELECT version()` of the engine, for error texts. */
  readonly version: string;
  /** `SELECT timezone()` of the engine. */
  readonly timezone: string;
  readonly display_name: string;
}

/** URL parameters that are not settings. */
const REQUEST_PARAMS: ReadonlySet<string> = new Set([
  "query",
  "default_format",
  "database",
  "query_id",
  "user",
  "password",
  "quota_key",
  "session_id",
  "session_timeout",
  "session_check",
  "compress",
  "decompress",
  "buffer_size",
  "wait_end_of_query",
  "enable_http_compression",
  "http_zlib_compression_level",
  "send_progress_in_http_headers",
  "http_headers_progress_interval_ms",
  "http_response_buffer_size",
  "http_wait_end_of_query",
  "cancel_http_readonly_queries_on_client_close",
]);

/**
 * Settings a request may set: output shape and limits. Not the `format_` settings that name a
 * file or a URL (`format_schema`, `format_template_row`, …) nor `output_format_schema`, which
 * writes one, nor `format_display_secrets_in_show_and_select`.
 */
const SETTING_PREFIXES: readonly string[] = ["output_format_", "format_csv_", "format_tsv_", "format_custom_", "date_time_output_format", "max_", "min_"];
const DENIED_SETTINGS: ReadonlySet<string> = new Set(["output_format_schema"]);
const SETTING_NAMES: ReadonlySet<string> = new Set([
  "extremes",
  "totals_mode",
  "join_use_nulls",
  "final",
  "session_timezone",
  "timeout_overflow_mode",
  "result_overflow_mode",
  "read_overflow_mode",
  "group_by_overflow_mode",
  "sort_overflow_mode",
  "select_sequential_consistency",
  "enable_analyzer",
  "allow_experimental_analyzer",
  "prefer_column_name_to_alias",
  "joined_subquery_requires_alias",
  "use_uncompressed_cache",
  "log_comment",
  "priority",
]);

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function allowedSetting(name: string): boolean {
  if (DENIED_SETTINGS.has(name)) return false;
  return SETTING_NAMES.has(name) || SETTING_PREFIXES.some((p) => name.startsWith(p));
}

interface Failure {
  readonly status: number;
  readonly code: number;
  /** `Code: N. DB::Exception: … (NAME)`. */
  readonly message: string;
}

const fail = (status: number, code: number, name: string, text: string): Failure => ({
  status,
  code,
  message: `Code: ${code}. DB::Exception: ${text}. (${name})`,
});

/** What a request asks for, from its URL; a `Failure` when a parameter cannot be honoured. */
interface QueryRequest {
  readonly default_format: string;
  readonly database: string;
  readonly query_id: string;
  readonly settings: ReadonlyMap<string, string>;
  readonly query_params: Readonly<Record<string, string>>;
  readonly compress_response: boolean;
}

function readParams(params: URLSearchParams, headers: Headers): QueryRequest | Failure {
  if (params.get("compress") === "1" || params.get("decompress") === "1") {
    return fail(501, 48, "NOT_IMPLEMENTED", "ClickHouse's LZ4 block compression (compress=1, decompress=1) is not served here; turn compression off in the driver or use HTTP compression (enable_http_compression=1)");
  }
  const settings = new Map<string, string>();
  const query_params: Record<string, string> = {};
  for (const [name, value] of params) {
    if (name.startsWith("param_")) {
      query_params[name.slice("param_".length)] = value;
    } else if (name === "readonly") {
      // Asking for readonly 1 or 2 asks for no more than this endpoint gives.
      if (value !== "1" && value !== "2") return fail(403, 164, "READONLY", `Cannot modify 'readonly' setting in readonly mode`);
    } else if (!REQUEST_PARAMS.has(name)) {
      if (!SETTING_NAME.test(name)) return fail(400, 115, "UNKNOWN_SETTING", `Unknown setting ${JSON.stringify(name)}`);
      if (!allowedSetting(name)) return fail(403, 164, "READONLY", `Cannot modify '${name}' setting in readonly mode`);
      settings.set(name, value);
    }
  }
  return {
    default_format: params.get("default_format") ?? DEFAULT_FORMAT,
    database: params.get("database") ?? headers.get("x-clickhouse-database") ?? "default",
    query_id: params.get("query_id") ?? crypto.randomUUID(),
    settings,
    query_params,
    compress_response: params.get("enable_http_compression") === "1",
  };
}

/** The token as ClickHouse clients present credentials: Bearer, basic auth's password, X-ClickHouse-Key, `password`. */
function presentsToken(req: Request, params: URLSearchParams, token: string): boolean {
  const authorization = req.headers.get("authorization");
  if (bearerMatches(authorization, token)) return true;
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  const basicPassword = basic === undefined ? null : Buffer.from(basic, "base64").toString().replace(/^[^:]*:/, "");
  return [basicPassword, req.headers.get("x-clickhouse-key"), params.get("password")].some((p) => p !== null && tokenMatches(p, token));
}

async function readBody(req: Request, max_bytes: number): Promise<string | Failure> {
  const tooLarge = fail(413, 229, "QUERY_IS_TOO_LARGE", `Query is too large: at most ${max_bytes} bytes`);
  if (Number(req.headers.get("content-length") ?? "0") > max_bytes) return tooLarge;
  const raw = new Uint8Array(await req.arrayBuffer());
  const encoding = (req.headers.get("content-encoding") ?? "").toLowerCase();
  if (encoding !== "" && encoding !== "gzip" && encoding !== "deflate" && encoding !== "identity") {
    return fail(415, 779, "UNSUPPORTED_MEDIA_TYPE", `Content-Encoding ${encoding} is not supported; use gzip or deflate`);
  }
  let body: Uint8Array;
  try {
    body = encoding === "gzip" ? gunzipSync(raw, { maxOutputLength: max_bytes + 1 }) : encoding === "deflate" ? inflateSync(raw, { maxOutputLength: max_bytes + 1 }) : raw;
  } catch (cause) {
    if ((cause as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") return tooLarge;
    return fail(400, 354, "CANNOT_DECOMPRESS", `Cannot decompress the ${encoding} request body: ${(cause as Error).message}`);
  }
  if (body.byteLength > max_bytes) return tooLarge;
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
}

const isFailure = (v: unknown): v is Failure => typeof v === "object" && v !== null && "code" in v && "status" in v;

export function createClickHouseHttpHandler(opts: ClickHouseHttpOptions): (req: Request) => Promise<Response> {
  const identity = {
    "x-clickhouse-server-display-name": opts.display_name,
    "x-clickhouse-timezone": opts.timezone,
  };

  const errorResponse = (f: Failure, query_id?: string): Response =>
    new Response(`${redactSecrets(f.message)} (version ${opts.version})\n`, {
      status: f.status,
      headers: {
        ...identity,
        ...(query_id === undefined ? {} : { "x-clickhouse-query-id": query_id }),
        "content-type": "text/plain; charset=UTF-8",
        "x-clickhouse-exception-code": String(f.code),
      },
    });

  const ok = (req: Request): Response => new Response(req.method === "HEAD" ? null : "Ok.\n", { headers: { ...identity, "content-type": "text/plain; charset=UTF-8" } });

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const params = url.searchParams;
    const crossSite = (opts.loopback_only ? foreignHostReason(req, opts.loopback_aliases) : null) ?? crossSiteReason(req);
    if (crossSite !== null) return errorResponse(fail(403, 497, "ACCESS_DENIED", `Cross-site request refused: ${crossSite}`));
    if (url.pathname === "/ping" && (req.method === "GET" || req.method === "HEAD")) return ok(req);
    if (url.pathname !== "/") return errorResponse(fail(404, 0, "UNKNOWN_EXCEPTION", `There is no handle ${url.pathname}`));
    if (req.method !== "GET" && req.method !== "HEAD" && req.method !== "POST") {
      return errorResponse(fail(405, 0, "UNKNOWN_EXCEPTION", `${req.method} is not allowed; use GET or POST`));
    }
    if (opts.auth_token !== "" && !presentsToken(req, params, opts.auth_token)) {
      return errorResponse(fail(403, 516, "AUTHENTICATION_FAILED", "Authentication failed: send http.auth_token as the password"));
    }
    if (req.method !== "POST" && !params.has("query")) return ok(req);

    const request = readParams(params, req.headers);
    if (isFailure(request)) return errorResponse(request);
    const body = req.method === "POST" ? await readBody(req, opts.max_body_bytes) : "";
    if (isFailure(body)) return errorResponse(body, request.query_id);
    const param_query = params.get("query");
    const sql = param_query === null ? body : body === "" ? param_query : `${param_query}\n${body}`;
    if (sql.trim() === "") return errorResponse(fail(400, 62, "SYNTAX_ERROR", "Empty query"), request.query_id);

    const outcome = await runReadOnlyQuery(opts.guard_client, sql, {
      default_format: request.default_format,
      timeout_ms: opts.timeout_ms,
      session: { client: opts.run_client, database: request.database, settings: request.settings, query_params: request.query_params },
    });
    if (!outcome.ok) {
      const message = /^Code: \d+\. DB::Exception: /.test(outcome.message) ? outcome.message : `Code: ${outcome.code}. DB::Exception: ${outcome.message}`;
      return errorResponse({ status: outcome.status, code: outcome.code, message }, request.query_id);
    }
    const headers: Record<string, string> = {
      ...identity,
      "content-type": contentTypeFor(outcome.format),
      "x-clickhouse-format": outcome.format,
      "x-clickhouse-query-id": request.query_id,
      "x-clickhouse-summary": JSON.stringify(outcome.summary ?? {}),
    };
    let payload: Uint8Array = outcome.body;
    const accepted = (req.headers.get("accept-encoding") ?? "").toLowerCase();
    if (request.compress_response && /\bgzip\b/.test(accepted)) {
      payload = gzipSync(payload);
      headers["content-encoding"] = "gzip";
    } else if (request.compress_response && /\bdeflate\b/.test(accepted)) {
      payload = deflateSync(payload);
      headers["content-encoding"] = "deflate";
    }
    return new Response(req.method === "HEAD" ? null : payload, { status: 200, headers });
  };
}
