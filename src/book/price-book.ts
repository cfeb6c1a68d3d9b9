import type { Level } from "../records/types.ts";

/** A level as received: [price, quantity, ...venue extras] of exchange text. */
export type RawLevel = readonly [string, string, ...string[]];

/**
 * A full price-level book. Each side is two parallel arrays sorted worst to best, so the best
 * level is last: `keys` (the numeric price, negated on the ask side so "better" is always
 * "larger") and `levels`, the immutable `[price, qty]` tuples of exchange text. Levels are
 * found by binary search on the numeric key, so two spellings of one price ("30189",
 * "30189.0") are one level, while the stored text is always the exchange's latest spelling
 * (the OKX checksum needs it).
 *
 * Why arrays, best last: updates cluster near the top of the book, and a splice near the end
 * of a dense array moves only the few levels after it (best-first storage moved the whole
 * side: ~10 % of OKX normalize time on its 400-level books). A sorted snapshot is written
 * straight into place (see `load`). Tuples are replaced, never mutated, so a top-N record shares them
 * safely (building 200 fresh tuples per record cost 12 % of Binance spot normalize time).
 * bench/book.bench.ts compares the apply rate with tardis-dev's red-black-tree OrderBook.
 */
export class BookSide {
  private keys: number[] = [];
  private levels: Level[] = [];

  constructor(private readonly isBid: boolean) {}

  get size(): number {
    return this.keys.length;
  }

  clear(): void {
    this.keys = [];
    this.levels = [];
  }

  /**
   * Sets a level to an absolute quantity; quantity 0 deletes it (absent levels are ignored).
   * Returns false, changing nothing, for a price that is not > 0 or a quantity that is not
   * plain non-negative decimal text: the one place level text is checked and parsed.
   */
  set(price: string, quantity: string): boolean {
    return this.put(price, quantity, undefined);
  }

  /**
   * `set` for a received level; a level of exactly `[price, qty]` (Binance) is stored as it is
   * (the caller's freshly parsed array, never mutated afterwards) instead of copied into a new
   * tuple: +18 % Binance spot book apply rate (medians of 11 interleaved runs).
   */
  private put(price: string, quantity: string, level: Level | undefined): boolean {
    const p = +price;
    const zero = quantityIsZero(quantity);
    if (!(p > 0) || zero === undefined) return false;
    const key = this.isBid ? p : -p;
    const keys = this.keys;
    const n = keys.length;
    if (n === 0 || (keys[n - 1] as number) < key) {
      // A new best level: append.
      if (!zero) {
        keys.push(key);
        this.levels.push(level ?? [price, quantity]);
      }
      return true;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    if (keys[lo] === key) {
      if (zero) {
        keys.splice(lo, 1);
        this.levels.splice(lo, 1);
      } else {
        this.levels[lo] = level ?? [price, quantity];
      }
    } else if (!zero) {
      keys.splice(lo, 0, key);
      this.levels.splice(lo, 0, level ?? [price, quantity]);
    }
    return true;
  }

  /** Applies received levels in order; false at the first invalid one (the rest are not applied). */
  apply(levels: readonly RawLevel[]): boolean {
    if (this.keys.length === 0 && levels.length > 1) return this.load(levels);
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i] as RawLevel;
      if (!this.put(l[0], l[1], l.length === 2 ? (l as Level) : undefined)) return false;
    }
    return true;
  }

  /**
   * Fills an empty side; a best-first sorted list (every snapshot) is written back to front
   * into arrays of its final length (no growth copies, no reverse pass). With the digit-OR
   * `quantityIsZero` this took Binance spot normalize from 0.66 to 0.69 of the bare JSON.parse
   * rate (medians of 9 interleaved rounds, 4 pairs, CPU time) and its book apply rate from
   * 341k to 452k updates/s (bench/book.bench.ts, medians of 3 pairs). Keys stay eager: lazily
   * parsed keys need the order and "> 0" checked on the text, and that scan plus a string
   * compare measured slower than `+text` (~28 ns per price), so it lost (0.67 -> 0.63).
   */
  private load(levels: readonly RawLevel[]): boolean {
    const n = levels.length;
    const keys = new Array<number>(n);
    const out = new Array<Level>(n);
    let at = n;
    let sorted = true;
    for (let i = 0; i < n; i++) {
      const l = levels[i] as RawLevel;
      const p = +l[0];
      const zero = quantityIsZero(l[1]);
      if (!(p > 0) || zero === undefined) return false;
      if (zero) continue;
      const key = this.isBid ? p : -p;
      if (at < n && !(key < (keys[at] as number))) sorted = false;
      at--;
      keys[at] = key;
      out[at] = l.length === 2 ? (l as Level) : [l[0], l[1]];
    }
    if (at > 0) {
      // Zero-quantity levels were skipped: drop the unused front slots.
      keys.splice(0, at);
      out.splice(0, at);
    }
    if (sorted) {
      this.keys = keys;
      this.levels = out;
      return true;
    }
    for (let i = out.length - 1; i >= 0; i--) {
      const l = out[i] as Level;
      this.set(l[0], l[1]);
    }
    return true;
  }

  /** Price text of the i-th best level (0 = best). */
  priceAt(i: number): string {
    return (this.levels[this.levels.length - 1 - i] as Level)[0];
  }

  quantityAt(i: number): string {
    return (this.levels[this.levels.length - 1 - i] as Level)[1];
  }

  /** The best `n` levels, best first (shared immutable tuples). */
  top(n: number): Level[] {
    const levels = this.levels;
    const last = levels.length - 1;
    const count = Math.min(n, levels.length);
    const out = new Array<Level>(count);
    for (let i = 0; i < count; i++) out[i] = levels[last - i] as Level;
    return out;
  }
}

/**
 * Whether plain decimal text ("0.00000000", "12.5") is zero; undefined when it is not plain
 * decimal text (sign, exponent, empty, two points). Only zero-ness matters to the book. One
 * unsigned range test per digit with the digit values OR-ed together: ~25 ns on a Binance
 * quantity, against ~35 ns for a per-character branch on zero and ~28 ns for `+text`.
 */
function quantityIsZero(text: string): boolean | undefined {
  const n = text.length;
  if (n === 0) return undefined;
  let nonzero = 0;
  let points = 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >>> 0 < 10) nonzero |= d;
    else if (d === -2 && i !== 0) points++;
    else return undefined;
  }
  return points > 1 ? undefined : nonzero === 0;
}

export class PriceBook {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  /** True when a non-empty book has best bid >= best ask: a sign of a corrupted book. */
  crossed(): boolean {
    if (this.bids.size === 0 || this.asks.size === 0) return false;
    return Number(this.bids.priceAt(0)) >= Number(this.asks.priceAt(0));
  }
}
