import type { VenueKey } from "../config/schema.ts";
import type { FeedFrame, ReplayFeed } from "./feed.ts";
import type { SimAsset } from "./generated-book.ts";
import type { GeneratedFeed } from "./live-feed.ts";
import type { RecordedLine } from "./recording.ts";
import type { SimSession, SimSocket } from "./sim-connection.ts";
import type { ReferenceBodies } from "./sim-rest.ts";
import type { SimViolations } from "./sim-violations.ts";

/**
 * The contract between the simulator (simulator.ts: one server, the feeds' pacing, REST limits,
 * faults) and each venue folder's simulated server (src/venues/<venue>/sim-venue.ts: its
 * recordings or generated markets, subscribe protocol, rules and REST routes). A venue's
 * definition carries the function that starts it and its part of the built-in generator; venue
 * keys whose definitions carry the same function share one SimVenue, as okx_spot and
 * okx_derivatives share one OKX (one feed, one IP's limits).
 */

/** Venue rules shortened for tests; each venue applies those its protocol has. */
export interface SimProtocolOptions {
  /** Ms between the pings a venue's server sends (Binance: 20 s); 0 = none. */
  readonly ping_interval_ms?: number;
  /** Lifetime of a connection on venues that end one after a while (Binance: 24 h, `serverShutdown` before the close), ms. */
  readonly lifetime_ms?: number;
  /** Connection attempts accepted in a window (Binance: 300 per 5 min per venue key; OKX: 3 a second per IP). */
  readonly connect_limit?: { readonly max: number; readonly window_ms: number };
  /** Ms of client silence after which a venue that closes silent connections closes one (OKX: 30 s). */
  readonly idle_ms?: number;
}

/** What the simulator gives a venue's simulated server when it starts. */
export interface SimEnvironment {
  /** The lines of one fixture file (`okx.jsonl`); [] when absent (RecordingSource.read). */
  read(file: string): RecordedLine[];
  /** Instrument metadata bodies of the same source. */
  readonly refs: ReferenceBodies;
  /**
   * The built-in generator's assets when it drives the feeds step by step (live-feed.ts; `read`
   * then gives no recording): the venue builds its generated markets for them (its folder's
   * sim-generator.ts), and its REST answers and pushes read their books and prices from them.
   */
  readonly assets: readonly SimAsset[] | undefined;
  /** Wall-clock start, ms, which places loop 0 on the loop grid (feed.ts). */
  readonly start_ms: number;
  readonly violations: SimViolations;
  readonly options: SimProtocolOptions;
  /** Sends a control message (ack, pong, error, heartbeat) unless a `silence` fault holds the venue; false when held. */
  reply(ws: SimSocket, text: string): boolean;
  /** Whether a `silence` fault holds `venue` now: its server sends nothing, pings included. */
  silenced(venue: VenueKey): boolean;
  /** Whether a `subscribe_refused` fault has `venue` refuse a subscription of `native` now (counted as the fault's effect). */
  refusesSubscription(venue: VenueKey, native: string): boolean;
  /** WebSocket connections of `venue` open now. */
  connections(venue: VenueKey): number;
}

/** One venue folder's simulated server, for the venue keys whose definitions carry it. */
export interface SimVenue {
  /** The recording played to `venue`'s connections; keys given the same feed share one cursor. */
  feed(venue: VenueKey): ReplayFeed;
  /** The generated feeds this server's connections receive (live-feed.ts); none when it replays recordings. */
  readonly generated: readonly GeneratedFeed[];
  /** Native symbols `venue`'s data (recorded or generated) carries. */
  symbols(venue: VenueKey): string[];
  /** A WebSocket handshake on `path` (below the venue prefix): the connection's session, or the venue's refusal. */
  admit(venue: VenueKey, path: string, query: URLSearchParams): SimSession | Response;
  /** The answer to a REST request on `path` (below the venue prefix) that the venue's limits let through. */
  rest(venue: VenueKey, path: string, query: URLSearchParams): Response;
  /** The push, once per synthetic tick, of a subscription key that has no recording; null when `key` is not one. */
  push(venue: VenueKey, key: string, now_ms: number, n: number): string | null;
  /** Whether `frame` is a book update (what `sequence_gap` and `checksum` faults act on). */
  isBookUpdate(frame: Pick<FeedFrame, "key" | "snapshot">): boolean;
  /** The venue's own figures for `GET /simulator/stats`, merged into its top level. */
  stats(): Record<string, unknown>;
  /** Ends the venue's timers. */
  stop(): void;
}

export type StartSimVenue = (env: SimEnvironment) => SimVenue;

/**
 * What the simulator needs of a venue (src/venues/sim-registry.ts): its simulated server and
 * its part of the built-in generator. Venue keys of one server carry the same pair.
 */
export interface VenueSim {
  readonly start: StartSimVenue;
  readonly generator: SimGenerator;
}

/** A venue folder's part of the built-in generator (its sim-generator.ts). */
export interface SimGenerator {
  /**
   * The fixture files (recordings, `reference/` metadata) the venue's generated markets stand in
   * for, for `assets`, each rendered on first use (src/replay/generator.ts generatedFiles).
   */
  files(assets: readonly SimAsset[]): ReadonlyMap<string, () => RecordedLine[]>;
}
