import { crc32 } from "node:zlib";
import type { RawLevel } from "../../book/price-book.ts";
import { TrackedBook } from "../../book/tracked-book.ts";

/**
 * OKX `books` chain (SPEC section 5, fixtures README 8.4 and section 10).
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 *
 * A `snapshot` action starts the chain; an `update` needs `prevSeqId == previous seqId` where
 * both are present (2022 recordings have neither; current OKX sends both and checksum 0), and
 * its checksum, when non-zero, must equal the signed CRC32 of the top 25 levels built from the
 * original strings. After a violation the book is stale until OKX sends a fresh snapshot, which
 * only a resubscribe produces: `resubscribeWanted` asks the connection layer for it.
 *
 * The checksum is checked on every snapshot and on the updates after which the book is written
 * out: those a top-N record is made from (the caller says which: `verify`) and, with
 * orderbook_delta, every one. A corrupt or missed update in between shows at the next checked
 * one while its levels still differ in the top 25 (a later absolute size for the same level
 * repairs the book, as it would have anyway); no record is made from the book in between, and
 * the gap starts at the last update that checked out. Checking every update would cost each OKX
 * ingest thread about 4-5 % of a core more at the scale bench's 500 point (124 books per OKX
 * venue, 10 updates a second each; per-thread CPU during `bun bench/scale.bench.ts --points 500`),
 * as much again as the rest of its work. Kraken's checksum guide makes the same choice ("on every
 * update or periodically").
 */

/** One OKX level: [price, size, deprecated "0", order count], all strings. */
export type OkxLevel = RawLevel;

/** "bad": a level failed to parse mid-apply; the book resyncs as after a break. */
export type OkxOutcome = "applied" | "ignored" | "sequence_gap" | "checksum_mismatch" | "bad";

const CHECKSUM_LEVELS = 25;
/** Scratch for the checksum text's pieces, reused by every book (one thread, no reentry). */
const CHECKSUM_PARTS: string[] = [];

export class OkxBookSync extends TrackedBook {
  private hasSnapshot = false;
  /** Last seqId, or -1 when the venue sends none. */
  seq_id = -1;
  resubscribeWanted = false;
  /** The checksum of the last push applied, 0 when it carried none. */
  private last_checksum = 0;

  snapshot(bids: readonly OkxLevel[], asks: readonly OkxLevel[], seq_id: number, checksum: number, ts_ms: number, recv_ts_ms = ts_ms): OkxOutcome {
    const book = this.book;
    book.clear();
    if (!book.bids.apply(bids) || !book.asks.apply(asks)) {
      book.clear();
      this.fail();
      return "bad";
    }
    this.hasSnapshot = true;
    this.seq_id = seq_id;
    this.resubscribeWanted = false;
    this.resetCadence();
    this.last_update_ts_ms = ts_ms;
    if (checksum !== 0 && this.checksum() !== checksum) return this.fail();
    this.last_checksum = checksum;
    this.state = "live";
    // No seqId in older streams: the book's ts orders them instead (as orderbook records' last_update_id).
    this.emitSyncedBook(seq_id === -1 ? ts_ms : seq_id, ts_ms, recv_ts_ms);
    return "applied";
  }

  update(
    bids: readonly OkxLevel[],
    asks: readonly OkxLevel[],
    seq_id: number,
    prev_seq_id: number,
    checksum: number,
    ts_ms: number,
    recv_ts_ms = ts_ms,
    /** Whether a record is made from the book after this update (its checksum is then checked). */
    verify = true,
  ): OkxOutcome {
    if (!this.hasSnapshot) return "ignored";
    if (prev_seq_id !== -1 && this.seq_id !== -1 && prev_seq_id !== this.seq_id) {
      this.fail();
      return "sequence_gap";
    }
    const book = this.book;
    if (!book.bids.apply(bids) || !book.asks.apply(asks)) {
      this.fail();
      return "bad";
    }
    this.seq_id = seq_id;
    this.last_checksum = checksum;
    if (checksum === 0) this.last_update_ts_ms = ts_ms;
    else if (verify || this.deltas !== undefined) {
      if (this.checksum() !== checksum) return this.fail();
      // A failed update is not a good one: the gap starts at the last update that checked out.
      this.last_update_ts_ms = ts_ms;
    }
    this.emitChange(bids, asks, seq_id === -1 ? ts_ms : seq_id, ts_ms, recv_ts_ms);
    return "applied";
  }

  /** A live book also matches the CRC32 of the last push it applied (when that carried one). */
  override verify(): string | undefined {
    if (this.state !== "live") return undefined;
    if (!this.hasSnapshot) return "live without a snapshot";
    const levels = super.verify();
    if (levels !== undefined) return levels;
    const crc = this.last_checksum === 0 ? 0 : this.checksum();
    return crc === this.last_checksum ? undefined : `checksum ${crc}, last push said ${this.last_checksum}`;
  }

  /** Forgets the chain (connection lost): wait for the snapshot of a new subscription. */
  restart(): void {
    this.hasSnapshot = false;
    this.seq_id = -1;
    this.resubscribeWanted = true;
    if (this.state === "live") this.state = "stale";
  }

  /**
   * Signed CRC32 of `bid1Px:bid1Sz:ask1Px:ask1Sz:…` over the top 25 levels. The text is one
   * `join` of per-level pieces rather than a `+=` chain: crc32 had to flatten the rope the chain
   * built, and the join made the whole checksum ~35 % cheaper (1.6 µs against 2.7 µs for 50 levels).
   */
  checksum(): number {
    const bids = this.book.bids;
    const asks = this.book.asks;
    const nb = Math.min(CHECKSUM_LEVELS, bids.size);
    const na = Math.min(CHECKSUM_LEVELS, asks.size);
    const parts = CHECKSUM_PARTS;
    let k = 0;
    for (let i = 0; i < CHECKSUM_LEVELS; i++) {
      if (i < nb) parts[k++] = bids.priceAt(i) + ":" + bids.quantityAt(i);
      if (i < na) parts[k++] = asks.priceAt(i) + ":" + asks.quantityAt(i);
    }
    parts.length = k;
    return crc32(parts.join(":")) | 0;
  }

  private fail(): "checksum_mismatch" {
    this.hasSnapshot = false;
    this.resubscribeWanted = true;
    return "checksum_mismatch";
  }
}
