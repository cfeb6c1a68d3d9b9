import { claimsByHost, onDomain } from "../url-claims.ts";
import type { VenueDefinition } from "../venue-definition.ts";
import { deribitVolatilityIndexPath } from "./channels.ts";
import { DeribitConnection, type DeribitTuning } from "./connection.ts";
import { addDeribitInstruments } from "./instruments.ts";
import { deribitConnectionConfigErrors, DERIBIT_WORKER_REQUESTS_PER_S } from "./limits.ts";
import { DERIBIT_LISTING } from "./listing.ts";
import { DeribitNormalizer } from "./normalizer.ts";
import { DERIBIT_REST_LIMITS } from "./rest-weights.ts";

/**
 * Deribit: the DVOL volatility index (SPEC section 1 table), one per currency. A hole is filled
 * from REST (`public/get_volatility_index_data`, 1 s candles, SPEC section 1 "REST for
 * backfill"), one request at a time, paced under the IP's connection cap and credit pool.
 * Deribit trades are not collected (SPEC section 1 table), so it has no trade backfill.
 */
export const deribitDerivatives: VenueDefinition<DeribitTuning> = {
  key: "deribit_derivatives",
  exchange: "deribit",
  short_name: "drb",
  rest_limits: DERIBIT_REST_LIMITS,
  data_types: ["volatility_index"],
  book_checks: [],
  refuses_subscriptions: true,
  instruments: {
    paths: ["/api/v2/public/get_instruments?currency=BTC&expired=false", "/api/v2/public/get_instruments?currency=ETH&expired=false"],
    reference_file: "deribit_instruments.jsonl",
    add: addDeribitInstruments,
  },
  listing: DERIBIT_LISTING,
  ingest: {
    connect: (ctx) => new DeribitConnection(ctx),
    polls: () => [],
    polled_types: [],
    recover: (gap, currencies, _carried, config) =>
      config.data_types.includes("volatility_index")
        ? currencies.map((currency) => ({
            path: deribitVolatilityIndexPath(currency, gap.start_ts_ms, gap.end_ts_ms, "1"),
            channel: "get_volatility_index_data",
            recovers: { native: currency, data_type: "volatility_index" as const },
          }))
        : [],
    recover_per_s: DERIBIT_WORKER_REQUESTS_PER_S,
    gap_market_type: "options",
  },
  configErrors: (config) => deribitConnectionConfigErrors(config),
  createNormalizer: (options) => new DeribitNormalizer(options),
  claims: claimsByHost("deribit_derivatives", (host) => onDomain(host, "deribit.com")),
  recording_file: "deribit.jsonl",
};
