/**
 * One REST weight budget per venue, shared by every ingest thread of that venue.
 *
 * The venues limit REST per IP, and one venue may run several ingest worker threads. The
 * budget lives in a SharedArrayBuffer the supervisor allocates once per venue (and keeps
 * across worker restarts), so all threads draw on one allowance: a thread that resyncs many
 * books may use what the others leave, and a 429 or 418 seen by one thread stops all of
 * them at once. Splitting the allowance per worker would halve what a busy worker may send
 * whenever a quiet one holds its share, and a block would reach the other threads only when
 * each got its own 429. Each draw is one compare-and-swap on a BigInt64 slot; REST is rare
 * (a few requests a second at most), so the shared slot costs nothing measurable.
 *
 * Each bucket is a token bucket kept in GCRA form: one slot holds its theoretical arrival
 * time (TAT, µs since the epoch, wall clock so every thread reads the same time). A bucket of
 * `capacity` weight refilled at r weight/µs is empty when TAT - now equals capacity / r; a
 * draw of w moves TAT on by w / r and fits while TAT - now stays within capacity / r.
 *
 * Venues state "window" limits (at most L weight per window W: Binance's minute, OKX's 2 s)
 * and "pool" limits (Deribit's credit pool of L, refilled over W). A pool is a token bucket
 * as documented. A window limit is counted in fixed windows (Binance: "a 1 MINUTE interval
 * starts every minute"), where a bucket of capacity L refilled at L/W could spend 2L inside
 * one window (the full bucket at the window's start, then its refill). So a window becomes a
 * bucket of capacity B = U·WINDOW_BURST refilled at (U - B)/W, with U = L·WINDOW_USABLE: any
 * span of W, fixed or sliding, then sees at most U. The margin up to L absorbs requests that
 * reach the venue later than they were drawn (a draw at the end of one window that arrives in
 * the next) and the odd request of another client of the IP.
 */

/** Share of a window limit the budget spends. */
export const WINDOW_USABLE = 0.9;
/** Share of the usable window that may go out at once; the rest refills evenly over the window. */
export const WINDOW_BURST = 0.2;

/** A venue limit as the venue documents it. */
export interface RestLimitSpec {
  readonly name: string;
  /** "window": at most `limit` weight in any `window_ms`; "pool": `limit` credits refilled over `window_ms`. */
  readonly kind: "window" | "pool";
  readonly limit: number;
  readonly window_ms: number;
}

/** What one request draws: `weight` from bucket `bucket` (an index into the venue's limits). */
export interface RestCost {
  readonly bucket: number;
  readonly weight: number;
}

/** A venue's REST limits and request weights (each venue folder has its table). */
export interface VenueRestLimits {
  readonly buckets: readonly RestLimitSpec[];
  /** The weight of a GET of `path` (relative to the venue's rest_url, query included). */
  cost(path: string): RestCost;
  /**
   * The cost of one book's REST depth snapshot of `limit` levels per side; absent on venues whose
   * books sync from the socket (OKX pushes the snapshot, Deribit has no books).
   */
  snapshotCost?(limit: number): RestCost;
  /** Response header with the weight the venue counts in the current window (Binance), and its bucket. */
  readonly used_weight_header?: { readonly name: string; readonly bucket: number };
  /** Whether the venue's 429/418 answers carry `Retry-After`. */
  readonly sends_retry_after: boolean;
  /** How long to stop after a 429 without a usable `Retry-After`, ms. */
  readonly default_retry_after_ms: number;
  /** The venue's body for a 429 or 418 (the simulator answers with it). */
  refusalBody(status: 429 | 418, until_ms: number): string;
}

/** Splits a relative REST path into its path and query. */
export function splitPath(path: string): { readonly pathname: string; readonly query: URLSearchParams } {
  const q = path.indexOf("?");
  return q < 0 ? { pathname: path, query: new URLSearchParams() } : { pathname: path.slice(0, q), query: new URLSearchParams(path.slice(q + 1)) };
}

/** Tests shrink a venue's limits (weights stay): `limit` and `window` multiply every bucket's. */
export interface RestLimitScale {
  readonly limit: number;
  readonly window: number;
}

export function scaleLimits(specs: readonly RestLimitSpec[], scale: RestLimitScale | undefined): RestLimitSpec[] {
  if (scale === undefined) return [...specs];
  return specs.map((s) => ({ ...s, limit: Math.max(1, Math.floor(s.limit * scale.limit)), window_ms: Math.max(1, Math.round(s.window_ms * scale.window)) }));
}

/**
 * Request classes, most urgent first: `resync` is the snapshot of a book that was live and broke
 * its chain (a sequence gap on one book); `poll` a bucket poll (open interest, ratios), which is
 * missed if it waits past its bucket and whose volume its cadence bounds (one request per symbol
 * per bucket), so it goes before `sync`, the snapshots of a book storm (every book at start or
 * after a lost connection, in symbol order), which can take minutes; then anything else.
 */
export const REST_PRIORITIES = ["resync", "poll", "sync", "other"] as const;
export type RestPriority = (typeof REST_PRIORITIES)[number];

/**
 * Share of a bucket each class leaves untouched for the classes before it. The classes share one
 * level in shared memory, so the order holds across the venue's threads: a class may draw only
 * while the level stays above its reserve, so whenever a lower class can draw, every higher one
 * can too, and while a higher class waits the level is below what any lower class needs. Polls
 * never take the last 15 % (three depth-1000 snapshots on Binance spot and USDⓈ-M), so a resync
 * of a few books draws at once; a storm never takes the last 20 %, so a bucket's polls draw at
 * once even while another thread works through a storm; anything else never the last half. The
 * reserves cap bursts only: a storm's sustained pace is the bucket's refill either way.
 */
const RESERVE: Readonly<Record<RestPriority, number>> = { resync: 0, poll: 0.15, sync: 0.2, other: 0.5 };
/** Named slots of the budget's SharedArrayBuffer (BigInt64). */
const BLOCKED_UNTIL_MS = 0;
/** HTTP status of the block in force (429 or 418). */
const BLOCK_STATUS = 1;
const FIRST_TAT = 2;

interface Bucket {
  readonly capacity: number;
  /** µs of refill per unit of weight. */
  readonly us_per_weight: number;
  /** The window limit the venue counts (header correction), or the pool size. */
  readonly limit: number;
}

export class RestBudget {
  readonly buffer: SharedArrayBuffer;
  private readonly slots: BigInt64Array;
  private readonly buckets: Bucket[];

  /** Bytes the supervisor allocates for a venue with `buckets` limits. */
  static bytes(buckets: number): number {
    return (FIRST_TAT + buckets) * 8;
  }

  constructor(
    /** The limits this budget keeps (the venue's, or shrunk by a test scale). */
    readonly specs: readonly RestLimitSpec[],
    buffer?: SharedArrayBuffer,
    private readonly now_ms: () => number = Date.now,
  ) {
    this.buffer = buffer ?? new SharedArrayBuffer(RestBudget.bytes(specs.length));
    if (this.buffer.byteLength < RestBudget.bytes(specs.length)) throw new RangeError("RestBudget: buffer smaller than its layout");
    this.slots = new BigInt64Array(this.buffer);
    this.buckets = specs.map((s) => {
      const usable = s.kind === "pool" ? s.limit : s.limit * WINDOW_USABLE;
      const capacity = s.kind === "pool" ? s.limit : Math.max(1, Math.floor(usable * WINDOW_BURST));
      const refill = s.kind === "pool" ? s.limit : usable - capacity;
      return { capacity, us_per_weight: (s.window_ms * 1000) / Math.max(1, refill), limit: s.limit };
    });
  }

  /**
   * Draws `cost` for a request of class `priority` if the bucket holds it now; otherwise draws
   * nothing and returns the ms to wait before asking again. A weight above the bucket's capacity
   * (only under shrunken test limits) draws the whole bucket.
   */
  take(cost: RestCost, priority: RestPriority): number {
    const bucket = this.buckets[cost.bucket];
    if (bucket === undefined || cost.weight <= 0) return 0;
    const slot = FIRST_TAT + cost.bucket;
    const weight = Math.min(cost.weight, bucket.capacity);
    const now = BigInt(Math.round(this.now_ms() * 1000));
    // Rounded down: a draw that lands exactly on the allowance fits (under by < 1 µs of refill).
    const draw = BigInt(Math.floor(weight * bucket.us_per_weight));
    const tolerance = BigInt(Math.round(allowance(bucket, weight, priority) * bucket.us_per_weight));
    for (;;) {
      const tat = Atomics.load(this.slots, slot);
      const next = (tat > now ? tat : now) + draw;
      const over = next - now - tolerance;
      if (over > 0n) return Math.ceil(Number(over) / 1000);
      if (Atomics.compareExchange(this.slots, slot, tat, next) === tat) return 0;
    }
  }

  /**
   * Ms until the last of `count` requests of `cost` in class `priority` could be drawn, counting
   * the draws made so far: the wait of a backlog at the bucket's refill rate (0 when it fits now).
   * Draws nothing.
   */
  backlogMs(cost: RestCost, count: number, priority: RestPriority): number {
    const bucket = this.buckets[cost.bucket];
    if (bucket === undefined || cost.weight <= 0 || count <= 0) return 0;
    const weight = Math.min(cost.weight, bucket.capacity);
    const now_us = this.now_ms() * 1000;
    const tat = Math.max(Number(Atomics.load(this.slots, FIRST_TAT + cost.bucket)), now_us);
    const over_us = tat - now_us + (count * weight - allowance(bucket, weight, priority)) * bucket.us_per_weight;
    return Math.max(0, Math.ceil(over_us / 1000));
  }

  /** Weight bucket `index` gives back per minute once its burst is spent (the budget's sustained rate). */
  refillPerMinute(index: number): number {
    const bucket = this.buckets[index];
    return bucket === undefined ? 0 : 60_000_000 / bucket.us_per_weight;
  }

  /**
   * The venue said `used` weight of the bucket's limit is spent in its current window (its own
   * count, other clients of the IP included): the bucket keeps no more than the rest. Only
   * ever tightens, so a header that is older than a draw cannot undo it.
   */
  observeUsed(bucketIndex: number, used: number): void {
    const bucket = this.buckets[bucketIndex];
    if (bucket === undefined || !Number.isFinite(used)) return;
    const level = bucket.capacity - (bucket.limit - used);
    if (level <= 0) return;
    const slot = FIRST_TAT + bucketIndex;
    const floor = BigInt(Math.round(this.now_ms() * 1000 + level * bucket.us_per_weight));
    for (;;) {
      const tat = Atomics.load(this.slots, slot);
      if (tat >= floor || Atomics.compareExchange(this.slots, slot, tat, floor) === tat) return;
    }
  }

  /**
   * Stops every request of the venue until `until_ms` (a 429's Retry-After, a 418's ban).
   * Returns true when this starts an incident (no block was in force) or turns one into a ban,
   * so one thread logs it, once.
   */
  block(until_ms: number, status: number): boolean {
    const now = this.now_ms();
    const until = BigInt(Math.ceil(until_ms));
    let fresh = false;
    for (;;) {
      const current = Atomics.load(this.slots, BLOCKED_UNTIL_MS);
      if (current >= until) break;
      if (Atomics.compareExchange(this.slots, BLOCKED_UNTIL_MS, current, until) === current) {
        fresh = Number(current) <= now;
        break;
      }
    }
    if (status === 418) return Atomics.exchange(this.slots, BLOCK_STATUS, 418n) !== 418n || fresh;
    if (fresh) Atomics.store(this.slots, BLOCK_STATUS, BigInt(status));
    return fresh;
  }

  /** Ms until the block in force ends (0 = none). */
  blockedMs(): number {
    return Math.max(0, Number(Atomics.load(this.slots, BLOCKED_UNTIL_MS)) - this.now_ms());
  }

  /** Status of the last block (429 or 418; 0 before any). */
  get blockStatus(): number {
    return Number(Atomics.load(this.slots, BLOCK_STATUS));
  }
}

/** The part of `bucket` a draw of `weight` in class `priority` may fill: all but the class's reserve, and always one draw. */
function allowance(bucket: Bucket, weight: number, priority: RestPriority): number {
  return Math.max(bucket.capacity * (1 - RESERVE[priority]), weight);
}
