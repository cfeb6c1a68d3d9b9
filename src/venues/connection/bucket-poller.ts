import type { RestClient } from "./rest-client.ts";
import { HISTORY_TRIES, historySpan, MAX_MISSED, MissedBuckets, polledBucket, retryDelays, type Bucket, type HistorySpan, type PollStamp } from "./missed-buckets.ts";

/**
 * Polls REST data that has no push channel (open interest, long/short ratios) on the cadence
 * of the data itself: one request per task per bucket, sent `delay_ms` after the bucket
 * closes (MarketPrism polled every 20 s and stored each 5-minute bucket ~13 times). A bucket's
 * requests are queued at once with the `poll` priority: the REST client sends them as the
 * venue's weight budget allows, after any book snapshot that is waiting.
 *
 * A request that fails (timeout, network, 5xx; rate limits are waited out by the client) is
 * tried again after `retry_ms`, then twice as long each time, while the next bucket's poll is
 * still ahead (missed-buckets.ts retryDelays). When every attempt fails, or the venue refuses
 * the request (4xx), the bucket is missed: `onMissed` records its gap. After each live poll
 * the task asks the venue's history endpoint (`history`) for every closed bucket it is missing
 * (one whose record is stamped with the poll's time closes with the next bucket), in one request
 * at the `poll` priority; `onHistory` stores what came back and says which buckets it filled.
 */

export interface PollTask {
  /** `symbol/type`: identifies the task in stats. */
  readonly key: string;
  readonly url: string;
  /** Which bucket a poll's record falls in (missed-buckets.ts); `closed` when absent. */
  readonly stamp?: PollStamp;
  /** The URL of the venue's history of this task over `span`; absent when the venue keeps none. */
  readonly history?: (span: HistorySpan) => string;
}

export interface BucketPollerOptions {
  readonly period_ms: number;
  /** Ms after the bucket boundary before polling, so the venue has closed the bucket. */
  readonly delay_ms: number;
  readonly tasks: readonly PollTask[];
  readonly rest: RestClient;
  readonly onBody: (task: PollTask, body: string, recv_ts_ms: number) => void;
  readonly onError: (task: PollTask, error: string) => void;
  /** Every attempt of the task's poll for `bucket` failed. */
  readonly onMissed?: (task: PollTask, bucket: Bucket) => void;
  /** The history body of `url` for `buckets`: stores its records, returns the starts of the buckets it filled. */
  readonly onHistory?: (task: PollTask, url: string, body: string, recv_ts_ms: number, buckets: readonly Bucket[]) => ReadonlySet<number>;
  /** Ms before the first retry of a failed attempt, doubling after (default 5000). */
  readonly retry_ms?: number;
  readonly now?: () => number;
}

/** Parses a poll period such as "5m" or "1h" into ms. */
export function periodMs(period: string): number {
  const match = /^(\d+)([mhd])$/i.exec(period);
  if (!match) throw new Error(`unsupported poll period '${period}'`);
  const unit = match[2]?.toLowerCase() === "m" ? 60_000 : match[2]?.toLowerCase() === "h" ? 3_600_000 : 86_400_000;
  return Number(match[1]) * unit;
}

export class BucketPoller {
  /** Start of the bucket boundary last polled (ms); -1 before the first poll. */
  last_boundary_ms = -1;
  polls = 0;
  /** Buckets missed and not yet filled or given up, per task. */
  readonly missed: MissedBuckets;
  /** History requests sent, and the buckets they filled. */
  history_requests = 0;
  history_filled = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();
  private running: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: BucketPollerOptions) {
    this.now = options.now ?? Date.now;
    this.missed = new MissedBuckets(options.period_ms);
  }

  /** Polls the last closed bucket now, then once after each following bucket closes. */
  start(): void {
    this.running = this.poll(this.now()).then(() => this.schedule());
  }

  /**
   * Polls every task once if the bucket boundary at `now_ms` (less the delay) was not polled
   * yet, then asks the history for the buckets each task missed before; a second call within
   * the same bucket sends nothing.
   */
  async poll(now_ms: number): Promise<void> {
    const { period_ms, delay_ms } = this.options;
    const boundary = Math.floor((now_ms - delay_ms) / period_ms) * period_ms;
    if (boundary <= this.last_boundary_ms || this.stopped) return;
    this.last_boundary_ms = boundary;
    this.polls++;
    const window_ms = boundary + period_ms + delay_ms - now_ms;
    await Promise.all(this.options.tasks.map((task) => this.pollTask(task, boundary, window_ms)));
  }

  private async pollTask(task: PollTask, boundary_ms: number, window_ms: number): Promise<void> {
    if (!(await this.fetch(task, window_ms)) && !this.stopped) {
      const bucket = polledBucket(boundary_ms, this.options.period_ms, task.stamp ?? "closed");
      this.options.onMissed?.(task, bucket);
      if (task.history !== undefined) this.missed.add(task.key, bucket);
    }
    if (!this.stopped) await this.fetchHistory(task, boundary_ms);
  }

  /** The live poll, with its retries; false when every attempt failed or the venue refused it. */
  private async fetch(task: PollTask, window_ms: number): Promise<boolean> {
    const delays = retryDelays(this.options.retry_ms ?? 5000, window_ms);
    for (let attempt = 0; ; attempt++) {
      const result = await this.options.rest.get(task.url, "poll");
      if (this.stopped) return true;
      if (result.ok) {
        this.options.onBody(task, result.body, result.recv_ts_ms);
        return true;
      }
      this.options.onError(task, `${result.status} ${result.error}`);
      // A 4xx other than a rate limit says the request itself is wrong: asking again cannot help.
      const wait = delays[attempt];
      if ((result.status >= 400 && result.status < 500) || wait === undefined) return false;
      await this.pause(wait);
    }
  }

  /** One bounded history request for the task's missed buckets that have closed by now. */
  private async fetchHistory(task: PollTask, boundary_ms: number): Promise<void> {
    const buckets = this.missed.due(task.key, boundary_ms);
    if (task.history === undefined || buckets.length === 0) return;
    this.history_requests++;
    const url = task.history(historySpan(buckets, this.options.period_ms));
    const result = await this.options.rest.get(url, "poll");
    if (this.stopped) return;
    if (!result.ok) this.options.onError(task, `history ${result.status} ${result.error}`);
    // A refusal (4xx) is an answer that costs a try; a failure (network, 5xx) is none.
    if (!result.ok && (result.status < 400 || result.status >= 500)) return;
    const filled = result.ok ? (this.options.onHistory?.(task, url, result.body, result.recv_ts_ms, buckets) ?? new Set<number>()) : new Set<number>();
    this.history_filled += filled.size;
    const abandoned = this.missed.abandoned;
    this.missed.answered(task.key, buckets, filled);
    const given_up = this.missed.abandoned - abandoned;
    if (given_up > 0) this.options.onError(task, `history: no row for ${given_up} missed bucket(s) after ${HISTORY_TRIES} answers; their gaps stay as they are`);
  }

  /** Resolves after `ms`, or at once when the poller stops. */
  private pause(ms: number): Promise<void> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    const { period_ms, delay_ms } = this.options;
    const now = this.now();
    const next = (Math.floor((now - delay_ms) / period_ms) + 1) * period_ms + delay_ms;
    this.timer = setTimeout(() => {
      this.running = this.poll(this.now()).then(() => this.schedule());
    }, Math.max(0, next - now));
  }
}

/** Buckets per key BucketDedup remembers, back from the newest (twice the history's reach). */
const DEDUP_BUCKETS = 2 * MAX_MISSED;

/**
 * Remembers the buckets emitted per key (venue symbol + data type) over the last
 * DEDUP_BUCKETS periods and refuses one already emitted, or one older than that, so a
 * re-polled bucket never becomes a second record while a missed one that a history request
 * brings back later is still taken.
 */
export class BucketDedup {
  private readonly seen = new Map<string, { newest: number; buckets: Set<number> }>();
  dropped = 0;

  constructor(private readonly period_ms: number) {}

  accept(key: string, ts_ms: number): boolean {
    const bucket = Math.floor(ts_ms / this.period_ms);
    let own = this.seen.get(key);
    if (own === undefined) {
      own = { newest: bucket, buckets: new Set() };
      this.seen.set(key, own);
    }
    if (own.buckets.has(bucket) || bucket <= own.newest - DEDUP_BUCKETS) {
      this.dropped++;
      return false;
    }
    own.buckets.add(bucket);
    if (bucket > own.newest) {
      own.newest = bucket;
      for (const b of own.buckets) if (b <= bucket - DEDUP_BUCKETS) own.buckets.delete(b);
    }
    return true;
  }
}
