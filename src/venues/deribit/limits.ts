import type { VenueConfig } from "../../config/schema.ts";
import { venueWorkerCount } from "../../config/venue-keys.ts";

/**
 * Deribit limits, as the venue documents them (checked 2026-12):
 * https://docs.deribit.com/articles/connection-management-best-practices
 *   at most 32 simultaneous connections per IP, authenticated or not: every open WebSocket, and
 *   every HTTP request for its duration; a 33rd is refused with HTTP 429.
 * https://docs.deribit.com/articles/rate-limits
 *   requests draw credits from a pool that refills continuously (a leaky bucket);
 *   for public requests about 20 a second sustained (500 credits a request, 10,000 credits a
 *   second refill, 50,000 pool: a burst of 100). A request that finds no credits gets
 *   `too_many_requests` (10028) and the session is closed.
 * The simulator enforces the connection cap (sim-protocol.ts); the engine stays under both with
 * a cap on workers and one paced REST request at a time per worker.
 */

/** Simultaneous connections per IP, HTTP and WebSocket together. */
export const DERIBIT_MAX_CONNECTIONS = 32;
/** Public requests per second, sustained, from the credit pool. */
export const DERIBIT_REQUESTS_PER_S = 20;
/**
 * Connections one Deribit ingest worker holds at most: its WebSocket and one REST request at a
 * time (instrument metadata at start, then backfills one after another over one keep-alive
 * connection). `venues.deribit_derivatives.workers` is capped so every worker fits under 32.
 */
export const DERIBIT_CONNECTIONS_PER_WORKER = 2;
/**
 * REST requests one Deribit ingest worker starts per second at most: the credit pool's rate
 * shared by the most workers the connection cap allows (20 / 16, so 1).
 */
export const DERIBIT_WORKER_REQUESTS_PER_S = Math.floor(DERIBIT_REQUESTS_PER_S / Math.floor(DERIBIT_MAX_CONNECTIONS / DERIBIT_CONNECTIONS_PER_WORKER));

/** A config error when the Deribit ingest workers could open more than 32 connections at once. */
export function deribitConnectionConfigErrors(config: VenueConfig): string[] {
  const workers = Math.min(venueWorkerCount(config), config.symbols.length);
  if (workers * DERIBIT_CONNECTIONS_PER_WORKER <= DERIBIT_MAX_CONNECTIONS) return [];
  const most = Math.floor(DERIBIT_MAX_CONNECTIONS / DERIBIT_CONNECTIONS_PER_WORKER);
  return [
    `'venues.deribit_derivatives.workers' = ${config.workers}: each worker holds up to ${DERIBIT_CONNECTIONS_PER_WORKER} connections and Deribit allows ${DERIBIT_MAX_CONNECTIONS} per IP, so at most ${most}`,
  ];
}
