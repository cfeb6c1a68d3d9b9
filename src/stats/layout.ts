import { VENUE_KEYS, type VenueKey } from "../config/venue-keys.ts";
import { RECORD_TYPES, type RecordType } from "../records/types.ts";
import { latencyCounterNames } from "./latency.ts";

/**
 * The names of every shared counter. Built from constants only, so the supervisor and every
 * worker compute the same slot indices. Per-venue and per-type names are listed for all
 * venues and types (disabled ones stay at zero) to keep /metrics label sets stable.
 */

export const VENUE_COUNTERS = [
  /** Frames received (WS messages and REST bodies). */
  "messages_in",
  "reconnects",
  /** Wall time of the last frame, ms. */
  "last_message_ms",
  /** 1 while at least one connection of the venue is open. */
  "connected",
  /** Frames not recognized (unknown shape or channel). */
  "unrecognized",
  /** Recognized frames that were malformed. */
  "errors",
  /** Book resyncs and sequence/checksum gaps. */
  "resyncs",
  /** Error replies the venue sent (OKX `"event":"error"`, Deribit JSON-RPC errors) and request budgets the engine ran out of. */
  "error_events",
  /** WebSocket connections open now (every worker of the venue adds its own). */
  "open_connections",
  /** Requests the engine sent over its WebSocket connections (Binance SUBSCRIBE). */
  "ws_requests",
  /** The most requests one connection sent within one second (the venue's incoming-message limit). */
  "ws_requests_peak_per_s",
  /** Connections the venue closed for rate (1008), announced as shutting down, or that fell silent. */
  "ws_incidents",
  /** REST weight drawn from the venue's budget (requests sent, by their documented weight). */
  "rest_weight",
  /** REST answers 429 (too many requests). */
  "rest_429",
  /** REST answers 418 (IP banned). */
  "rest_418",
  /** Starts of a venue shard that failed (its metadata could not be read, say); each is tried again with backoff. */
  "start_failures",
  /** Frames the venue's normalizer threw on (a bug): each dropped, the shard kept running (src/venues/ingest.ts). */
  "normalizer_exceptions",
  /** Trade backfills after a gap that stopped short: refused, stuck on one page, or past the page bound (src/venues/trade-gaps.ts). */
  "trade_backfill_failures",
  /** Symbols the venue's ingest workers collect now (resolved from the config and the venue's metadata). */
  "symbols",
  /** Listings subscribed and delistings dropped by instrument refreshes. */
  "symbols_added",
  "symbols_removed",
  /** Instrument metadata reads that succeeded (start included), and those that failed. */
  "instrument_refreshes",
  "instrument_refresh_failures",
  /** Wall time of the last metadata read that succeeded, ms. */
  "last_instrument_refresh_ms",
] as const;

export const TYPE_COUNTERS = [
  /** Records written to rings by ingest workers. */
  "ingested",
  /** Records acknowledged by JetStream. */
  "published",
  /** Records committed to ClickHouse. */
  "stored",
  /** Records dropped because a ring stayed full (each drop also emits a gap). */
  "dropped",
  /** Records or messages kept in the dead-letter stream (without NATS: refused records, logged). */
  "dead_lettered",
  /** Second deliveries of messages the storage consumer held or had stored, acked without storing them again. */
  "duplicate_deliveries",
  /**
   * Records of messages the stream dropped on their first publish as duplicates of a message it
   * already held with the same Nats-Msg-Id (its duplicate window): records with the natural keys
   * of records already published (a venue repeated a record, or a restarted batch worker
   * republished its ring), never stored again. A retry the stream recognises is not one.
   */
  "duplicate_publishes",
  "publish_errors",
  "insert_errors",
  /** Duration of the last ClickHouse insert, ms. */
  "last_insert_ms",
  /** Rows of the last ClickHouse insert. */
  "last_insert_rows",
  /** Messages waiting in the durable consumer (JetStream num_pending). */
  "consumer_pending",
] as const;

export type VenueCounter = (typeof VENUE_COUNTERS)[number];
export type TypeCounter = (typeof TYPE_COUNTERS)[number];

export function venueCounter(venue: VenueKey, name: VenueCounter): string {
  return `venue.${venue}.${name}`;
}

export function typeCounter(type: RecordType, name: TypeCounter): string {
  return `type.${type}.${name}`;
}

export function counterNames(): string[] {
  const names: string[] = [];
  for (const venue of VENUE_KEYS) for (const name of VENUE_COUNTERS) names.push(venueCounter(venue, name));
  for (const type of RECORD_TYPES) for (const name of TYPE_COUNTERS) names.push(typeCounter(type, name));
  names.push(...latencyCounterNames());
  return names;
}
