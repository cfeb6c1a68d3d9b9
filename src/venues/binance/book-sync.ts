import type { RawLevel } from "../../book/price-book.ts";
import { TrackedBook } from "../../book/tracked-book.ts";

/**
 * Binance snapshot + diff bridging (SPEC section 5, fixtures README 8.1 and 8.2).
 * Spot:  https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly
 * USDⓈ-M: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly
 *
 * Spot drops diffs with u <= lastUpdateId, bridges with U <= lastUpdateId+1 <= u and then needs
 * U == previous u + 1. USDⓈ-M drops u < lastUpdateId (the bridging diff often has
 * u == lastUpdateId), bridges with U <= lastUpdateId <= u and then needs pu == previous u
 * (its U is never previous u + 1). A chain is only ever (re)started from a REST snapshot.
 */

export interface DepthDiff {
  readonly first_id: number; // U
  readonly final_id: number; // u
  /** `pu` on USDⓈ-M; -1 on spot. */
  readonly prev_final_id: number;
  readonly ts_ms: number;
  readonly recv_ts_ms: number;
  readonly bids: readonly RawLevel[];
  readonly asks: readonly RawLevel[];
}

/**
 * What one diff did to the book. "bad": a level failed to parse mid-apply, so the book is
 * no longer trustworthy and resyncs exactly as after a gap.
 */
export type DiffOutcome = "applied" | "buffered" | "dropped" | "gap" | "bad";

/** Diffs kept while waiting for a snapshot; past this the oldest go (the snapshot will be newer). */
const MAX_BUFFERED_DIFFS = 10_000;
/**
 * How long before its snapshot request goes out (or, while the request still waits for the
 * REST budget, before the newest diff) a buffered diff is kept. The snapshot reflects the venue
 * at or after the send, so older diffs are dropped when it bridges anyway; the margin covers a
 * snapshot that lags the stream a little. It keeps a book waiting minutes for the budget at a
 * couple of seconds of diffs (1,000 books at 10 diffs/s would otherwise hold every diff since
 * the storm began).
 */
const KEEP_BEFORE_REQUEST_MS = 2000;
/**
 * The newest diffs a waiting book keeps whatever their age: a quiet symbol's last diffs can be
 * older than KEEP_BEFORE_REQUEST_MS and still be the ones a lagging snapshot bridges with.
 */
const MIN_KEPT_DIFFS = 20;

export class BinanceBookSync extends TrackedBook {
  private buffer: DepthDiff[] = [];
  private hasSnapshot = false;
  private bridged = false;
  private lastFinalId = 0;
  private snapshotId = 0;
  /** When the pending snapshot request went on the wire; -1 while it waits or none is pending. */
  private requestSentMs = -1;
  /** Set when a snapshot must be fetched; cleared when the connection layer takes the request. */
  snapshotWanted = true;
  futures = false;

  /**
   * Feeds one diff; "gap" means the chain broke: the book is stale (still holding its last good
   * state), the diff is buffered and a snapshot is wanted. The caller records the violation.
   */
  diff(d: DepthDiff): DiffOutcome {
    if (!this.hasSnapshot) {
      if (this.buffer.length >= MAX_BUFFERED_DIFFS) this.buffer.shift();
      this.buffer.push(d);
      this.dropBefore((this.requestSentMs >= 0 ? this.requestSentMs : d.recv_ts_ms) - KEEP_BEFORE_REQUEST_MS);
      return "buffered";
    }
    return this.applyDiff(d);
  }

  /**
   * Installs a REST snapshot and returns the diffs buffered meanwhile; the caller feeds them
   * back through `diff` in order (dropping the stale ones, bridging, or breaking the chain
   * exactly as live diffs would), so every applied diff can produce its own record.
   * Undefined when a level does not parse: the book is empty, its chain forgotten (a live book
   * turns stale; the caller records the gap) and another snapshot is wanted.
   */
  snapshot(lastUpdateId: number, bids: readonly RawLevel[], asks: readonly RawLevel[], ts_ms: number): DepthDiff[] | undefined {
    const book = this.book;
    book.clear();
    if (!book.bids.apply(bids) || !book.asks.apply(asks)) {
      // A snapshot with an unparsable level is no snapshot, and the book it replaced is gone:
      // diffs must not go on chaining onto the emptied book. Ask for another.
      book.clear();
      this.restart();
      return undefined;
    }
    this.hasSnapshot = true;
    this.bridged = false;
    this.snapshotId = lastUpdateId;
    this.lastFinalId = lastUpdateId;
    this.snapshotWanted = false;
    this.requestSentMs = -1;
    if (ts_ms > 0) this.last_update_ts_ms = ts_ms;
    this.resetCadence();
    const pending = this.buffer;
    this.buffer = [];
    return pending;
  }

  /** The snapshot request went on the wire at `sent_ms`: diffs received before it are covered. */
  snapshotSent(sent_ms: number): void {
    if (this.hasSnapshot) return;
    this.requestSentMs = sent_ms;
    this.dropBefore(sent_ms - KEEP_BEFORE_REQUEST_MS);
  }

  /** A snapshot reply that could not be read: until one is installed, ask for another. */
  snapshotUnreadable(): void {
    if (this.hasSnapshot) return;
    this.snapshotWanted = true;
    this.requestSentMs = -1;
  }

  /** True once a snapshot is bridged and the book follows the stream. */
  get live(): boolean {
    return this.bridged && this.state === "live";
  }

  /**
   * A live book also holds the chain: bridged from a snapshot, nothing buffered, its last
   * applied `u` at or past the snapshot's lastUpdateId.
   */
  override verify(): string | undefined {
    if (this.state !== "live") return undefined;
    if (!this.hasSnapshot) return "live without a snapshot";
    if (this.bridged && this.buffer.length > 0) return `${this.buffer.length} diffs buffered on a bridged chain`;
    if (this.bridged && this.lastFinalId < this.snapshotId) return `last u ${this.lastFinalId} before the snapshot's ${this.snapshotId}`;
    return super.verify();
  }

  /** Forgets the chain (connection lost or violation): buffer diffs until a new snapshot. */
  restart(): void {
    this.hasSnapshot = false;
    this.bridged = false;
    this.buffer = [];
    this.snapshotWanted = true;
    this.requestSentMs = -1;
    if (this.state === "live") this.state = "stale";
  }

  /** Drops buffered diffs received before `cutoff_ms` but the newest MIN_KEPT_DIFFS (the buffer is in arrival order). */
  private dropBefore(cutoff_ms: number): void {
    const buffer = this.buffer;
    const most = buffer.length - MIN_KEPT_DIFFS;
    let n = 0;
    while (n < most && buffer[n]!.recv_ts_ms < cutoff_ms) n++;
    if (n > 0) buffer.splice(0, n);
  }

  private applyDiff(d: DepthDiff): DiffOutcome {
    if (!this.bridged) {
      const id = this.snapshotId;
      if (this.futures ? d.final_id < id : d.final_id <= id) return "dropped";
      const bridges = this.futures ? d.first_id <= id && id <= d.final_id : d.first_id <= id + 1 && id + 1 <= d.final_id;
      if (!bridges) {
        // The snapshot is older than the stream: not a stream gap, just fetch a newer snapshot
        // (later diffs are buffered by `diff` since the chain has no snapshot any more). A book
        // that was live (a snapshot came in over it) stops publishing here: that is a gap.
        const wasLive = this.state === "live";
        this.restart();
        this.buffer.push(d);
        if (wasLive) return "gap";
        this.resyncs++;
        return "buffered";
      }
      this.bridged = true;
      this.state = "live";
      return this.applyLevels(d, true);
    } else {
      const continues = this.futures ? d.prev_final_id === this.lastFinalId : d.first_id === this.lastFinalId + 1;
      if (!continues) {
        // A re-delivered old diff is not a break; anything else is, and waits for a snapshot.
        if (d.final_id <= this.lastFinalId) return "dropped";
        this.restart();
        this.buffer.push(d);
        return "gap";
      }
    }
    return this.applyLevels(d, false);
  }

  /**
   * Applies a diff that continues the chain (`bridges`: the first after the snapshot) and emits
   * its orderbook_delta rows: the synced book after the bridging diff, the diff's levels after.
   */
  private applyLevels(d: DepthDiff, bridges: boolean): DiffOutcome {
    const book = this.book;
    if (!book.bids.apply(d.bids) || !book.asks.apply(d.asks)) {
      this.restart();
      return "bad";
    }
    this.lastFinalId = d.final_id;
    this.last_update_ts_ms = d.ts_ms;
    if (this.deltas !== undefined) {
      if (bridges) this.emitSyncedBook(d.final_id, d.ts_ms, d.recv_ts_ms);
      else this.emitChange(d.bids, d.asks, d.final_id, d.ts_ms, d.recv_ts_ms);
    }
    return "applied";
  }
}
