import { REST_PRIORITIES, RestBudget, type RestCost, type RestPriority, type VenueRestLimits } from "./rest-budget.ts";

/**
 * A venue's REST GETs for one ingest thread, sent through the venue's shared weight budget
 * (rest-budget.ts) from a priority queue: book resyncs first, then bucket polls, then the
 * snapshots of a book storm, then anything else (metadata, recovery fetches); a class waits
 * behind a more urgent one only where both draw on the same limit. Each class has its own
 * cap on this thread's requests on the wire (IN_FLIGHT), so no class holds the slots of another,
 * and a resync of a few books waits behind no storm and no polls.
 *
 * A 429 stops every request to the venue (all threads, through the budget) until its
 * `Retry-After` has passed; a 418 (Binance: an IP ban for going on after 429s) stops them
 * until the ban ends. The refused request goes back to the head of its queue and is sent
 * again then, so a caller sees the answer or an error that is not a rate limit. Requests
 * for a URL already queued share its answer, so nothing piles up while REST is stopped.
 */

export type RestResult =
  | { readonly ok: true; readonly status: number; readonly body: string; readonly recv_ts_ms: number }
  | { readonly ok: false; readonly status: number; readonly error: string };

/** One incident: the venue answered 429 or 418 and REST to it stops for `wait_ms`. */
export interface RestLimitIncident {
  readonly status: number;
  readonly wait_ms: number;
  readonly url: string;
}

/** What the client reports as it goes (shared counters in the engine). */
export interface RestClientStats {
  /** Weight drawn from the budget by a request about to be sent. */
  weight(n: number): void;
  /** A 429 or 418 answer. */
  limited(status: number): void;
}

export interface RestClientOptions {
  /** The venue's rest_url; paths below it are priced by `limits`. */
  readonly base_url: string;
  readonly limits: VenueRestLimits;
  /** The venue's shared budget; a private one when absent (tests, the normalize CLI). */
  readonly budget?: RestBudget;
  readonly timeout_ms: number;
  readonly stats?: RestClientStats;
  /** Called once per incident across the venue's threads, to log what happens next. */
  readonly onIncident?: (incident: RestLimitIncident) => void;
}

/**
 * Requests of one thread on the wire at once, per class. Each class counts only its own, so a
 * class that always has work queued (polls at 500 Binance USDⓈ-M symbols ask for more than the
 * budget gives) never takes the slots of another: every class but `resync` keeps at least
 * IN_FLIGHT_TOTAL - 1 - (the largest other cap) of them. Together they go only while fewer than
 * IN_FLIGHT_TOTAL - 1 are out, which leaves a resync one slot that no other class takes, so it
 * waits behind no storm and no polls. A storm's pace is the budget's, not the slots': a busy
 * thread takes about a second to answer a 1000-level snapshot, so even the two slots a storm
 * keeps while polls hold five keep up with the 1.4 snapshots a second that Binance spot's weight
 * allows (`bun run bench scale`, 2,000-symbol point).
 */
export const IN_FLIGHT: Readonly<Record<RestPriority, number>> = { resync: 8, poll: 5, sync: 5, other: 2 };
/** Requests of one thread on the wire at once, all classes together (`resync` alone takes the last). */
export const IN_FLIGHT_TOTAL = 8;

/** Parses `Retry-After`: delta seconds or an HTTP date. Undefined when absent or malformed. */
export function parseRetryAfter(value: string | null, now_ms: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now_ms);
}

interface Pending {
  readonly url: string;
  readonly cost: RestCost;
  readonly priority: RestPriority;
  /** Answer with an error instead of waiting out a block longer than this, ms. */
  readonly max_block_ms: number;
  readonly waiters: ((result: RestResult) => void)[];
  /** Called when the request has its weight and goes on the wire (each time, if sent again). */
  readonly onSend: (() => void) | undefined;
}

export class RestClient {
  /** Requests sent (refused ones included). */
  requests = 0;
  /** 429 and 418 answers. */
  rate_limited = 0;
  errors = 0;
  readonly budget: RestBudget;
  private readonly queues: Record<RestPriority, Pending[]> = { resync: [], sync: [], poll: [], other: [] };
  private readonly byUrl = new Map<string, Pending>();
  private inFlight = 0;
  private readonly inFlightBy: Record<RestPriority, number> = { resync: 0, sync: 0, poll: 0, other: 0 };
  private wake: ReturnType<typeof setTimeout> | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private readonly abort = new AbortController();

  constructor(private readonly options: RestClientOptions) {
    this.budget = options.budget ?? new RestBudget(options.limits.buckets);
  }

  /** Requests waiting for the budget or a slot. */
  get queued(): number {
    return this.byUrl.size - this.inFlight;
  }

  /**
   * GETs `url` (below `base_url`) in its turn; resolves with the answer, never with a 429/418.
   * A block (429, 418) longer than `max_block_ms` answers with an error at once instead.
   * `onSend` is called when the request leaves the queue for the wire (not for a request
   * joining one already queued for the same URL).
   */
  get(url: string, priority: RestPriority = "other", max_block_ms = Number.POSITIVE_INFINITY, onSend?: () => void): Promise<RestResult> {
    if (this.abort.signal.aborted) return Promise.resolve(stopped());
    const { promise, resolve } = Promise.withResolvers<RestResult>();
    const same = this.byUrl.get(url);
    if (same !== undefined) {
      same.waiters.push(resolve);
      return promise;
    }
    const path = url.startsWith(this.options.base_url) ? url.slice(this.options.base_url.length) : pathAndQuery(url);
    const pending: Pending = { url, cost: this.options.limits.cost(path), priority, max_block_ms, waiters: [resolve], onSend };
    this.byUrl.set(url, pending);
    this.queues[priority].push(pending);
    this.pump();
    return promise;
  }

  /** Aborts requests in flight and answers every queued one with `stopped`. */
  stop(): void {
    this.abort.abort();
    clearTimeout(this.wake);
    for (const p of REST_PRIORITIES) {
      for (const pending of this.queues[p].splice(0)) this.finish(pending, stopped());
    }
  }

  /** Sends what the block, the budget and the slots allow now; sleeps until the next chance. */
  private pump(): void {
    while (!this.abort.signal.aborted) {
      if (!REST_PRIORITIES.some((p) => this.queues[p].length > 0)) return;
      const blocked = this.budget.blockedMs();
      if (blocked > 0) {
        this.refuseImpatient(blocked);
        return this.sleep(blocked);
      }
      const next = this.nextToSend();
      if (next === undefined) return;
      if (typeof next === "number") return this.sleep(next);
      this.options.stats?.weight(next.cost.weight);
      next.onSend?.();
      void this.send(next);
    }
  }

  /**
   * The head of the most urgent class whose weight the budget gives now, taken off its queue;
   * else the ms until a waiting head could draw, or undefined when the slots are full.
   *
   * A lower class never overtakes a waiting higher one on the same bucket, so the classes'
   * order and reserves hold. On another bucket it goes: a poll waiting for Binance USDⓈ-M's
   * `futures_data` limit (1,000 requests per 5 min) must not hold back book snapshots, which
   * draw on request weight. With 500 symbols the ratio polls alone ask for that limit in full, so
   * a poll always waits at the head of its class, and snapshots queued behind it would never go
   * (`bun bench/scale.bench.ts --points 2000`, 500 Binance USDⓈ-M books).
   */
  private nextToSend(): Pending | number | undefined {
    let wait = Number.POSITIVE_INFINITY;
    const waiting = new Set<number>();
    for (const priority of REST_PRIORITIES) {
      const head = this.queues[priority][0];
      if (head === undefined) continue;
      if (this.inFlightBy[priority] >= IN_FLIGHT[priority]) continue;
      if (this.inFlight >= IN_FLIGHT_TOTAL - (priority === "resync" ? 0 : 1)) continue;
      if (waiting.has(head.cost.bucket)) continue;
      const ms = this.budget.take(head.cost, priority);
      if (ms === 0) return this.queues[priority].shift();
      waiting.add(head.cost.bucket);
      wait = Math.min(wait, ms);
    }
    return wait === Number.POSITIVE_INFINITY ? undefined : wait;
  }

  /** Answers the requests that will not wait `blocked_ms` with the block as their error. */
  private refuseImpatient(blocked_ms: number): void {
    const error = `REST to this venue is stopped for another ${Math.ceil(blocked_ms / 1000)} s (HTTP ${this.budget.blockStatus})`;
    for (const p of REST_PRIORITIES) {
      const queue = this.queues[p];
      for (let i = queue.length - 1; i >= 0; i--) {
        const pending = queue[i] as Pending;
        if (pending.max_block_ms >= blocked_ms) continue;
        queue.splice(i, 1);
        this.finish(pending, { ok: false, status: this.budget.blockStatus, error });
      }
    }
  }

  private sleep(ms: number): void {
    const at = Date.now() + ms;
    if (this.wake !== undefined && this.wakeAt <= at) return;
    clearTimeout(this.wake);
    this.wakeAt = at;
    this.wake = setTimeout(() => {
      this.wake = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, ms);
  }

  private async send(pending: Pending): Promise<void> {
    this.inFlight++;
    this.inFlightBy[pending.priority]++;
    this.requests++;
    const result = await this.fetch(pending);
    this.inFlight--;
    this.inFlightBy[pending.priority]--;
    if (result !== undefined) this.finish(pending, result);
    else if (this.abort.signal.aborted) this.finish(pending, stopped());
    else this.queues[pending.priority].unshift(pending);
    this.pump();
  }

  /** The answer, or undefined when the venue refused it for its limits (sent again later). */
  private async fetch(pending: Pending): Promise<RestResult | undefined> {
    let response: Response;
    try {
      response = await fetch(pending.url, { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeout_ms)]) });
    } catch (error) {
      if (this.abort.signal.aborted) return stopped();
      this.errors++;
      return { ok: false, status: 0, error: error instanceof Error ? error.message : String(error) };
    }
    const body = await response.text().catch(() => "");
    const recv = Date.now();
    const header = this.options.limits.used_weight_header;
    const used = header === undefined ? null : response.headers.get(header.name);
    if (header !== undefined && used !== null) this.budget.observeUsed(header.bucket, Number(used));
    if (response.status === 429 || response.status === 418) {
      this.rate_limited++;
      this.options.stats?.limited(response.status);
      const wait_ms = parseRetryAfter(response.headers.get("retry-after"), recv) ?? this.options.limits.default_retry_after_ms;
      if (this.budget.block(recv + wait_ms, response.status)) this.options.onIncident?.({ status: response.status, wait_ms, url: pending.url });
      return undefined;
    }
    if (!response.ok) {
      this.errors++;
      return { ok: false, status: response.status, error: body.slice(0, 200) };
    }
    return { ok: true, status: response.status, body, recv_ts_ms: recv };
  }

  private finish(pending: Pending, result: RestResult): void {
    this.byUrl.delete(pending.url);
    for (const resolve of pending.waiters) resolve(result);
  }
}

function pathAndQuery(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

function stopped(): RestResult {
  return { ok: false, status: 0, error: "stopped" };
}
