import { VENUE_KEYS, type Config, type VenueKey } from "../../config/schema.ts";
import { getVenue } from "../registry.ts";
import type { ConnectLimit } from "../types.ts";
import { WindowLimiter } from "./window-limiter.ts";

/**
 * A venue's connection-attempt limit is per IP, and its ingest workers are threads that share
 * no memory for a limiter: each thread gets an equal share of the limit instead. With T threads
 * of a venue family and a limit of M per window W, a thread may connect floor(M/T) times per W
 * (T ≤ M) or once per ceil(W·T/M) (T > M), so the threads together never pass M per W, however
 * their reconnects line up. OKX (3 a second): one thread 3 a second, two or three threads 1 a
 * second each, four threads one every 1.34 s each.
 */

/** One thread's share of `limit` when `threads` threads draw on it. */
export function splitConnectLimit(limit: ConnectLimit, threads: number): WindowLimiter {
  const t = Math.max(1, threads);
  if (t <= limit.max) return new WindowLimiter(Math.floor(limit.max / t), limit.window_ms);
  return new WindowLimiter(1, Math.ceil((limit.window_ms * t) / limit.max));
}

/** Ingest threads the config starts for every venue of `family`. */
export function familyThreads(config: Config, family: string): number {
  if (config.engine.role === "store") return 0;
  let n = 0;
  for (const key of VENUE_KEYS) {
    if (getVenue(key).connect_limit?.family !== family) continue;
    const cfg = config.venues[key];
    if (cfg.enabled) n += Math.min(cfg.workers, cfg.symbols.length);
  }
  return n;
}

/** This thread's connect limiter for `venue` under `config`, or undefined when the venue states no limit. */
export function connectLimiterFor(config: Config, venue: VenueKey): WindowLimiter | undefined {
  const limit = getVenue(venue).connect_limit;
  return limit === undefined ? undefined : splitConnectLimit(limit, familyThreads(config, limit.family));
}
