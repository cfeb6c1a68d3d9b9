/**
 * What the venue generators (`src/venues/<venue>/sim-generator.ts`) share: the assets they
 * list, a seeded random source, and an order book that changes a few levels per step. Every
 * value is a pure function of the asset, so a generated recording is the same in every process
 * and on every day; the replay's id shifts (feed.ts) then make ids move forward with wall-clock
 * time, as on a live venue.
 */

/** One generated asset, quoted in USDT (USD on Deribit). */
export interface SimAsset {
  /** Upper-case base asset: BTC, ETH, ..., G12. */
  readonly base: string;
  /** Reference price in the quote asset. */
  readonly price: number;
}

/** Receive time of the first generated line, ms; the replay re-anchors it to the wall clock. */
export const GENERATED_T0_MS = Date.UTC(2026, 0, 1);
/** Ms between two generated book updates of one instrument (Binance `@depth@100ms`, OKX `books`). */
export const GENERATED_STEP_MS = 100;
/** Book updates per instrument in one generated loop: 10 s of market time. */
export const GENERATED_STEPS = 100;

/**
 * mulberry32: a small, fast, seedable generator (values in [0, 1)). A string seed is hashed
 * (FNV-1a) into the 32-bit state; a number is the state itself.
 */
export class SeededRandom {
  private state: number;
  constructor(seed: string | number) {
    if (typeof seed === "number") {
      this.state = seed >>> 0;
      return;
    }
    let h = 2166136261;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
    this.state = h >>> 0;
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

/** `units` of 10^-decimals as a decimal string with exactly `decimals` digits after the point. */
export function decimalText(units: number, decimals: number): string {
  if (decimals === 0) return String(units);
  const s = String(units).padStart(decimals + 1, "0");
  return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/** Decimal places of an asset's price tick: about a hundred-thousandth of its price (BTC 0.1, ETH 0.01). */
export function priceDecimals(price: number): number {
  return Math.max(0, 5 - Math.floor(Math.log10(price)));
}

/** Decimal places of an asset's quantity step: finer for dearer assets (BTC 0.001, SOL 0.1). */
export function quantityDecimals(price: number): number {
  return Math.min(5, Math.max(0, Math.floor(Math.log10(price)) - 1));
}

/** One level change: price in ticks, quantity in lots (0 removes the level). */
export type TickLevel = readonly [number, number];

export interface BookStep {
  readonly bids: TickLevel[];
  readonly asks: TickLevel[];
}

/** Levels per side of a generated book. */
const BOOK_LEVELS = 120;
/** Changes land within this many ticks of the centre, where books change most. */
const ACTIVE_TICKS = 20;
/** A side never thins below this many levels. */
const MIN_LEVELS = 60;

/**
 * An order book on a price grid of integer ticks around a fixed centre: bids below it, asks
 * above it, so it never crosses. Each step sets or removes one to four levels near the top.
 */
export class GeneratedBook {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();

  constructor(
    private readonly rng: SeededRandom,
    /** Centre price in ticks. */
    readonly centre: number,
    private readonly maxLots: number,
  ) {
    for (let i = 1; i <= BOOK_LEVELS; i++) {
      this.bids.set(centre - i, rng.int(1, maxLots));
      this.asks.set(centre + i, rng.int(1, maxLots));
    }
  }

  step(): BookStep {
    const bids: TickLevel[] = [];
    const asks: TickLevel[] = [];
    const changes = this.rng.int(1, 4);
    for (let c = 0; c < changes; c++) {
      const bid = this.rng.next() < 0.5;
      const side = bid ? this.bids : this.asks;
      const out = bid ? bids : asks;
      const offset = this.rng.int(1, ACTIVE_TICKS);
      const tick = bid ? this.centre - offset : this.centre + offset;
      if (out.some(([t]) => t === tick)) continue;
      const remove = side.has(tick) && side.size > MIN_LEVELS && this.rng.next() < 0.3;
      const lots = remove ? 0 : this.rng.int(1, this.maxLots);
      if (lots === 0) side.delete(tick);
      else side.set(tick, lots);
      out.push([tick, lots]);
    }
    return { bids, asks };
  }

  // Levels live on the grid centre ± 1..BOOK_LEVELS, so the top of a side is a walk outward
  // from the centre rather than a sort.

  bestBid(): number {
    return this.topBids(1)[0]?.[0] ?? -Infinity;
  }

  bestAsk(): number {
    return this.topAsks(1)[0]?.[0] ?? Infinity;
  }

  /** Bids best first (descending), at most `limit`. */
  topBids(limit: number): TickLevel[] {
    return this.walk(this.bids, -1, limit);
  }

  /** Asks best first (ascending), at most `limit`. */
  topAsks(limit: number): TickLevel[] {
    return this.walk(this.asks, 1, limit);
  }

  private walk(side: ReadonlyMap<number, number>, direction: 1 | -1, limit: number): TickLevel[] {
    const out: TickLevel[] = [];
    for (let i = 1; i <= BOOK_LEVELS && out.length < limit; i++) {
      const tick = this.centre + direction * i;
      const lots = side.get(tick);
      if (lots !== undefined) out.push([tick, lots]);
    }
    return out;
  }
}

/** A generated trade against the book's top: a taker buy lifts the best ask, a sell hits the best bid. */
export interface GeneratedTrade {
  readonly buy: boolean;
  readonly tick: number;
  readonly lots: number;
}

/** A trade after about one book step in four, at the book's best price on the taker's side. */
export function maybeTrade(rng: SeededRandom, book: GeneratedBook, maxLots: number): GeneratedTrade | undefined {
  if (rng.next() >= 0.25) return undefined;
  const buy = rng.next() < 0.5;
  return { buy, tick: buy ? book.bestAsk() : book.bestBid(), lots: rng.int(1, maxLots) };
}
