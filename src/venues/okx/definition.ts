import type { VenueConfig, VenueKey } from "../../config/schema.ts";
import type { DataType, MarketType } from "../../records/types.ts";
import type { ConnectLimit } from "../types.ts";
import { claimsByHost, onDomain } from "../url-claims.ts";
import type { VenueDefinition, VenueIngest, VenueInstruments } from "../venue-definition.ts";
import { OKX_TRADE_BACKFILL, okxPolls, okxRubikPeriod } from "./channels.ts";
import { OkxConnection, type OkxTuning } from "./connection.ts";
import { addOkxInstruments } from "./instruments.ts";
import { OKX_CONNECTS_PER_S } from "./limits.ts";
import { OKX_SPOT_LISTING, OKX_SWAP_LISTING } from "./listing.ts";
import { OkxNormalizer } from "./normalizer.ts";
import { okxLoginConfigErrors } from "./requests.ts";
import { OKX_REST_LIMITS } from "./rest-weights.ts";

/**
 * OKX spot and swaps (SPEC section 1 table): books checked by sequence and CRC32 and resynced
 * by resubscribing, long/short ratios polled from rubik, a hole in a trade stream filled from
 * the REST trade history (channels.ts OKX_TRADE_BACKFILL).
 */

/** okx_spot and okx_derivatives share one per-IP connection-attempt limit. */
const OKX_CONNECT_LIMIT: ConnectLimit = { family: "okx", max: OKX_CONNECTS_PER_S, window_ms: 1000 };

const POLLED: readonly DataType[] = ["lsr_top_position", "lsr_all_account"];

function instruments(instType: "SPOT" | "SWAP"): VenueInstruments {
  return { paths: [`/api/v5/public/instruments?instType=${instType}`], reference_file: "okx_instruments.jsonl", add: addOkxInstruments };
}

/** Both OKX venues ingest alike; a gap without an instrument takes the venue's market type. */
function ingest(gap_market_type: MarketType): VenueIngest<OkxTuning> {
  return {
    connect: (ctx) => new OkxConnection(ctx),
    polls: (config, symbols, instruments) => okxPolls(symbols, config.data_types, config.poll_period, instruments),
    polled_types: POLLED,
    backfill: OKX_TRADE_BACKFILL,
    gap_market_type,
  };
}

/** A ratio bucket rubik does not have, or a book channel that needs a login without credentials. */
function okxConfigErrors(venue: VenueKey, config: VenueConfig, env: Readonly<Record<string, string | undefined>>): string[] {
  const errors: string[] = [];
  if (config.data_types.some((t) => POLLED.includes(t)) && okxRubikPeriod(config.poll_period) === undefined) {
    errors.push(`'venues.${venue}.poll_period' = "${config.poll_period}": OKX long/short ratios come in 5m or 1h buckets`);
  }
  errors.push(...okxLoginConfigErrors(venue, config, env));
  return errors;
}

/**
 * OKX hosts, okex.com (its name until 2022) included: www, aws, ws, wsaws, wspap. Spot and swaps
 * share hosts and one capture file; each instrument's market type comes from its metadata.
 */
const isOkxHost = (host: string): boolean => onDomain(host, "okx.com") || onDomain(host, "okex.com");

export const okxSpot: VenueDefinition<OkxTuning> = {
  key: "okx_spot",
  exchange: "okx",
  short_name: "okx_spot",
  rest_limits: OKX_REST_LIMITS,
  data_types: ["trade", "orderbook", "orderbook_delta"],
  connect_limit: OKX_CONNECT_LIMIT,
  book_checks: ["sequence", "checksum"],
  refuses_subscriptions: true,
  instruments: instruments("SPOT"),
  listing: OKX_SPOT_LISTING,
  ingest: ingest("spot"),
  configErrors: (config, env) => okxConfigErrors("okx_spot", config, env),
  createNormalizer: (options) => new OkxNormalizer(true, options),
  claims: claimsByHost("okx_spot", isOkxHost),
  recording_file: "okx.jsonl",
};

export const okxDerivatives: VenueDefinition<OkxTuning> = {
  key: "okx_derivatives",
  exchange: "okx",
  short_name: "okx_perp",
  rest_limits: OKX_REST_LIMITS,
  data_types: ["trade", "orderbook", "orderbook_delta", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"],
  connect_limit: OKX_CONNECT_LIMIT,
  book_checks: ["sequence", "checksum"],
  refuses_subscriptions: true,
  instruments: instruments("SWAP"),
  listing: OKX_SWAP_LISTING,
  ingest: ingest("perpetual"),
  configErrors: (config, env) => okxConfigErrors("okx_derivatives", config, env),
  createNormalizer: (options) => new OkxNormalizer(false, options),
  claims: claimsByHost("okx_derivatives", isOkxHost),
  recording_file: "okx.jsonl",
};
