import { isObject } from "../venues/normalizer-stats.ts";
import type { FrameTemplate, Shifts } from "./frame-template.ts";

/**
 * A recording prepared for looping. Each loop re-renders every frame with that loop's shifts:
 * times move by the loop's span, update ids and trade ids by a per-symbol span, so ids keep
 * rising from loop to loop and natural keys never repeat. Whether a book's update chain
 * continues across the boundary is the venue replay's choice (Binance bridges it with a
 * synthetic diff: src/venues/binance/sim-replay.ts).
 *
 * Loops are numbered on one wall-clock grid: loop n of the grid starts at
 * ID_EPOCH_MS + n × loop span and shifts ids by n × span, and a simulator starts at the grid loop
 * the wall clock is in. Ids and times therefore move forward like a live venue's, and what is
 * served under an id is a function of the recording and the id alone: a simulator restarted a
 * moment or a day later, or in another process, serves an id it or another one served before
 * only with the same content (same time, same levels), which storage dedups as one record.
 */
export interface FeedFrame {
  /** Subscription key it is delivered to: a lowercase Binance stream, `channel:instId` on OKX, a Deribit channel. */
  readonly key: string;
  /** Venue-native symbol whose id spans shift it. */
  readonly symbol: string;
  readonly template: FrameTemplate;
  /** An OKX books snapshot: a subscriber waiting for `key`'s snapshot starts receiving here. */
  readonly snapshot: boolean;
  /** A trade frame: the cursor passing it hands its text to `ReplayFeed.keepTrades` (the venue's REST trade history). */
  readonly trade?: boolean;
}

export interface ReplayFeed {
  readonly frames: readonly FeedFrame[];
  shifts(symbol: string, loop: number): Shifts;
  /** The cursor passes frame `index` (sent or skipped): update server-side state such as books. */
  advance(index: number): void;
  /** The cursor passes a `trade` frame rendered as `text` (sent or not): the venue keeps its trades (sent-trades.ts). */
  keepTrades?(frame: FeedFrame, text: string): void;
}

/** Span of recorded time one loop takes, ms: the recording's span in whole seconds plus a second of quiet. */
export const LOOP_PAD_MS = 1000;

/**
 * Origin of the loop grid (2026-01-01 UTC). Grid loops count from here rather than from 1970
 * so that ids stay far below 2^53: a 31 s loop shifting a 2·10^7 id span is ~10^15 only after
 * some 45 years.
 */
export const ID_EPOCH_MS = Date.UTC(2026, 0, 1);

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

  /**
   * Shifts for loops of the recording's span plus LOOP_PAD_MS, the process's loop 0 being the
   * grid loop that `start_ms` falls in (it began at most one loop span earlier). Loop spans and
   * time shifts are whole seconds: a replay keeps each record's place within its second, so
   * books sampled on a cadence that divides a second (orderbook.snapshot_interval_ms) are taken
   * after the same updates as in the recorded run.
   */
  shifts(start_ms: number, updateSpan: ReadonlyMap<string, number>, tradeSpan: ReadonlyMap<string, number>): SpanShifts {
    const seen = Number.isFinite(this.first);
    const first_s_ms = seen ? Math.floor(this.first / 1000) * 1000 : 0;
    const loop_ms = seen ? Math.ceil((this.last - first_s_ms) / 1000) * 1000 + LOOP_PAD_MS : LOOP_PAD_MS;
    const grid = Math.floor((start_ms - ID_EPOCH_MS) / loop_ms);
    const base_ms = seen ? ID_EPOCH_MS + grid * loop_ms - first_s_ms : 0;
    return new SpanShifts(base_ms, loop_ms, grid, updateSpan, tradeSpan);
  }
}

export class SpanShifts {
  private readonly cache = new Map<string, Shifts>();
  private cachedLoop = -1;

  constructor(
    /** Added to every recorded time in loop 0 (start of its grid loop minus first recorded time). */
    private readonly base_ms: number,
    private readonly loop_ms: number,
    /** Grid number of loop 0 (loops since ID_EPOCH_MS): ids shift by (grid + loop) spans. */
    private readonly grid: number,
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
        update: (this.grid + loop) * (this.updateSpan.get(symbol) ?? 0),
        trade: (this.grid + loop) * (this.tradeSpan.get(symbol) ?? 0),
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
