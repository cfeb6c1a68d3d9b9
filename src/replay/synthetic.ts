/**
 * What every venue's documented-shape data shares (data types with no recording, fixtures README
 * section 9; each venue's shapes are its folder's sim-synthetic.ts): values that change from tick
 * to tick but are a pure function of (key, tick or bucket), so a re-polled bucket returns
 * exactly the same body.
 */

function seedOf(key: string): number {
  let h = 7;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) % 1000;
  return h;
}

/** A value in [-1, 1] that moves with `n`. */
export function wave(key: string, n: number): number {
  return Math.sin(n * 0.37 + seedOf(key));
}

/** `price` moved by up to ±`amplitude` (a fraction) with `n`, 8 significant digits. */
export function nearPrice(price: number, key: string, n: number, amplitude = 0.002): string {
  return (price * (1 + amplitude * wave(key, n))).toPrecision(8);
}

/** The first multiple of `period_ms` after `now_ms` (the next funding time of a venue that funds every `period_ms`). */
export function nextBoundary(now_ms: number, period_ms: number): number {
  return (Math.floor(now_ms / period_ms) + 1) * period_ms;
}

/** The start of the last bucket of `period_ms` that closed before `now_ms`. */
function lastClosedBucket(now_ms: number, period_ms: number): number {
  return Math.floor(now_ms / period_ms) * period_ms - period_ms;
}

/** A span of bucket starts a history request asks for (inclusive ms, either end open when absent). */
export interface StampRange {
  readonly from_ms?: number;
  readonly to_ms?: number;
}

/**
 * The starts of closed `period_ms` buckets before `now_ms` inside `range`, oldest first: the
 * newest `limit` when the range has no start, else the first `limit` from its start (the rows a
 * venue's statistics history answers with).
 */
export function closedBucketStarts(now_ms: number, period_ms: number, limit: number, range: StampRange = {}): number[] {
  const last = Math.min(lastClosedBucket(now_ms, period_ms), range.to_ms === undefined ? Number.POSITIVE_INFINITY : Math.floor(range.to_ms / period_ms) * period_ms);
  const out: number[] = [];
  if (range.from_ms === undefined) {
    for (let i = limit - 1; i >= 0; i--) out.push(last - i * period_ms);
    return out;
  }
  for (let ts = Math.ceil(range.from_ms / period_ms) * period_ms; ts <= last && out.length < limit; ts += period_ms) out.push(ts);
  return out;
}
