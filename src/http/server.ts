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
  const routes = new Map<string, Route>([
    ["/health", { method: "GET", handle: () => { const h = deps.health(); return json(h, h.ok ? 200 : 503); } }],
    ["/stats", { method: "GET", handle: () => json(deps.stats()) }],
    [
      "/metrics",
      {
        method: "GET",
        handle: async () => new Response(await metrics.render(deps.stats()), { headers: { "content-type": metrics.contentType } }),
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

  return async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    const route = routes.get(path);
    if (route === undefined) return textError(404, `no such endpoint: ${path} (have: ${[...routes.keys()].join(", ")})`);
    if (req.method !== route.method && !(req.method === "HEAD" && route.method === "GET")) {
      return textError(405, `${req.method} not allowed on ${path}; use ${route.method}`, { allow: route.method });
    }
    try {
      return await route.handle(req);
    } catch (cause) {
      return textError(500, `internal error on ${path}: ${(cause as Error).message}`);
    }
  };
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
