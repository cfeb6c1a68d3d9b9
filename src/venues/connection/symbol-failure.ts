/**
 * A symbol failing on its own, as `/stats` lists it per venue (`failing_symbols`), and the retry
 * timing every such failure shares: whatever one symbol's failure costs the venue (a snapshot's
 * REST weight, an OKX subscribe request) is spent at most once per RETRY_MAX_MS, so one broken
 * symbol never eats the limits the healthy ones live on.
 */

/** One symbol failing on its own (its book does not sync, one of its streams is silent or refused); the others go on. */
export interface SymbolFailure {
  readonly native: string;
  /**
   * `snapshot_refused`: the venue refused its REST depth snapshot (sync-queue.ts);
   * `snapshot_unanswered`: its snapshot request got no answer (timed out, or the connection
   * failed) (sync-queue.ts);
   * `book_unbridged`: a snapshot came but no depth update bridged it; `resync_loop`: its book
   * breaks again soon after every resync (sync-queue.ts, resync-loops.ts); `stream_silent`: a
   * channel past its cadence (channel-watchdog.ts); `subscribe_refused`: the venue answered the
   * subscription of one of its channels with an error, or left it out of its answer
   * (refused-subscriptions.ts).
   */
  readonly kind: "snapshot_refused" | "snapshot_unanswered" | "book_unbridged" | "resync_loop" | "stream_silent" | "subscribe_refused";
  /** The venue's answer to the last attempt, or what is missing (a silent or refused stream names its channels). */
  readonly detail: string;
  /**
   * Refused attempts since the symbol last worked (snapshots or subscriptions), or resyncs asked
   * for in a resync loop (0 for a silent stream).
   */
  readonly attempts: number;
  /** When the failure began (Date.now() ms). */
  readonly since_ms: number;
}

/** First wait after a refusal, ms; it doubles with every further refusal. */
export const RETRY_INITIAL_MS = 1000;
/** Longest wait between two attempts of a symbol the venue keeps refusing, ms. */
export const RETRY_MAX_MS = 300_000;

/** The wait before attempt `n + 1` of a symbol that failed `n` times: doubling from RETRY_INITIAL_MS to RETRY_MAX_MS. */
export function retryMs(n: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** (n - 1));
}

/**
 * Longest wait before asking again for a snapshot that got no answer, ms. A request that times
 * out is no refusal: the venue (or a machine too busy to read its answer in time) may answer the
 * next one, and a book that waited minutes for it would be missing for nothing. Every attempt
 * still draws on the venue's weight budget, so an unreachable venue costs no more than its limits.
 */
export const UNANSWERED_RETRY_MAX_MS = 10_000;

/** A book that asks to resync again within this long of its last resync is resyncing in a loop, ms. */
export const CHURN_WINDOW_MS = 60_000;
/** A book is listed as a `resync_loop` from this many quick asks in a row. */
export const RESYNC_LOOP_TURNS = 3;
