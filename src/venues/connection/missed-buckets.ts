/**
 * Bucket arithmetic of the REST poll path (bucket-poller.ts): which bucket a poll's record
 * falls in, how often a failed poll is tried again inside its bucket, and the buckets a task
 * missed until the venue's history endpoint fills them.
 */

/** A half-open span [start_ms, end_ms) of one poll period. */
export interface Bucket {
  readonly start_ms: number;
  readonly end_ms: number;
}

/**
 * What a poll sent just after the boundary B returns: the bucket that closed at B (`closed`:
 * long/short ratio rows, stamped with their bucket's start) or the state at the poll
 * (`current`: Binance `openInterest`, stamped with the venue's time, inside [B, B + period)).
 */
export type PollStamp = "closed" | "current";

/** The bucket whose record a poll at boundary `boundary_ms` brings. */
export function polledBucket(boundary_ms: number, period_ms: number, stamp: PollStamp): Bucket {
  const start_ms = stamp === "closed" ? boundary_ms - period_ms : boundary_ms;
  return { start_ms, end_ms: start_ms + period_ms };
}

/** Attempts of one poll inside its bucket at most (the first included). */
export const MAX_ATTEMPTS = 5;

/**
 * The waits before the second, third… attempt of a poll: `first_ms`, doubling each time, as
 * long as the attempt still starts within `window_ms` of the first one (the time left before
 * the next bucket's poll), at most MAX_ATTEMPTS - 1 of them. A venue that is down for a few
 * seconds costs one retry; one that is down for the whole bucket costs a handful of requests.
 */
export function retryDelays(first_ms: number, window_ms: number): number[] {
  const out: number[] = [];
  let elapsed = 0;
  for (let wait = first_ms; out.length < MAX_ATTEMPTS - 1; wait *= 2) {
    if (elapsed + wait >= window_ms) break;
    out.push(wait);
    elapsed += wait;
  }
  return out;
}

/**
 * How far back a missed bucket is kept, in periods: one history request of at most this many
 * rows covers every bucket a task is missing (Binance takes up to 500, OKX rubik 100). A bucket
 * further back keeps its gap with nothing recovered.
 */
export const MAX_MISSED = 24;
/** Answered history requests that may leave a missed bucket out before it is given up. */
export const HISTORY_TRIES = 3;

interface Missed extends Bucket {
  tries: number;
}

/**
 * The buckets each task missed (every attempt failed), until a history request fills them or
 * they are given up: HISTORY_TRIES answers without the bucket (the venue has no row for it),
 * or more than MAX_MISSED periods behind the task's newest miss. A history request that fails
 * (network, 5xx) costs no try: an outage of the venue's REST does not use them up; a refused one
 * (4xx) does.
 */
export class MissedBuckets {
  private readonly byTask = new Map<string, Missed[]>();
  /** Buckets given up without being filled. */
  abandoned = 0;

  constructor(private readonly period_ms: number) {}

  add(task: string, bucket: Bucket): void {
    const list = this.byTask.get(task) ?? [];
    if (list.some((m) => m.start_ms === bucket.start_ms)) return;
    list.push({ ...bucket, tries: 0 });
    list.sort((a, b) => a.start_ms - b.start_ms);
    const oldest = (list[list.length - 1] as Missed).start_ms - (MAX_MISSED - 1) * this.period_ms;
    while ((list[0] as Missed).start_ms < oldest) {
      list.shift();
      this.abandoned++;
    }
    this.byTask.set(task, list);
  }

  /** The task's missed buckets that have closed by `boundary_ms`, oldest first. */
  due(task: string, boundary_ms: number): Bucket[] {
    return (this.byTask.get(task) ?? []).filter((m) => m.end_ms <= boundary_ms).map((m) => ({ start_ms: m.start_ms, end_ms: m.end_ms }));
  }

  /**
   * A history answer for `asked` came: the buckets starting at `filled` are done, the others
   * use one try each (and are given up after HISTORY_TRIES).
   */
  answered(task: string, asked: readonly Bucket[], filled: ReadonlySet<number>): void {
    const list = this.byTask.get(task);
    if (list === undefined) return;
    const askedStarts = new Set(asked.map((b) => b.start_ms));
    const kept: Missed[] = [];
    for (const m of list) {
      if (!askedStarts.has(m.start_ms)) kept.push(m);
      else if (filled.has(m.start_ms)) continue;
      else if (++m.tries >= HISTORY_TRIES) this.abandoned++;
      else kept.push(m);
    }
    if (kept.length === 0) this.byTask.delete(task);
    else this.byTask.set(task, kept);
  }

  /** Forgets the tasks not in `keys` (symbols an instrument refresh removed); their gaps stay as they are. */
  retain(keys: ReadonlySet<string>): void {
    for (const task of [...this.byTask.keys()]) if (!keys.has(task)) this.byTask.delete(task);
  }

  /** Missed buckets waiting, over every task. */
  get size(): number {
    let n = 0;
    for (const list of this.byTask.values()) n += list.length;
    return n;
  }
}

/** What one history request asks for: the span from the first bucket's start to the last one's end, and its row count. */
export interface HistorySpan {
  readonly from_ms: number;
  /** Last ms asked for (inclusive, as Binance `endTime` and OKX `end` take it). */
  readonly to_ms: number;
  readonly limit: number;
}

/** The span covering `buckets` (sorted, non-empty; MissedBuckets keeps them within MAX_MISSED periods). */
export function historySpan(buckets: readonly Bucket[], period_ms: number): HistorySpan {
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  if (first === undefined || last === undefined) throw new Error("historySpan needs at least one bucket");
  return { from_ms: first.start_ms, to_ms: last.end_ms - 1, limit: Math.round((last.end_ms - first.start_ms) / period_ms) };
}

/** The bucket of `buckets` that holds `ts_ms`, if any. */
export function bucketOf(buckets: readonly Bucket[], ts_ms: number): Bucket | undefined {
  return buckets.find((b) => ts_ms >= b.start_ms && ts_ms < b.end_ms);
}
