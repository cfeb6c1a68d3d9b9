import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * Who may call the HTTP endpoints (SPEC section 14).
 *
 * Cross-site requests: any web page the operator opens can send a "simple" request (a POST
 * with `Content-Type: text/plain`, a GET) to 127.0.0.1 without a CORS preflight. Browsers
 * name the page's origin in `Origin` (and `Sec-Fetch-Site`) on such requests, so a request
 * naming another origin is refused; clients that are not browsers (curl, Prometheus, client
 * libraries) send no `Origin` and are unaffected. Same origin is the server's own
 * `http://host:port` as the request's `Host` header names it (a page served by the engine).
 *
 * DNS rebinding: a page can make its own host name resolve to 127.0.0.1, and its requests are
 * then same-origin by the check above. A server bound to loopback therefore answers only
 * requests whose `Host` names loopback (localhost, 127.x.x.x, [::1]) or a name the hosts file
 * maps to a loopback address (Debian's `127.0.1.1 <hostname>`, an alias of the user's own): the
 * resolver reads that file before DNS, so a page cannot rebind those names.
 *
 * Bearer token: optional (`http.auth_token`, env SPECTRA_HTTP_TOKEN), compared in constant time.
 */

/** Whether `host` (a name or an address, as in `http.host`) only listens on this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The names a hosts file (`/etc/hosts` syntax) maps to loopback addresses, lower-cased. */
export function loopbackAliases(hostsFile: string): Set<string> {
  const names = new Set<string>();
  for (const line of hostsFile.split("\n")) {
    const [address, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (address !== undefined && isLoopbackHost(address)) for (const alias of aliases) names.add(alias.toLowerCase());
  }
  return names;
}

/** `loopbackAliases` of `/etc/hosts`, read when a server starts; none when it cannot be read. */
export function systemLoopbackAliases(path = "/etc/hosts"): Set<string> {
  try {
    return loopbackAliases(readFileSync(path, "utf8"));
  } catch {
    return new Set();
  }
}

/** Why a loopback-bound server refuses `req` (its Host names another machine), or null. */
export function foreignHostReason(req: Request, aliases: ReadonlySet<string> = new Set()): string | null {
  const host = req.headers.get("host") ?? new URL(req.url).host;
  const name = host.replace(/:\d+$/, "");
  if (isLoopbackHost(name) || aliases.has(name.toLowerCase())) return null;
  return `Host ${JSON.stringify(host)} is not a loopback name, and this server listens on loopback only`;
}

/** The start-up warning for a server reachable from other machines without a token, else null. */
export function exposureWarning(host: string, auth_token: string): string | null {
  if (isLoopbackHost(host) || auth_token !== "") return null;
  return `http.host is ${host}, reachable from other machines, and http.auth_token is empty: anyone who can reach it can read /stats and run queries on /query; set SPECTRA_HTTP_TOKEN or bind 127.0.0.1`;
}

/** Why `req` is a cross-site request (to refuse with 403), or null when it is not one. */
export function crossSiteReason(req: Request): string | null {
  const site = req.headers.get("sec-fetch-site");
  if (site === "cross-site" || site === "same-site") return `the browser marks it Sec-Fetch-Site: ${site}`;
  const origin = req.headers.get("origin");
  if (origin === null) return null;
  const host = (req.headers.get("host") ?? new URL(req.url).host).toLowerCase();
  const o = origin.toLowerCase();
  if (o === `http://${host}` || o === `https://${host}`) return null;
  return `its Origin ${JSON.stringify(origin)} is not this server (http://${host})`;
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/**
 * Whether the `Authorization` header carries `Bearer <token>`. Both sides are hashed first so
 * the comparison takes the same time whatever the length or the first wrong byte.
 */
export function bearerMatches(authorization: string | null, token: string): boolean {
  return tokenMatches(/^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1] ?? "", token);
}

/** Whether `presented` is `token` (non-empty), compared in constant time as `bearerMatches`. */
export function tokenMatches(presented: string, token: string): boolean {
  return timingSafeEqual(digest(presented), digest(token)) && presented !== "";
}
