import type { ClickHouseClient } from "@clickhouse/client";
import { redactSecrets } from "../log/redact.ts";
import { DEFAULT_FORMAT, runReadOnlyQuery } from "../storage/read-only-query.ts";

/**
 * `POST /query` (SPEC section 8): read-only SQL for inspecting data, following ClickHouse's
 * HTTP interface: SQL in the body (or the `query` URL parameter, with the body appended to
 * it), output format from a FORMAT clause or `default_format`, TabSeparated by default,
 * errors as 4xx/5xx with ClickHouse's message and `X-ClickHouse-Exception-Code`.
 *
 * The client must be dedicated to this endpoint: readonly = 1 stays on a chDB connection
 * (see src/storage/read-only-query.ts).
 */
export interface QueryHandlerOptions {
  /** Larger request bodies are refused with 413 before they are read. */
  readonly max_body_bytes: number;
  readonly timeout_ms: number;
}

const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  ["tabseparated", "text/tab-separated-values; charset=UTF-8"],
  ["tsv", "text/tab-separated-values; charset=UTF-8"],
  ["tabseparatedwithnames", "text/tab-separated-values; charset=UTF-8"],
  ["tsvwithnames", "text/tab-separated-values; charset=UTF-8"],
  ["csv", "text/csv; charset=UTF-8; header=absent"],
  ["csvwithnames", "text/csv; charset=UTF-8; header=present"],
  ["json", "application/json; charset=UTF-8"],
  ["jsoncompact", "application/json; charset=UTF-8"],
  ["jsonstrings", "application/json; charset=UTF-8"],
  ["jsoneachrow", "application/x-ndjson; charset=UTF-8"],
  ["jsoncompacteachrow", "application/x-ndjson; charset=UTF-8"],
]);

/** The Content-Type ClickHouse's HTTP interface sends for output `format`. */
export function contentTypeFor(format: string): string {
  return CONTENT_TYPES.get(format.toLowerCase()) ?? "text/plain; charset=UTF-8";
}

function errorResponse(status: number, code: number, message: string): Response {
  return new Response(`${redactSecrets(message)}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=UTF-8", "x-clickhouse-exception-code": String(code) },
  });
}

export async function handleQuery(req: Request, client: ClickHouseClient, opts: QueryHandlerOptions): Promise<Response> {
  if (req.method !== "POST" && req.method !== "GET") return errorResponse(405, 0, "Use POST with the SQL in the body");
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > opts.max_body_bytes) {
    return errorResponse(413, 229, `Code: 229. Query is too large: ${declared} bytes, at most ${opts.max_body_bytes} (QUERY_IS_TOO_LARGE)`);
  }
  const body = await req.text();
  if (Buffer.byteLength(body) > opts.max_body_bytes) {
    return errorResponse(413, 229, `Code: 229. Query is too large: at most ${opts.max_body_bytes} bytes (QUERY_IS_TOO_LARGE)`);
  }
  const params = new URL(req.url).searchParams;
  const param_query = params.get("query");
  const sql = param_query === null ? body : body === "" ? param_query : `${param_query}\n${body}`;
  if (sql.trim() === "") return errorResponse(400, 0, "Empty query: send the SQL in the request body");

  const outcome = await runReadOnlyQuery(client, sql, {
    default_format: params.get("default_format") ?? DEFAULT_FORMAT,
    timeout_ms: opts.timeout_ms,
  });
  if (!outcome.ok) return errorResponse(outcome.status, outcome.code, outcome.message);
  return new Response(outcome.body, {
    status: 200,
    headers: {
      "content-type": contentTypeFor(outcome.format),
      "x-clickhouse-format": outcome.format,
    },
  });
}
