import type { VenueKey } from "../config/schema.ts";

/**
 * Which venue a captured line's URL belongs to (`--replay DIR` on a capture, src/replay/capture-source.ts).
 * A venue claims its public hosts, those of earlier years included (okex.com, stream.binance.com),
 * and the simulator's path prefix `/<venue key>` that `--record` writes in replay mode.
 */
export function claimsByHost(key: VenueKey, claimsHost: (host: string, path: string) => boolean): (url: string) => boolean {
  return (url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    const path = parsed.pathname;
    if (path === `/${key}` || path.startsWith(`/${key}/`)) return true;
    return claimsHost(parsed.hostname.toLowerCase(), path);
  };
}

/** `host` is `domain` or one of its subdomains. */
export const onDomain = (host: string, domain: string): boolean => host === domain || host.endsWith(`.${domain}`);
