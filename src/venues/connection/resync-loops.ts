import type { BookHealth } from "../types.ts";
import { CHURN_WINDOW_MS, RESYNC_LOOP_TURNS, retryMs, type SymbolFailure } from "./symbol-failure.ts";

/**
 * Books that resync by resubscribing (OKX: only a new subscription brings a new snapshot) and
 * break again soon after each resubscription: the same rule as a REST-synced book's resync loop
 * (sync-queue.ts). A book that asks again within CHURN_WINDOW_MS of its last resubscription
 * takes one more turn of a loop; from its second quick ask its next resubscription waits
 * retryMs(turns - 1) after the last one (1 s doubling to 5 min), and from its third it is listed
 * as a `resync_loop` failure, until it stays live for CHURN_WINDOW_MS. So one book whose chain
 * keeps breaking spends a few subscribe requests an hour, not one round a second, and never
 * exhausts the connection's request budget (which would reconnect every book of the connection).
 */

interface Turns {
  /** Quick asks in a row (within CHURN_WINDOW_MS of the previous resubscription). */
  turns: number;
  /** When the book was last resubscribed (Date.now() ms); 0: never. */
  last_ms: number;
  /** When it was first listed, for as long as it stays listed. */
  since_ms: number;
}

export class ResubscribeLoops {
  private readonly books = new Map<string, Turns>();

  /**
   * The book of `native` asks to be resubscribed at `now_ms`: the ms it waits before it may be
   * (0: the next round).
   */
  ask(native: string, now_ms: number): number {
    let t = this.books.get(native);
    if (t === undefined) {
      t = { turns: 0, last_ms: 0, since_ms: 0 };
      this.books.set(native, t);
    }
    if (t.last_ms === 0 || now_ms - t.last_ms >= CHURN_WINDOW_MS) return 0;
    t.turns++;
    if (t.turns >= RESYNC_LOOP_TURNS && t.since_ms === 0) t.since_ms = now_ms;
    return t.turns > 1 ? Math.max(0, t.last_ms + retryMs(t.turns - 1) - now_ms) : 0;
  }

  /** The book of `native` was resubscribed at `now_ms`. */
  resubscribed(native: string, now_ms: number): void {
    const t = this.books.get(native);
    if (t !== undefined) t.last_ms = now_ms;
  }

  /** Books a refresh dropped. */
  forget(natives: Iterable<string>): void {
    for (const native of natives) this.books.delete(native);
  }

  /**
   * The books in a loop now, given the thread's book health: a live book ends its loop once it
   * has stayed live for CHURN_WINDOW_MS since its last resubscription.
   */
  failures(books: readonly BookHealth[], now_ms: number): SymbolFailure[] {
    for (const book of books) {
      const t = this.books.get(book.native);
      if (t === undefined || t.turns === 0 || book.state !== "live" || now_ms - t.last_ms < CHURN_WINDOW_MS) continue;
      t.turns = 0;
      t.since_ms = 0;
    }
    const out: SymbolFailure[] = [];
    for (const [native, t] of this.books) {
      if (t.turns < RESYNC_LOOP_TURNS) continue;
      const wait_s = Math.ceil(retryMs(t.turns - 1) / 1000);
      out.push({
        native,
        kind: "resync_loop",
        detail: `its chain broke within a minute of each of its last ${t.turns} resubscriptions; each waits ${wait_s} s after the one before`,
        attempts: t.turns,
        since_ms: t.since_ms,
      });
    }
    return out;
  }
}
