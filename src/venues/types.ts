import type { DataType, MarketRecord, MarketType } from "../records/types.ts";
import type { NormalizerStats } from "./normalizer-stats.ts";

/**
 * Contracts between the venue layer (connections, mappers, books) and the rest of the engine.
 * The same Normalizer runs inside ingest workers and in `bun run normalize`, so what the CLI
 * prints is exactly what the engine would publish.
 */

/** One received frame, in the fixture line format's terms (`recv_ts` converted to ms). */
export interface RawFrame {
  readonly source: "ws" | "http";
  /** WS connection URL or REST request URL. Informational except for REST routing by path. */
  readonly url: string;
  readonly recv_ts_ms: number;
  /** The message text exactly as received. */
  readonly raw: string;
}

/** Instrument metadata for one venue-native instrument id. */
export interface Instrument {
  /** Venue-native id: BTCUSDT, BTC-USDT-SWAP, BTC-24SEP21-8000-P. */
  readonly native: string;
  readonly base: string;
  readonly quote: string;
  readonly market_type: MarketType;
  /** Normalized BASE-QUOTE symbol. */
  readonly symbol: string;
}

/** Instruments by venue-native id. */
export type InstrumentMap = ReadonlyMap<string, Instrument>;

/** Health of one local order book. */
export interface BookHealth {
  readonly symbol: string;
  readonly native: string;
  readonly state: "syncing" | "live" | "stale";
  readonly resyncs: number;
  readonly checksum_failures: number;
  readonly sequence_gaps: number;
  /** Exchange time of the last applied update, ms (0 before the first). */
  readonly last_update_ts_ms: number;
}

/** A book's check of itself (`TrackedBook.verify`): `problem` is undefined when it holds. */
export interface BookVerdict {
  readonly native: string;
  readonly state: BookHealth["state"];
  readonly problem: string | undefined;
}

export interface NormalizerOptions {
  /**
   * Venue-native instrument ids this normalizer is responsible for; an empty list means every
   * instrument of the venue found in `instruments` (the normalize CLI keeps all it reads).
   */
  readonly symbols: readonly string[];
  readonly data_types: readonly DataType[];
  /** Levels per side in orderbook records. */
  readonly depth: number;
  /** Milliseconds between orderbook records per symbol, by exchange time; 0 = every update. */
  readonly snapshot_interval_ms: number;
  readonly instruments: InstrumentMap;
  /** Receives every normalized record, in order. */
  readonly emit: (record: MarketRecord) => void;
}

export interface Normalizer {
  /** Feeds one frame. Never throws on bad input: it is counted in `stats`. */
  push(frame: RawFrame): void;
  /**
   * Native symbols whose books need a REST snapshot now (initial sync or resync). The
   * connection layer fetches each and pushes the body back as an `http` frame. Asked after
   * every frame, so it costs nothing when no book wants one (`NO_REQUESTS`).
   */
  takeSnapshotRequests(): readonly string[];
  /**
   * The snapshot request for `native` goes on the wire at `sent_ms`: diffs received well before
   * it are older than the snapshot it brings, so the book stops keeping them (a book waiting
   * minutes for the REST budget holds seconds of diffs, not minutes).
   */
  snapshotSent?(native: string, sent_ms: number): void;
  /**
   * Native symbols whose book channel must be unsubscribed and subscribed again (OKX: only a
   * new subscription brings a new snapshot after a sequence or checksum break). Empty on venues
   * whose books resync from REST.
   */
  takeResubscribeRequests(): readonly string[];
  /**
   * Replaces the symbols this normalizer keeps with exactly `symbols` (instrument refresh; an
   * empty list keeps none): books of symbols no longer kept are forgotten, new symbols' books
   * sync as at start.
   */
  setSymbols?(symbols: readonly string[]): void;
  /** Marks every book of this normalizer stale (connection lost) so diffs resync. */
  connectionLost(recv_ts_ms: number): void;
  /**
   * Restarts every book with the connection still up, as a broken chain restarts one: its next
   * `takeSnapshotRequests` or `takeResubscribeRequests` asks for them all. The ingest runner
   * calls it after `push` threw, which may have left a book half-updated.
   */
  resyncBooks(): void;
  readonly stats: NormalizerStats;
  bookHealth(): BookHealth[];
  /** Every book's `verify` (levels, chain, checksum); walks whole books, so not per frame. */
  verifyBooks(): BookVerdict[];
}

export interface ConnectLimit {
  readonly family: string;
  /** Connection attempts per `window_ms` per IP. */
  readonly max: number;
  readonly window_ms: number;
}

/** A body that is not instrument metadata at all (an error answer, another endpoint's body). */
export class InstrumentError extends Error {}

/** What `takeSnapshotRequests` / `takeResubscribeRequests` return when nothing is wanted. */
export const NO_REQUESTS: readonly string[] = Object.freeze([]);
