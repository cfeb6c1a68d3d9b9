/**
 * Constants of the configuration that code outside the config loader needs. They live apart
 * from the schema (schema.ts) so that worker threads, which receive a validated config and never
 * validate one, do not load zod: zod and the schema built from it cost each thread about 5.6 MB
 * (a scratch worker importing schema.ts: 9.4 MB against 3.8 MB for an empty one, six workers).
 */

/** The venues, each an exchange's market: `venues.<key>` in the config. */
export const VENUE_KEYS = [
  "binance_spot",
  "binance_derivatives",
  "okx_spot",
  "okx_derivatives",
  "deribit_derivatives",
] as const;
export type VenueKey = (typeof VENUE_KEYS)[number];

/** Levels per side a Binance REST depth snapshot may ask for (`orderbook.snapshot_limit`). */
export const SNAPSHOT_LIMITS = [5, 10, 20, 50, 100, 500, 1000] as const;

/**
 * The ingest workers a venue runs, from `venues.<v>.workers`: a number, or `shared` for one, in
 * the thread every shared venue shares (src/supervisor/topology.ts).
 */
export function venueWorkerCount(config: { readonly workers: number | "shared" }): number {
  return config.workers === "shared" ? 1 : config.workers;
}
