import type { ConnectLimit } from "../types.ts";
import { WindowLimiter } from "./window-limiter.ts";

/**
 * A venue's connection-attempt limit is per IP, and its ingest workers are threads that share
 * no memory for a limiter: each thread gets an equal share of the limit instead. With T threads
 * of a venue family and a limit of M per window W, a thread may connect floor(M/T) times per W
 * (T ≤ M) or once per ceil(W·T/M) (T > M), so the threads together never pass M per W, however
 * their reconnects line up. OKX (3 a second): one thread 3 a second, two or three threads 1 a
 * second each, four threads one every 1.34 s each. The ingest worker counts the threads of its
 * venue's family (pipeline/venue-ingest.ts `connectLimiterFor`).
 */

/** One thread's share of `limit` when `threads` threads draw on it. */
export function splitConnectLimit(limit: ConnectLimit, threads: number): WindowLimiter {
  const t = Math.max(1, threads);
  if (t <= limit.max) return new WindowLimiter(Math.floor(limit.max / t), limit.window_ms);
  return new WindowLimiter(1, Math.ceil((limit.window_ms * t) / limit.max));
}
