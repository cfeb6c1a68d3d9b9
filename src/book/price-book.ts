import type { Level } from "../records/types.ts";

/** A level as received: [price, quantity, ...venue extras] of exchange text. */
export type RawLevel = readonly [string, string, ...string[]];

/**
 * A full price-level book. Each side is two parallel arrays kept sorted best-first: `keys`
 * (the numeric price, negated on the bid side so both sides sort ascending) and `levels`, the
 * immutable `[price, qty]` tuples of exchange text. Levels are found by binary search on the
 * numeric key, so two spellings of one price ("30189", "30189.0") are one level, while the
 * stored text is always the exchange's latest spelling (the OKX checksum needs it).
 *
 * Why arrays and not a tree: updates cluster near the top, books hold at most a few thousand
 * levels, and a splice on a dense array is a memmove; snapshots arrive sorted, so loading one
 * is a run of appends. Tuples are replaced, never mutated, so a top-N record is one `slice`
 * that later updates cannot change (measured: building 200 fresh tuples per record cost 12 %
 * of Binance spot normalize time; bench/book.bench.ts tracks the apply rate).
 */
export class BookSide {
  private keys: number[] = [];
  private levels: Level[] = [];

  constructor(private readonly descending: boolean) {}

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
   * >= 0: the one place level text becomes a number, so it is parsed once.
   */
  set(price: string, quantity: string): boolean {
    const p = +price;
    const zero = quantityIsZero(quantity);
    if (!(p > 0) || zero === undefined) return false;
    const remove = zero;
    const key = this.descending ? -p : p;
    const keys = this.keys;
    const n = keys.length;
    if (n === 0 || (keys[n - 1] as number) < key) {
      // Past the worst level (and every level of a sorted snapshot): append.
      if (!remove) {
        keys.push(key);
        this.levels.push([price, quantity]);
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
      if (remove) {
        keys.splice(lo, 1);
        this.levels.splice(lo, 1);
      } else {
        this.levels[lo] = [price, quantity];
      }
    } else if (!remove) {
      keys.splice(lo, 0, key);
      this.levels.splice(lo, 0, [price, quantity]);
    }
    return true;
  }

  /** Applies received levels in order; false at the first invalid one (the rest are not applied). */
  apply(levels: readonly RawLevel[]): boolean {
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i] as RawLevel;
      if (!this.set(l[0], l[1])) return false;
    }
    return true;
  }

  priceAt(i: number): string {
    return (this.levels[i] as Level)[0];
  }

  quantityAt(i: number): string {
    return (this.levels[i] as Level)[1];
  }

  /** The best `n` levels, best first (shared immutable tuples). */
  top(n: number): Level[] {
    return this.levels.slice(0, n);
  }
}

/**
 * Whether plain decimal text ("0.00000000", "12.5") is zero; undefined when it is not plain
 * decimal text (sign, exponent, empty, two points). Only zero-ness matters to the book, and
 * this scan costs about half of `+text` (bench/book.bench.ts).
 */
function quantityIsZero(text: string): boolean | undefined {
  const n = text.length;
  if (n === 0) return undefined;
  let zero = true;
  let point = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 48) continue;
    if (c === 46) {
      if (point || i === 0) return undefined;
      point = true;
    } else if (c > 48 && c <= 57) zero = false;
    else return undefined;
  }
  return zero;
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
