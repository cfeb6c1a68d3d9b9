import { isObject } from "../venues/normalizer-stats.ts";
import type { FrameTemplate, Shifts } from "./frame-template.ts";

/**
 * A recording prepared for looping. Each loop re-renders every frame with that loop's shifts:
 * times move by the loop's span (anchored to the simulator's start, so stored rows carry
 * current times), update ids and trade ids by a per-symbol span, so ids keep rising from loop
 * to loop and natural keys never repeat. Whether a book's update chain continues across the
 * boundary is the venue replay's choice (Binance bridges it with a synthetic diff: binance-replay.ts).
 */
export interface FeedFrame {
  /** Subscription key it is delivered to: a lowercase Binance stream, `channel:instId` on OKX, a Deribit channel. */
  readonly key: string;
  /** Venue-native symbol whose id spans shift it. */
  readonly symbol: string;
  readonly template: FrameTemplate;
  /** An OKX books snapshot: a subscriber waiting for `key`'s snapshot starts receiving here. */
  readonly snapshot: boolean;
  /** Sent in the first loop only (Binance diffs the recorded snapshot already contains). */
  readonly first_loop_only?: boolean;
}

export interface ReplayFeed {
  readonly frames: readonly FeedFrame[];
  shifts(symbol: string, loop: number): Shifts;
  /** The cursor passes frame `index` (sent or skipped): update server-side state such as books. */
  advance(index: number): void;
}

/** Span of recorded time one loop takes, ms: the recording's span plus a second of quiet. */
export const LOOP_PAD_MS = 1000;

/** A parsed JSON value as an object, or undefined when it is not one. */
export function record(v: unknown): Record<string, unknown> | undefined {
  return isObject(v) ? v : undefined;
}

/** First and last receive time of a recording's lines: its loop length and its time shift. */
export class RecordedTimes {
  private first = Infinity;
  private last = -Infinity;

  see(recv_ts_s: number): void {
    this.first = Math.min(this.first, recv_ts_s * 1000);
    this.last = Math.max(this.last, recv_ts_s * 1000);
  }

  /** Shifts that anchor loop 0 at `start_ms` and make each loop the recording's span plus LOOP_PAD_MS. */
  shifts(start_ms: number, updateSpan: ReadonlyMap<string, number>, tradeSpan: ReadonlyMap<string, number>): SpanShifts {
    const seen = Number.isFinite(this.first);
    const loop_ms = seen ? Math.ceil(this.last - this.first) + LOOP_PAD_MS : LOOP_PAD_MS;
    return new SpanShifts(seen ? start_ms - Math.floor(this.first) : 0, loop_ms, updateSpan, tradeSpan);
  }
}

export class SpanShifts {
  private readonly cache = new Map<string, Shifts>();
  private cachedLoop = -1;

  constructor(
    /** Added to every recorded time in loop 0 (simulator start minus first recorded time). */
    private readonly base_ms: number,
    private readonly loop_ms: number,
    private readonly updateSpan: ReadonlyMap<string, number>,
    private readonly tradeSpan: ReadonlyMap<string, number>,
  ) {}

  get(symbol: string, loop: number): Shifts {
    if (loop !== this.cachedLoop) {
      this.cache.clear();
      this.cachedLoop = loop;
    }
    let s = this.cache.get(symbol);
    if (!s) {
      s = {
        time: this.base_ms + loop * this.loop_ms,
        update: loop * (this.updateSpan.get(symbol) ?? 0),
        trade: loop * (this.tradeSpan.get(symbol) ?? 0),
      };
      this.cache.set(symbol, s);
    }
    return s;
  }
}

/** Tracks min/max of a per-symbol id to compute spans. */
export class SpanTracker {
  private readonly min = new Map<string, number>();
  private readonly max = new Map<string, number>();

  see(symbol: string, value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value) || value < 0) return;
    const lo = this.min.get(symbol);
    const hi = this.max.get(symbol);
    if (lo === undefined || value < lo) this.min.set(symbol, value);
    if (hi === undefined || value > hi) this.max.set(symbol, value);
  }

  /** max - min + 1 per symbol: shifting by it puts the next loop's ids after this loop's. */
  spans(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [symbol, lo] of this.min) out.set(symbol, (this.max.get(symbol) ?? lo) - lo + 1);
    return out;
  }
}
