import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { redactSecrets } from "../log/redact.ts";
import { MetricsExporter } from "./metrics.ts";
import { bearerMatches, crossSiteReason, foreignHostReason } from "./security.ts";
import type { HealthReport, StatsSnapshot } from "./stats-types.ts";
import type { LatencySeries } from "../stats/latency.ts";

/**
 * HTTP endpoints (SPEC sections 8 and 14) on Bun.serve. The handler is a plain function of a
 * `Request`, so tests call it directly; counters it reports are read from shared memory.
 *
 * Before routing: a cross-site request, or on a loopback-bound server a request whose Host
 * names another machine (DNS rebinding; src/http/security.ts), gets 403 on every endpoint but
 * `GET /health` and `GET /metrics`, and with a token set `/query` and `/stats` answer 401
 * without `Authorization: Bearer <token>`. Every body passes `redactSecrets`, so no password,
 * token or URL credential reaches a response.
 *
 * `GET /` is the live page (live-page.html): static, with no data of its own, so it needs no
 * token; it reads `/stats` every second, sending the token when the engine has one.
 */

export interface HttpDeps {
  stats(): StatsSnapshot;
  health(): HealthReport;
  /** POST /query handler (embedded ClickHouse only); null when the engine has none. */
  query: ((req: Request) => Promise<Response>) | null;
  /** Latency histograms for /metrics (src/stats/latency.ts); none when absent. */
  latency?(): readonly LatencySeries[];
}

export interface HttpOptions {
  /** Bearer token /query and /stats require; empty: none. */
  readonly auth_token: string;
  /** The server listens on loopback: requests whose Host names another machine get 403. */
  readonly loopback_only: boolean;
  /** Names besides localhost and loopback addresses that such a server answers (`systemLoopbackAliases`); default none. */
  readonly loopback_aliases?: ReadonlySet<string>;
}

/** Endpoints a monitor reads from anywhere: health checks and Prometheus, with no data behind them. */
const OPEN_PATHS: ReadonlySet<string> = new Set(["/health", "/metrics"]);
/** Endpoints the token guards. */
const TOKEN_PATHS: ReadonlySet<string> = new Set(["/query", "/stats"]);

/** The live page, read once; it runs its script inline and may only talk to this server. */
const LIVE_PAGE = readFileSync(join(import.meta.dir, "live-page.html"), "utf8");
const LIVE_PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};

type Route = { readonly method: string; readonly handle: (req: Request) => Promise<Response> | Response };

function json(body: unknown, status = 200): Response {
  return new Response(redactSecrets(JSON.stringify(body)), { status, headers: { "content-type": "application/json" } });
}

function textError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${redactSecrets(message)}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

export function createHttpHandler(deps: HttpDeps, opts: HttpOptions = { auth_token: "", loopback_only: false }): (req: Request) => Promise<Response> {
  const metrics = new MetricsExporter();
  /** Refused requests by status code (404, 405, 400, 413, ...), for /stats and /metrics. */
  const refused = new Map<number, number>();
  const routes = new Map<string, Route>([
    ["/", { method: "GET", handle: () => new Response(LIVE_PAGE, { headers: LIVE_PAGE_HEADERS }) }],
    ["/health", { method: "GET", handle: () => { const h = deps.health(); return json(h, h.ok ? 200 : 503); } }],
    ["/stats", { method: "GET", handle: () => json({ ...deps.stats(), http: { refused_requests: Object.fromEntries(refused) } }) }],
    [
      "/metrics",
      {
        method: "GET",
        handle: async () => new Response(redactSecrets(await metrics.render(deps.stats(), refused, deps.latency?.() ?? [])), { headers: { "content-type": metrics.contentType } }),
      },
    ],
    [
      "/query",
      {
        method: "POST",
        handle: (req) =>
          deps.query === null
            ? textError(501, "POST /query is served only with embedded ClickHouse; query the ClickHouse server directly")
            : deps.query(req),
      },
    ],
  ]);

  const count = (res: Response): Response => {
    if (res.status >= 400) refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
    return res;
  };
  return async (req: Request): Promise<Response> => count(await route(req));

  async function route(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const open = OPEN_PATHS.has(path) && (req.method === "GET" || req.method === "HEAD");
    const crossSite = open ? null : (opts.loopback_only ? foreignHostReason(req, opts.loopback_aliases) : null) ?? crossSiteReason(req);
    if (crossSite !== null) return textError(403, `cross-site request refused: ${crossSite}`);
    if (TOKEN_PATHS.has(path) && opts.auth_token !== "" && !bearerMatches(req.headers.get("authorization"), opts.auth_token)) {
      return textError(401, `${path} needs the header Authorization: Bearer <http.auth_token>`, { "www-authenticate": 'Bearer realm="spectra"' });
    }
    const match = routes.get(path);
    if (match === undefined) return textError(404, `no such endpoint: ${path} (have: ${[...routes.keys()].join(", ")})`);
    if (req.method !== match.method && !(req.method === "HEAD" && match.method === "GET")) {
      return textError(405, `${req.method} not allowed on ${path}; use ${match.method}`, { allow: match.method });
    }
    try {
      return await match.handle(req);
    } catch (cause) {
      return textError(500, `internal error on ${path}: ${(cause as Error).message}`);
    }
  }
}

/** Raised when the HTTP port cannot be bound. */
export class HttpBindError extends Error {
  override readonly name = "HttpBindError";
}

export function startHttpServer(host: string, port: number, handler: (req: Request) => Promise<Response>): Server<undefined> {
  try {
    return Bun.serve({ hostname: host, port, fetch: handler });
  } catch (cause) {
    throw new HttpBindError(
      `cannot listen on http://${host}:${port}: ${(cause as Error).message} (is another engine running? set http.port or SPECTRA_HTTP_PORT)`,
      { cause },
    );
  }
}
