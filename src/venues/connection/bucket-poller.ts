import type { RestClient } from "./rest-client.ts";

/**
 * Polls REST data that has no push channel (open interest, long/short ratios) on the cadence
 * of the data itself: one request per task per bucket, sent `delay_ms` after the bucket
 * closes (MarketPrism polled every 20 s and stored each 5-minute bucket ~13 times). A bucket's
 * requests are queued at once with the `poll` priority: the REST client sends them as the
 * venue's weight budget allows, after any book snapshot that is waiting. A request that fails
 * (timeout, network, 5xx; rate limits are waited out by the client) is tried again
 * `retry_ms` later, at most RETRIES times, so one slow answer does not cost the whole bucket.
 */

/** Further attempts per task and bucket after a failed one. */
const RETRIES = 2;

export interface PollTask {
  /** `symbol/type`: identifies the task in stats. */
  readonly key: string;
  readonly url: string;
}

export interface BucketPollerOptions {
  readonly period_ms: number;
  /** Ms after the bucket boundary before polling, so the venue has closed the bucket. */
  readonly delay_ms: number;
  readonly tasks: readonly PollTask[];
  readonly rest: RestClient;
  readonly onBody: (task: PollTask, body: string, recv_ts_ms: number) => void;
  readonly onError: (task: PollTask, error: string) => void;
  /** Ms between a failed attempt and the next (default 5000). */
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
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();
  private running: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: BucketPollerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Polls the last closed bucket now, then once after each following bucket closes. */
  start(): void {
    this.running = this.poll(this.now()).then(() => this.schedule());
  }

  /**
   * Polls every task once if the bucket boundary at `now_ms` (less the delay) was not polled
   * yet; a second call within the same bucket sends nothing.
   */
  async poll(now_ms: number): Promise<void> {
    const { period_ms, delay_ms } = this.options;
    const boundary = Math.floor((now_ms - delay_ms) / period_ms) * period_ms;
    if (boundary <= this.last_boundary_ms || this.stopped) return;
    this.last_boundary_ms = boundary;
    this.polls++;
    await Promise.all(this.options.tasks.map((task) => this.fetch(task)));
  }

  private async fetch(task: PollTask): Promise<void> {
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      const result = await this.options.rest.get(task.url, "poll");
      if (this.stopped) return;
      if (result.ok) return this.options.onBody(task, result.body, result.recv_ts_ms);
      this.options.onError(task, `${result.status} ${result.error}`);
      // A 4xx other than a rate limit says the request itself is wrong: asking again cannot help.
      if (result.status >= 400 && result.status < 500) return;
      if (attempt < RETRIES) await this.pause(this.options.retry_ms ?? 5000);
    }
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

/**
 * Remembers the last bucket emitted per key (venue symbol + data type) and refuses a bucket
 * at or before it, so a re-polled bucket never becomes a second record.
 */
export class BucketDedup {
  private readonly last = new Map<string, number>();
  dropped = 0;

  constructor(private readonly period_ms: number) {}

  accept(key: string, ts_ms: number): boolean {
    const bucket = Math.floor(ts_ms / this.period_ms);
    const last = this.last.get(key);
    if (last !== undefined && bucket <= last) {
      this.dropped++;
      return false;
    }
    this.last.set(key, bucket);
    return true;
  }
}
