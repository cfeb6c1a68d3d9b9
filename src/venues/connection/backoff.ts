/**
 * Exponential reconnect backoff with full jitter (AWS architecture blog, "Exponential Backoff
 * And Jitter"): the delay is uniform in [0, min(cap, base * 2^attempt)], so many clients that
 * lost the same server do not reconnect in lockstep.
 */
export interface BackoffOptions {
  readonly initial_ms: number;
  readonly max_ms: number;
  /** Uniform [0, 1) source; injectable so tests get exact delays. */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call without `reset()` doubles the ceiling. */
  next(): number {
    const ceiling = Math.min(this.options.max_ms, this.options.initial_ms * 2 ** this.attempt);
    if (ceiling < this.options.max_ms) this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  /** After a connection proved healthy (first message received). */
  reset(): void {
    this.attempt = 0;
  }
}
