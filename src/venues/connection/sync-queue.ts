import type { BookHealth } from "../types.ts";
import type { RestClient } from "./rest-client.ts";
import { CHURN_WINDOW_MS, RESYNC_LOOP_TURNS, retryMs, UNANSWERED_RETRY_MAX_MS, type SymbolFailure } from "./symbol-failure.ts";

/**
 * The REST depth snapshots of one ingest thread's books, sent through the venue's weight budget
 * (rest-budget.ts) in two classes:
 * - a storm: every book at start, and every book again after a lost connection. Its snapshots go
 *   in class `sync`, in the order of the thread's symbol list, so the first-listed books go live
 *   first and the rest wait their turn in the REST queue (`waiting` in `/stats`).
 * - a resync: a book that was live and broke its chain (a sequence gap on one book). It goes in
 *   class `resync`, ahead of the storm in this thread's queue and, through the budget's class
 *   reserves, ahead of every other thread's storm.
 *
 * A symbol whose snapshot is refused (an unknown or delisted symbol, a 5xx) is retried on its own
 * backoff, doubling from RETRY_INITIAL_MS to RETRY_MAX_MS (symbol-failure.ts) in class `sync`,
 * so it never spends more than one snapshot's weight per RETRY_MAX_MS nor goes ahead of a
 * healthy book. A request that got no answer (it timed out, or the connection failed) is retried
 * on the same doubling, capped at UNANSWERED_RETRY_MAX_MS: no answer is no refusal, and a book
 * must not wait minutes because a busy moment cost it one reply. Either symbol is listed in
 * `report().failures` until its book goes live. So is a book whose snapshot came but no update
 * bridged it within `silent_ms` (its stream is silent), and a book that keeps asking for snapshots
 * (its chain breaks again within CHURN_WINDOW_MS of each one): from its second such ask it backs
 * off as a refused one does, in class `sync`, until it stays live for CHURN_WINDOW_MS.
 */

/**
 * Shortest interval between two snapshot requests for one symbol, ms: a reply that does not sync
 * the book (unreadable, or a chain that breaks again at once) asks again on the next frame, and
 * this keeps that from turning into a request loop against the venue's limits.
 */
const SNAPSHOT_MIN_INTERVAL_MS = 1000;
/** A book whose snapshot no update bridged for this long is reported as silent, ms (times the tuning's stale_factor). */
export const BOOK_SILENT_MS = 30_000;

/** What a thread reports once a second (messages.ts `venue_health`): its book sync and its failing symbols. */
export interface BookSyncReport {
  /** Books whose snapshot request waits in the REST queue for the venue's weight budget. */
  readonly waiting: number;
  /** Every symbol failing on its own: books that do not sync, silent streams, refused subscriptions. */
  readonly failures: readonly SymbolFailure[];
}

export interface BookSyncOptions {
  readonly rest: RestClient;
  /** The snapshot URL of one native symbol. */
  readonly url: (native: string) => string;
  /** Hands a snapshot body to the normalizer. */
  readonly deliver: (url: string, body: string, recv_ts_ms: number) => void;
  /** A refused or unanswered snapshot (counted and logged by the caller). */
  readonly onRefused?: (native: string, detail: string) => void;
  /** A snapshot request goes on the wire now (`Normalizer.snapshotSent`). */
  readonly onSent?: (native: string, sent_ms: number) => void;
  readonly silent_ms?: number;
  /** Longest wait before asking again after no answer (default UNANSWERED_RETRY_MAX_MS). */
  readonly unanswered_retry_max_ms?: number;
  readonly now?: () => number;
}

interface SyncSlot {
  readonly native: string;
  /** Position in the thread's symbol list: the order of a storm. */
  readonly rank: number;
  /** Part of a storm until a snapshot of it is installed. */
  storm: boolean;
  /** idle: nothing asked; paced: waits out its interval or backoff; queued: in the REST queue; sent: on the wire. */
  phase: "idle" | "paced" | "queued" | "sent";
  last_ask_ms: number;
  /** Refused or unanswered snapshot requests in a row. */
  refusals: number;
  /** Snapshots asked for within CHURN_WINDOW_MS of the previous one, since the book last stayed live that long. */
  churn: number;
  /** When the last snapshot was handed to the normalizer (0: none since the last storm). */
  delivered_ms: number;
  failure: SymbolFailure | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class BookSyncQueue {
  private readonly slots = new Map<string, SyncSlot>();
  private readonly now: () => number;
  private readonly silent_ms: number;
  private readonly unanswered_retry_max_ms: number;
  private stopped = false;
  private nextRank = 0;

  constructor(
    symbols: readonly string[],
    private readonly options: BookSyncOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.silent_ms = options.silent_ms ?? BOOK_SILENT_MS;
    this.unanswered_retry_max_ms = options.unanswered_retry_max_ms ?? UNANSWERED_RETRY_MAX_MS;
    for (const native of symbols) this.slot(native);
  }

  /** Every book restarts at once (a lost connection): their next snapshots are one storm again. */
  storm(): void {
    for (const slot of this.slots.values()) {
      slot.storm = true;
      slot.delivered_ms = 0;
    }
  }

  /**
   * An instrument refresh: `add` are new books (they sync as at start, after the books listed
   * before them), `remove` books are dropped and never asked for again, even if refused now.
   */
  changeSymbols(add: readonly string[], remove: readonly string[]): void {
    for (const native of remove) {
      clearTimeout(this.slots.get(native)?.timer);
      this.slots.delete(native);
    }
    for (const native of add) this.slot(native);
  }

  /**
   * The normalizer wants snapshots of `natives`; a symbol already asked for is not asked twice,
   * one this thread does not keep (dropped by a refresh) not at all.
   */
  want(natives: readonly string[]): void {
    const slots: SyncSlot[] = [];
    for (const native of natives) {
      const slot = this.slots.get(native);
      if (slot?.phase === "idle") slots.push(slot);
    }
    slots.sort((a, b) => a.rank - b.rank);
    const now = this.now();
    for (const slot of slots) {
      if (slot.delivered_ms > 0 && now - slot.delivered_ms < CHURN_WINDOW_MS) this.churned(slot, now);
      const backoff_ms = slot.churn > 1 ? retryMs(slot.churn - 1) : SNAPSHOT_MIN_INTERVAL_MS;
      const wait_ms = slot.last_ask_ms + backoff_ms - now;
      if (wait_ms > 0) this.pace(slot, wait_ms);
      else void this.fetch(slot);
    }
  }

  /**
   * Books waiting for the budget and symbols failing now. Live books clear their failures; a book
   * whose snapshot no update bridged within `silent_ms` becomes a `book_unbridged` failure.
   */
  report(books: readonly BookHealth[]): BookSyncReport {
    const now = this.now();
    for (const book of books) {
      const slot = this.slots.get(book.native);
      if (slot === undefined) continue;
      if (book.state === "live") {
        // A resync loop ends only once the book stays live for a whole window.
        if (slot.churn > 0 && now - slot.delivered_ms < CHURN_WINDOW_MS) continue;
        slot.churn = 0;
        slot.failure = undefined;
        slot.refusals = 0;
      } else if (slot.failure === undefined && slot.phase === "idle" && slot.delivered_ms > 0 && now - slot.delivered_ms >= this.silent_ms) {
        const seconds = Math.round((now - slot.delivered_ms) / 1000);
        slot.failure = { native: slot.native, kind: "book_unbridged", detail: `no depth update bridged its snapshot in ${seconds} s`, attempts: 0, since_ms: slot.delivered_ms };
      }
    }
    let waiting = 0;
    const failures: SymbolFailure[] = [];
    for (const slot of this.slots.values()) {
      if (slot.phase === "queued") waiting++;
      if (slot.failure !== undefined) failures.push(slot.failure);
    }
    return { waiting, failures };
  }

  stop(): void {
    this.stopped = true;
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
  }

  private slot(native: string): SyncSlot {
    let slot = this.slots.get(native);
    if (slot === undefined) {
      slot = { native, rank: this.nextRank++, storm: true, phase: "idle", last_ask_ms: Number.NEGATIVE_INFINITY, refusals: 0, churn: 0, delivered_ms: 0, failure: undefined, timer: undefined };
      this.slots.set(native, slot);
    }
    return slot;
  }

  /** The book asks again soon after its last snapshot: one more turn of a resync loop. */
  private churned(slot: SyncSlot, now: number): void {
    slot.churn++;
    if (slot.churn < RESYNC_LOOP_TURNS) return;
    const next_s = Math.ceil(retryMs(slot.churn - 1) / 1000);
    const since_ms = slot.failure?.kind === "resync_loop" ? slot.failure.since_ms : now;
    slot.failure = { native: slot.native, kind: "resync_loop", detail: `its chain broke within a minute of each of its last ${slot.churn} snapshots; next snapshot in ${next_s} s`, attempts: slot.churn, since_ms };
  }

  private pace(slot: SyncSlot, wait_ms: number): void {
    slot.phase = "paced";
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (!this.stopped) void this.fetch(slot);
    }, wait_ms);
  }

  private async fetch(slot: SyncSlot): Promise<void> {
    slot.phase = "queued";
    slot.last_ask_ms = this.now();
    const url = this.options.url(slot.native);
    // A symbol that keeps being refused queues behind the storm, never ahead of a healthy book.
    const priority = slot.storm || slot.refusals > 0 || slot.churn > 1 ? "sync" : "resync";
    const result = await this.options.rest.get(url, priority, Number.POSITIVE_INFINITY, () => {
      slot.phase = "sent";
      this.options.onSent?.(slot.native, this.now());
    });
    slot.phase = "idle";
    // Stopped, or the symbol was dropped by a refresh while its request was out.
    if (this.stopped || this.slots.get(slot.native) !== slot) return;
    if (!result.ok) {
      slot.refusals++;
      // Status 0: the request got no HTTP answer.
      const unanswered = result.status === 0;
      const detail = unanswered ? result.error : `${result.status} ${result.error}`;
      const kind = unanswered ? "snapshot_unanswered" : "snapshot_refused";
      slot.failure = { native: slot.native, kind, detail, attempts: slot.refusals, since_ms: slot.failure?.since_ms ?? slot.last_ask_ms };
      this.options.onRefused?.(slot.native, detail);
      // The normalizer asked once; the retry is this queue's.
      const wait_ms = retryMs(slot.refusals);
      this.pace(slot, unanswered ? Math.min(wait_ms, this.unanswered_retry_max_ms) : wait_ms);
      return;
    }
    slot.storm = false;
    slot.delivered_ms = result.recv_ts_ms;
    this.options.deliver(url, result.body, result.recv_ts_ms);
  }
}
