import type { Server } from "bun";
import { MetricsExporter } from "./metrics.ts";
import type { HealthReport, StatsSnapshot } from "./stats-types.ts";

/**
 * HTTP endpoints (SPEC section 8) on Bun.serve. The handler is a plain function of a
 * `Request`, so tests call it directly; counters it reports are read from shared memory.
 */

export interface HttpDeps {
  stats(): StatsSnapshot;
  health(): HealthReport;
  /** POST /query handler (embedded ClickHouse only); null when the engine has none. */
  query: ((req: Request) => Promise<Response>) | null;
}

type Route = { readonly method: string; readonly handle: (req: Request) => Promise<Response> | Response };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function textError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

export function createHttpHandler(deps: HttpDeps): (req: Request) => Promise<Response> {
  const metrics = new MetricsExporter();
  /** Refused requests by status code (404, 405, 400, 413, ...), for /stats and /metrics. */
  const refused = new Map<number, number>();
  const routes = new Map<string, Route>([
    ["/health", { method: "GET", handle: () => { const h = deps.health(); return json(h, h.ok ? 200 : 503); } }],
    ["/stats", { method: "GET", handle: () => json({ ...deps.stats(), http: { refused_requests: Object.fromEntries(refused) } }) }],
    [
      "/metrics",
      {
        method: "GET",
        handle: async () => new Response(await metrics.render(deps.stats(), refused), { headers: { "content-type": metrics.contentType } }),
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
