import type { VenueConfig, VenueKey } from "../config/schema.ts";
import type { DataType, Exchange, MarketType } from "../records/types.ts";
import type { HistorySpan, PollStamp } from "./connection/missed-buckets.ts";
import type { VenueRestLimits } from "./connection/rest-budget.ts";
import type { VenueTradeBackfill } from "./connection/trade-pages.ts";
import type { ConnectionContext, VenueConnection } from "./connection/venue-connection.ts";
import type { WsGap } from "./connection/ws-client.ts";
import type { ConnectLimit, Instrument, InstrumentMap, Normalizer, NormalizerOptions } from "./types.ts";

/**
 * What a venue is to the engine: everything venue-specific that code outside the venue's folder
 * needs (its connections, polls, instrument metadata, recovery after a hole, config checks,
 * normalizer). Each venue folder's definition.ts builds one per venue key and the registry
 * lists them; nothing outside a venue folder and the registries branches on a venue's name.
 * Its simulated server and generator are listed apart (sim-registry.ts), so the threads that
 * collect do not load the simulator.
 */

/**
 * Where a venue's instrument metadata comes from and how it is read (SPEC section 1: symbols
 * come from base/quote assets, never from guessing quote suffixes).
 */
export interface VenueInstruments {
  /** REST paths (relative to the venue's rest_url) whose bodies describe the venue's instruments. */
  readonly paths: readonly string[];
  /** The recorded metadata file inside `fixtures/exchanges/reference/`. */
  readonly reference_file: string;
  /**
   * Adds the instruments of one parsed body to `out`, leaving out those the venue does not
   * collect (Binance delivery contracts, OKX FUTURES/OPTION). Throws `InstrumentError` when the
   * body is not metadata at all.
   */
  add(json: unknown, out: Map<string, Instrument>): void;
}

/** What a symbol selector reads from a venue besides its instrument map (src/venues/selection.ts). */
export interface VenueListing {
  /** Native ids the metadata bodies (`instruments.paths`) list as trading now. */
  trading(bodies: readonly string[]): Set<string>;
  /** The venue's 24 h ticker list, relative to rest_url; undefined: the venue has none to rank by. */
  readonly ticker_path: string | undefined;
  /** 24 h quote volume per native id in a ticker body; ids without a readable volume are absent. */
  quoteVolumes(body: string): Map<string, number>;
}

/** A REST GET whose body goes to the normalizer as an `http` frame. */
export interface VenueRequest {
  /** Path and query, relative to the venue's rest_url. */
  readonly path: string;
  /** The ingest stats channel a failure is counted on (`premiumIndex`, `get_volatility_index_data`). */
  readonly channel: string;
  /** A recovery after a hole: the symbol and data type whose gap row gets the records it emits (recovered-gaps.ts). */
  readonly recovers?: { readonly native: string; readonly data_type: DataType };
}

/** A REST poll for data without a push channel, fetched once per `poll_period` bucket. */
export interface VenuePoll {
  readonly data_type: DataType;
  readonly native: string;
  /** Path and query, relative to the venue's rest_url. */
  readonly path: string;
  /** Which bucket the poll's record falls in (missed-buckets.ts). */
  readonly stamp: PollStamp;
  /**
   * Path and query of the venue's history of this data over `span`, relative to rest_url: what
   * fills a bucket the poll missed. Its records are the ones the normalizer makes of the live
   * poll's body, with the same natural keys.
   */
  history(span: HistorySpan): string;
}

/**
 * What the ingest runner (src/venues/ingest.ts) asks of a venue besides its normalizer. `T` is
 * the venue's own connection tuning keys.
 */
export interface VenueIngest<T extends object = object> {
  /** Opens the venue's connections for one worker's shard and subscribes its channels. */
  connect(ctx: ConnectionContext<T>): VenueConnection;
  /** Bucket-aligned REST polls for `symbols` (native) under `config`. */
  polls(config: VenueConfig, symbols: readonly string[], instruments: InstrumentMap): readonly VenuePoll[];
  /** Data types that come from REST polls only: a socket hole leaves no gap in them. */
  readonly polled_types: readonly DataType[];
  /** The REST depth snapshot path of one symbol, on venues whose books sync from REST. */
  snapshotPath?(native: string, limit: number): string;
  /**
   * What REST gives back after a socket hole in `natives`; `carried` are the data types the
   * lost connection carried (all of the venue's when undefined).
   */
  recover?(gap: WsGap, natives: readonly string[], carried: readonly DataType[] | undefined, config: VenueConfig): readonly VenueRequest[];
  /**
   * How the venue's REST trade history pages, for the backfill of a hole in a trade stream
   * (src/venues/trade-gaps.ts); venues without one (or without trades) leave trade holes open.
   */
  readonly backfill?: VenueTradeBackfill;
  /** Recovery requests run one at a time, at most this many starts a second; unpaced when absent. */
  readonly recover_per_s?: number;
  /** A REST request that stands in for a channel that fell silent, if the venue has one. */
  onStale?(channel: string): VenueRequest | undefined;
  /** `market_type` of the gap records of a symbol that has no instrument metadata. */
  readonly gap_market_type: MarketType;
}

/** A venue: one folder under src/venues, one line in the registry. `T`: its connection tuning keys. */
export interface VenueDefinition<T extends object = object> {
  readonly key: VenueKey;
  readonly exchange: Exchange;
  /** The venue in worker thread names (Linux keeps 15 characters of a thread name), e.g. `bn_spot`. */
  readonly short_name: string;
  /** Data types this venue can collect. */
  readonly data_types: readonly DataType[];
  /**
   * The venue's limit on connection attempts per IP, shared by every venue key of one `family`
   * (okx_spot and okx_derivatives are one OKX): src/venues/connection/connect-share.ts.
   */
  readonly connect_limit?: ConnectLimit;
  /** How the venue's book updates can be checked: an update id chain, a checksum, both or none. */
  readonly book_checks: readonly ("sequence" | "checksum")[];
  /**
   * Whether the venue's simulated server can refuse one symbol's subscriptions (the
   * `subscribe_refused` fault, src/replay/sim-faults.ts): OKX and Deribit answer a subscription
   * of an instrument they do not serve with a refusal; absent on Binance, whose simulated server
   * has none to show.
   */
  readonly refuses_subscriptions?: true;
  /** REST limits and request weights (the venue folder's rest-weights.ts). */
  readonly rest_limits: VenueRestLimits;
  readonly instruments: VenueInstruments;
  readonly listing: VenueListing;
  readonly ingest: VenueIngest<T>;
  /**
   * What an enabled venue's config asks that the venue cannot give, besides data types it does
   * not offer: each message names the key, the value and what is allowed (topology.ts).
   */
  configErrors?(config: VenueConfig, env: Readonly<Record<string, string | undefined>>): string[];
  createNormalizer(options: NormalizerOptions): Normalizer;
  /**
   * Whether a captured line's URL is this venue's (its hosts, old ones included, or the
   * simulator's `/<key>` prefix): how `--replay DIR` assigns a capture's lines (url-claims.ts).
   */
  claims(url: string): boolean;
  /** The recording file the venue's simulated server replays (`binance_spot.jsonl`, `okx.jsonl`). */
  readonly recording_file: string;
}

