/**
 * What the venue generators (`src/venues/<venue>/sim-generator.ts`) share: the assets they
 * list, a seeded random source, and a book and trade tape that are pure functions of
 * (instrument, step). Step k of an instrument is its k-th 100 ms since GENERATED_T0_MS; nothing
 * is pre-rendered and nothing is kept per step, so an instrument costs O(1) to start and the
 * same memory whatever the step, and any step can be rendered at any time: the stream renders
 * the step that is due, a REST snapshot the step the stream last passed. Ids are functions of
 * the step too, so they move forward with wall-clock time like a live venue's, and a simulator
 * restarted a moment or a day later serves an id only with the content it served before.
 */

/** One generated asset, quoted in USDT (USD on Deribit). */
export interface SimAsset {
  /** Upper-case base asset: BTC, ETH, ..., G12. */
  readonly base: string;
  /** Reference price in the quote asset. */
  readonly price: number;
  /** A hot asset: busier trades, book tops and liquidations (ACTIVITY says how much; generator.ts which). */
  readonly hot: boolean;
  /** 24 h volume in the quote asset on a venue of weight 1 (venues scale it): hot assets lead. */
  readonly quote_volume_24h: number;
}

/** How busy an instrument is. */
export interface Activity {
  /** Poisson trades a second outside bursts. */
  readonly trades_per_s: number;
  /** Chance that a trade burst starts at a step. */
  readonly burst_p: number;
  /** Trades a step in a burst, times 2..21. */
  readonly burst_scale: number;
  /** Book levels a side that change every other step. */
  readonly top_levels: number;
  /** Chance of a liquidation in a second (Binance pushes at most one a second per symbol). */
  readonly liquidation_p: number;
}

/**
 * Hot assets against the rest: 20x the trades (30/s against 1.5/s), four times the bursts and
 * three times their size, three changing top levels a side instead of one, ten times the
 * liquidations. Book updates stay at one per 100 ms: the venues' diff streams do not go faster.
 */
export const ACTIVITY: { readonly hot: Activity; readonly normal: Activity } = {
  hot: { trades_per_s: 30, burst_p: 0.02, burst_scale: 3, top_levels: 3, liquidation_p: 0.2 },
  normal: { trades_per_s: 1.5, burst_p: 0.005, burst_scale: 1, top_levels: 1, liquidation_p: 0.02 },
};

/** Step 0 of every instrument (2026-01-01 UTC): steps count from here, so ids stay far below 2^53. */
export const GENERATED_T0_MS = Date.UTC(2026, 0, 1);
/** Ms between two steps of one instrument (Binance `@depth@100ms`, OKX `books`). */
export const GENERATED_STEP_MS = 100;
/** Steps per instrument in a rendered recording (`generatorSource().read`): 10 s of market time. */
export const GENERATED_STEPS = 100;

/**
 * mulberry32: a small, fast, seedable generator (values in [0, 1)). A string seed is hashed
 * (FNV-1a) into the 32-bit state; a number is the state itself.
 */
export class SeededRandom {
  private state: number;
  constructor(seed: string | number) {
    this.state = typeof seed === "number" ? seed >>> 0 : hashText(seed);
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/** FNV-1a of a string: an instrument's seed. */
export function hashText(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A 32-bit hash of three integers (murmur3 finalizer rounds): the generator's only source of chance. */
export function mix(seed: number, a: number, b: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ (a | 0);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) ^ (b | 0);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
const ZEROS = Array.from({ length: 16 }, (_, i) => "0".repeat(i));

/**
 * `units` (a non-negative integer below 2^53) of 10^-decimals as a decimal string with exactly
 * `decimals` digits after the point. Integer arithmetic and a table of zero runs, not
 * `padStart` and slices: it runs for every price and size of every generated frame.
 */
export function decimalText(units: number, decimals: number): string {
  if (decimals === 0) return String(units);
  const p = POW10[decimals] as number;
  const whole = Math.floor(units / p);
  const frac = String(units - whole * p);
  return `${whole}.${ZEROS[decimals - frac.length] ?? ""}${frac}`;
}

/**
 * Size texts by lot count for one (decimals, scale), built on first use and shared: sizes are
 * a few thousand lots at most, so the table stays small whatever the symbol count.
 */
export class LotTexts {
  private static readonly shared = new Map<string, LotTexts>();
  private readonly texts: string[] = [];

  private constructor(
    private readonly decimals: number,
    private readonly scale: number,
  ) {}

  /** The table for sizes of `lots` × `scale` units of 10^-decimals. */
  static of(decimals: number, scale = 1): LotTexts {
    const key = `${decimals}:${scale}`;
    let t = LotTexts.shared.get(key);
    if (t === undefined) {
      t = new LotTexts(decimals, scale);
      LotTexts.shared.set(key, t);
    }
    return t;
  }

  text(lots: number): string {
    let t = this.texts[lots];
    if (t === undefined) {
      t = decimalText(lots * this.scale, this.decimals);
      this.texts[lots] = t;
    }
    return t;
  }
}

/** Decimal places of an asset's price tick: about a hundred-thousandth of its price (BTC 0.1, ETH 0.01). */
export function priceDecimals(price: number): number {
  return Math.max(0, 5 - Math.floor(Math.log10(price)));
}

/** Decimal places of an asset's quantity step: finer for dearer assets (BTC 0.001, SOL 0.1). */
export function quantityDecimals(price: number): number {
  return Math.min(5, Math.max(0, Math.floor(Math.log10(price)) - 1));
}

/** The step whose time is the latest at or before `ts_ms` for an instrument with `phase_ms`. */
export function stepAt(ts_ms: number, phase_ms: number): number {
  return Math.floor((ts_ms - GENERATED_T0_MS - phase_ms) / GENERATED_STEP_MS);
}

/** Event time of step `k` of an instrument with `phase_ms`. */
export function stepTime(k: number, phase_ms: number): number {
  return GENERATED_T0_MS + k * GENERATED_STEP_MS + phase_ms;
}

/** Levels per side: the book spans this many ticks each side of its centre. */
export const BOOK_LEVELS = 120;
/** Ticks the centre wanders: 40 over an hour, 15 over five minutes, 5 over ten seconds (at most 0.06 % of any asset's price). */
const DRIFT: readonly (readonly [number, number])[] = [[40, 36_000], [15, 3_000], [5, 100]];
/** A deep level keeps its quantity for DEEP_PERIOD steps (40 s); one level a side turns over per step. */
const DEEP_PERIOD = 400;
/** DEEP_STRIDE·p mod DEEP_PERIOD spreads the turnovers over the prices; DEEP_INVERSE is its inverse mod DEEP_PERIOD. */
const DEEP_STRIDE = 37;
const DEEP_INVERSE = 173;
/** Share (of 100) of deep levels that are empty: the diffs delete levels as well as set them. */
const HOLE_PCT = 15;

/** One side of the book: bids below the centre, asks above it. */
export const BID = 0;
export const ASK = 1;

/** One level change or level: price in ticks, quantity in lots (0 removes the level). */
export interface LevelChange {
  side: number;
  tick: number;
  lots: number;
}

/**
 * An order book on a grid of integer price ticks, a pure function of the step:
 * - its centre wanders by at most one tick a step (three slow sine waves, DRIFT), bids fill the
 *   BOOK_LEVELS ticks below it and asks the ticks above it, so it never crosses;
 * - the `top` levels nearest the centre on each side change every other step (bids on even
 *   steps, asks on odd ones, each value differing from the one before), so every step changes
 *   the book;
 * - every other level holds a quantity (or a hole) for DEEP_PERIOD steps, the turnovers
 *   staggered so that about one level a side changes per step.
 * A step's diff is found by comparing the few levels that can change at it, never the whole book.
 */
export class LiveBook {
  private readonly phases: readonly number[];

  constructor(
    private readonly seed: number,
    /** Centre price in ticks at the drift's rest. */
    readonly centre0: number,
    private readonly maxLots: number,
    /** Levels a side that change every other step: 1, hot instruments more. */
    readonly top: number,
  ) {
    this.phases = DRIFT.map((_, i) => ((mix(seed, 7, i) % 1000) / 1000) * 2 * Math.PI);
  }

  centre(k: number): number {
    let drift = 0;
    for (let i = 0; i < DRIFT.length; i++) {
      const [ticks, period] = DRIFT[i] as readonly [number, number];
      drift += ticks * Math.sin((2 * Math.PI * k) / period + (this.phases[i] ?? 0));
    }
    return this.centre0 + Math.round(drift);
  }

  /** Lots at `tick` in step `k` of a book centred at `c` (0 = no level). */
  lotsAt(tick: number, k: number, c: number): number {
    const d = tick < c ? c - tick : tick - c;
    if (d === 0 || d > BOOK_LEVELS) return 0;
    if (d <= this.top) {
      // Top levels: a new value every other step, alternating parity so each differs from the last.
      const epoch = tick < c ? Math.floor(k / 2) : Math.floor((k + 1) / 2);
      const h = mix(this.seed, tick, epoch);
      return 1 + 2 * (h % (this.maxLots >> 1)) + (epoch & 1);
    }
    const epoch = Math.floor((k + ((DEEP_STRIDE * tick) % DEEP_PERIOD)) / DEEP_PERIOD);
    const h = mix(this.seed ^ 0x5bd1e995, tick, epoch);
    if (h % 100 < HOLE_PCT) return 0;
    return 1 + ((h >>> 8) % this.maxLots);
  }

  /**
   * The levels step `k` changes, into `out` (reused; returns the count): the top levels of
   * both steps, the deep level turning over, and the window's edges when the centre moves.
   * Candidates are compared in place (no closure or array per call: it runs per frame).
   */
  diff(k: number, out: LevelChange[]): number {
    const c = this.centre(k);
    const c0 = this.centre(k - 1);
    CANDIDATES.length = 0;
    let n = 0;
    for (let d = 1; d <= this.top; d++) {
      n = this.consider(c - d, k, c, c0, out, n);
      n = this.consider(c + d, k, c, c0, out, n);
      n = this.consider(c0 - d, k, c, c0, out, n);
      n = this.consider(c0 + d, k, c, c0, out, n);
    }
    // The deep turnover: DEEP_STRIDE·tick ≡ -k (mod DEEP_PERIOD), at most one tick in a window.
    const r = ((((-k % DEEP_PERIOD) + DEEP_PERIOD) % DEEP_PERIOD) * DEEP_INVERSE) % DEEP_PERIOD;
    for (let lo = c - BOOK_LEVELS; ; lo = c0 - BOOK_LEVELS) {
      const first = lo + ((((r - lo) % DEEP_PERIOD) + DEEP_PERIOD) % DEEP_PERIOD);
      if (first <= lo + 2 * BOOK_LEVELS) n = this.consider(first, k, c, c0, out, n);
      if (lo === c0 - BOOK_LEVELS) break;
    }
    if (c !== c0) {
      // The window's edges, one call each (an array of them would be one allocation per frame).
      n = this.consider(c, k, c, c0, out, n);
      n = this.consider(c0, k, c, c0, out, n);
      n = this.consider(c - BOOK_LEVELS, k, c, c0, out, n);
      n = this.consider(c0 - BOOK_LEVELS, k, c, c0, out, n);
      n = this.consider(c + BOOK_LEVELS, k, c, c0, out, n);
      n = this.consider(c0 + BOOK_LEVELS, k, c, c0, out, n);
      n = this.consider(c - BOOK_LEVELS - 1, k, c, c0, out, n);
      n = this.consider(c + BOOK_LEVELS + 1, k, c, c0, out, n);
    }
    return n;
  }

  /** Adds `tick` to `out[n]` when step `k` (centre `c`, previous centre `c0`) changes it; returns the new count. */
  private consider(tick: number, k: number, c: number, c0: number, out: LevelChange[], n: number): number {
    if (CANDIDATES.includes(tick)) return n;
    CANDIDATES.push(tick);
    const now = this.lotsAt(tick, k, c);
    if (now === this.lotsAt(tick, k - 1, c0)) return n;
    const side = now > 0 ? (tick < c ? BID : ASK) : tick < c0 ? BID : ASK;
    const slot = out[n];
    if (slot === undefined) out[n] = { side, tick, lots: now };
    else {
      slot.side = side;
      slot.tick = tick;
      slot.lots = now;
    }
    return n + 1;
  }

  /** The best `limit` levels of `side` in step `k`, best first, into `out` (reused; returns the count). */
  levels(side: number, k: number, limit: number, out: LevelChange[]): number {
    const c = this.centre(k);
    let n = 0;
    for (let d = 1; d <= BOOK_LEVELS && n < limit; d++) {
      const tick = side === BID ? c - d : c + d;
      const lots = this.lotsAt(tick, k, c);
      if (lots === 0) continue;
      let slot = out[n];
      if (slot === undefined) {
        slot = { side, tick, lots };
        out[n] = slot;
      } else {
        slot.side = side;
        slot.tick = tick;
        slot.lots = lots;
      }
      n++;
    }
    return n;
  }
}

/** Sorts `changes[0..n)` by tick in place (a diff holds a handful: insertion sort, no array per frame). */
export function sortByTick(changes: LevelChange[], n: number): void {
  for (let i = 1; i < n; i++) {
    const c = changes[i] as LevelChange;
    let j = i - 1;
    while (j >= 0 && (changes[j] as LevelChange).tick > c.tick) {
      changes[j + 1] = changes[j] as LevelChange;
      j--;
    }
    changes[j + 1] = c;
  }
}

/** Ticks already looked at by one `diff` call (the generator runs on one thread). */
const CANDIDATES: number[] = [];

/** Trades one step may carry: trade ids are step × MAX_TRADES_PER_STEP + index, so they rise with time. */
export const MAX_TRADES_PER_STEP = 100;

/**
 * A bursty trade tape, a pure function of the step: a Poisson stream at `per_s` trades a second,
 * plus bursts that start at a step with probability `burst_p`, last one to four steps and carry
 * 2 to 21 trades a step each (`burst_scale` times that on hot instruments).
 */
export class TradeTape {
  constructor(
    private readonly seed: number,
    private readonly per_s: number,
    private readonly burst_p: number,
    private readonly burst_scale: number,
  ) {}

  /** Trades in step `k` (at most MAX_TRADES_PER_STEP). */
  count(k: number): number {
    const mean = (this.per_s * GENERATED_STEP_MS) / 1000;
    // Inverse-CDF Poisson draw from one uniform.
    let u = mix(this.seed, k, 1) / 4294967296;
    let n = 0;
    let p = Math.exp(-mean);
    while (u > p && n < MAX_TRADES_PER_STEP) {
      u -= p;
      n++;
      p = (p * mean) / n;
    }
    for (let start = k - 3; start <= k; start++) {
      const h = mix(this.seed, start, 2);
      if (h / 4294967296 >= this.burst_p) continue;
      const length = 1 + ((h >>> 4) % 4);
      if (k < start + length) n += Math.round((2 + ((h >>> 8) % 20)) * this.burst_scale);
    }
    return Math.min(n, MAX_TRADES_PER_STEP);
  }

  /** Trade `j` of step `k`, packed: lots in [1, maxLots] times 2, plus 1 for a taker buy (no object per trade). */
  trade(k: number, j: number, maxLots: number): number {
    const h = mix(this.seed, k, 16 + j);
    return ((1 + ((h >>> 1) % maxLots)) << 1) | (h & 1);
  }
}
