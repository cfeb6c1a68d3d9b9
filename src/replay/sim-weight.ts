import { VENUE_KEYS, type VenueKey } from "../config/venue-keys.ts";
import { scaleLimits, type RestLimitScale, type RestLimitSpec, type VenueRestLimits } from "../venues/connection/rest-budget.ts";
import { getVenue } from "../venues/registry.ts";
import type { SimViolations } from "./sim-violations.ts";

/**
 * The simulator's REST limits, counted as the venues count them, from the same tables the
 * engine prices its requests with (src/venues/<venue>/rest-weights.ts). All clients are one
 * IP, as on a single engine host.
 *
 * - Window limits are counted in fixed windows aligned to the clock (Binance: "a 1 MINUTE
 *   interval starts every minute"); pool limits (Deribit credits) refill continuously.
 * - A request past a limit gets 429 (`Retry-After`: until the window frees, on the venues
 *   that send it) and is counted as `rest_weight_exceeded`.
 * - After a 429 the venue expects silence until the Retry-After: a request in that time is
 *   `rest_after_429` and earns a 418 with a ban (`Retry-After` = ban length). Requests that
 *   reach it within `in_flight_grace_ms` of the 429 were on the wire before the client could
 *   see it: they get 429 again, uncounted.
 * - A request during a ban is `rest_during_ban` and gets 418 again.
 * - Fault injection: `faultFor` answers 429 to every request for a while, `inject` to the next
 *   few (with the given Retry-After on the venues that send one, else the venue's documented
 *   wait); what follows is judged as after any 429.
 * Binance answers carry `X-MBX-USED-WEIGHT-1M`, the weight of the current minute.
 */

export interface SimRestOptions {
  /** Shrinks a venue's limits (the engine's budget takes the same scale in tests). */
  readonly scale?: Partial<Record<VenueKey, RestLimitScale>>;
  /** Ms after a 429 during which further requests count as already in flight (default 1000). */
  readonly in_flight_grace_ms?: number;
  /** Ban length after going on past a 429, s (Binance: 2 minutes for a first offence). */
  readonly ban_s?: number;
}

interface BucketState {
  readonly spec: RestLimitSpec;
  /** Window: start of the current window (ms) and weight spent in it. Pool: level and last refill. */
  start_ms: number;
  used: number;
  /** Highest weight any one window (or the pool) held. */
  peak: number;
}

interface VenueState {
  readonly limits: VenueRestLimits;
  readonly buckets: BucketState[];
  backoff_until_ms: number;
  last_429_ms: number;
  banned_until_ms: number;
  injected: { count: number; retry_after_s: number };
  /** Until then every request gets 429 (a `rate_limit` fault). */
  fault_until_ms: number;
}

/** A refusal to send instead of the answer, or the headers to add to the answer. */
export type SimRestVerdict = { readonly refuse: Response } | { readonly headers: Record<string, string> };

export class SimRestLimits {
  private readonly venues = new Map<VenueKey, VenueState>();
  private readonly grace_ms: number;
  private readonly ban_ms: number;

  constructor(
    private readonly violations: SimViolations,
    options: SimRestOptions = {},
  ) {
    this.grace_ms = options.in_flight_grace_ms ?? 1000;
    this.ban_ms = (options.ban_s ?? 120) * 1000;
    for (const venue of VENUE_KEYS) {
      const limits = getVenue(venue).rest_limits;
      const buckets = scaleLimits(limits.buckets, options.scale?.[venue]).map((spec) => ({ spec, start_ms: 0, used: 0, peak: 0 }));
      this.venues.set(venue, { limits, buckets, backoff_until_ms: 0, last_429_ms: 0, banned_until_ms: 0, injected: { count: 0, retry_after_s: 0 }, fault_until_ms: 0 });
    }
  }

  /** The next `count` requests to `venue` get 429 with `Retry-After: retry_after_s`. */
  inject(venue: VenueKey, count: number, retry_after_s: number): void {
    this.state(venue).injected = { count, retry_after_s };
  }

  /**
   * A `rate_limit` fault: for `seconds` from `now_ms` the venue answers 429, with `Retry-After`
   * up to the fault's end on the venues that send one. A client that waits that long sees no
   * 418; the fault lapses unused if nothing asks.
   */
  faultFor(venue: VenueKey, seconds: number, now_ms: number): void {
    this.state(venue).fault_until_ms = now_ms + seconds * 1000;
  }

  /** Judges one request of `path` (below the venue prefix, query included) at `now_ms`. */
  admit(venue: VenueKey, path: string, now_ms: number): SimRestVerdict {
    const v = this.state(venue);
    if (v.banned_until_ms > now_ms) {
      this.violations.count(venue, "rest_during_ban");
      return { refuse: this.refusal(v, 418, v.banned_until_ms, now_ms) };
    }
    if (v.backoff_until_ms > now_ms) {
      if (now_ms - v.last_429_ms < this.grace_ms) return { refuse: this.refusal(v, 429, v.backoff_until_ms, now_ms) };
      this.violations.count(venue, "rest_after_429");
      v.banned_until_ms = now_ms + this.ban_ms;
      return { refuse: this.refusal(v, 418, v.banned_until_ms, now_ms) };
    }
    if (v.fault_until_ms > now_ms) {
      const until = v.limits.sends_retry_after ? v.fault_until_ms : now_ms + v.limits.default_retry_after_ms;
      return { refuse: this.tooMany(v, until, now_ms) };
    }
    if (v.injected.count > 0) {
      v.injected.count--;
      const retry_ms = v.limits.sends_retry_after ? v.injected.retry_after_s * 1000 : v.limits.default_retry_after_ms;
      return { refuse: this.tooMany(v, now_ms + retry_ms, now_ms) };
    }
    const cost = v.limits.cost(path);
    const bucket = v.buckets[cost.bucket];
    if (bucket !== undefined && cost.weight > 0) {
      const free_at = this.charge(bucket, cost.weight, now_ms);
      if (free_at > now_ms) {
        this.violations.count(venue, "rest_weight_exceeded", 1, bucket.spec.name);
        const retry = v.limits.sends_retry_after ? free_at : now_ms + v.limits.default_retry_after_ms;
        return { refuse: this.tooMany(v, retry, now_ms) };
      }
    }
    return { headers: this.usedHeader(v, now_ms) };
  }

  /** Highest weight one window of each bucket held: `{ venue: { bucket: peak } }`. */
  peaks(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [venue, v] of this.venues) {
      const own: Record<string, number> = {};
      for (const b of v.buckets) if (b.peak > 0) own[b.spec.name] = b.peak;
      if (Object.keys(own).length > 0) out[venue] = own;
    }
    return out;
  }

  private state(venue: VenueKey): VenueState {
    const v = this.venues.get(venue);
    if (v === undefined) throw new Error(`simulator: no REST limits for ${venue}`);
    return v;
  }

  /** Spends `weight` if the bucket holds it (returns now), else returns when it would. */
  private charge(b: BucketState, weight: number, now_ms: number): number {
    const { limit, window_ms } = b.spec;
    if (b.spec.kind === "window") {
      const start = Math.floor(now_ms / window_ms) * window_ms;
      if (start !== b.start_ms) {
        b.start_ms = start;
        b.used = 0;
      }
      if (b.used + weight > limit) return start + window_ms;
      b.used += weight;
    } else {
      b.used = Math.max(0, b.used - ((now_ms - b.start_ms) * limit) / window_ms);
      b.start_ms = now_ms;
      if (b.used + weight > limit) return now_ms + Math.ceil(((b.used + weight - limit) * window_ms) / limit);
      b.used += weight;
    }
    b.peak = Math.max(b.peak, b.used);
    return now_ms;
  }

  private tooMany(v: VenueState, until_ms: number, now_ms: number): Response {
    v.backoff_until_ms = until_ms;
    v.last_429_ms = now_ms;
    return this.refusal(v, 429, until_ms, now_ms);
  }

  private refusal(v: VenueState, status: 429 | 418, until_ms: number, now_ms: number): Response {
    const headers: Record<string, string> = { "content-type": "application/json", ...this.usedHeader(v, now_ms) };
    if (v.limits.sends_retry_after) headers["retry-after"] = String(Math.max(1, Math.ceil((until_ms - now_ms) / 1000)));
    return new Response(v.limits.refusalBody(status, until_ms), { status, headers });
  }

  private usedHeader(v: VenueState, now_ms: number): Record<string, string> {
    const header = v.limits.used_weight_header;
    const bucket = header === undefined ? undefined : v.buckets[header.bucket];
    if (header === undefined || bucket === undefined) return {};
    const current = Math.floor(now_ms / bucket.spec.window_ms) * bucket.spec.window_ms === bucket.start_ms ? bucket.used : 0;
    return { [header.name]: String(current) };
  }
}
