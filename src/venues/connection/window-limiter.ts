/**
 * At most `max` events in any `window_ms` (a sliding window over the times of the last `max`
 * events). The venues state their WebSocket limits this way: Binance 300 connection attempts per
 * 5 min per IP and 5 (spot) or 10 (USDⓈ-M) incoming messages a second per connection, OKX 3
 * connection requests a second per IP and 480 subscribe requests an hour per connection.
 * `delayMs` says how long the next event must wait; `take` records one that goes now.
 */
export class WindowLimiter {
  /** Times of the last `max` events, oldest first (a ring). */
  private readonly times: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    readonly max: number,
    readonly window_ms: number,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`WindowLimiter: max must be a positive integer, got ${max}`);
    this.times = new Float64Array(max);
  }

  /** Ms until one more event fits in the window (0 = now). */
  delayMs(now_ms: number): number {
    if (this.count < this.max) return 0;
    const oldest = this.times[this.head] ?? 0;
    return Math.max(0, oldest + this.window_ms - now_ms);
  }

  /** Records an event at `now_ms`; the caller has waited `delayMs` first. */
  take(now_ms: number): void {
    this.times[(this.head + this.count) % this.max] = now_ms;
    if (this.count < this.max) this.count++;
    else this.head = (this.head + 1) % this.max;
  }

  /** Events inside the window ending at `now_ms`. */
  inWindow(now_ms: number): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if ((this.times[(this.head + i) % this.max] ?? 0) > now_ms - this.window_ms) n++;
    return n;
  }
}
