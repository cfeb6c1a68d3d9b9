import type { Level } from "../records/types.ts";

/** A level as received: [price, quantity, ...venue extras] of exchange text. */
export type RawLevel = readonly [string, string, ...string[]];

/**
 * A full price-level book. Each side is three parallel arrays kept sorted best-first:
 * `keys` (the numeric price, negated on the bid side so both sides sort ascending), the
 * original price strings and the quantity strings. Levels are found by binary search on the
 * numeric key, so two spellings of one price ("30189", "30189.0") are one level, while the
 * stored text is always the exchange's latest spelling (the OKX checksum needs it).
 *
 * Why arrays and not a tree: book updates cluster near the top, the books here hold at most a
 * few thousand levels, and a splice on a dense number array is a memmove; top-N output is a
 * slice with no sorting (bench/book.bench.ts measures the apply rate against tardis-dev).
 */
export class BookSide {
  private readonly keys: number[] = [];
  private readonly prices: string[] = [];
  private readonly quantities: string[] = [];

  constructor(private readonly descending: boolean) {}

  get size(): number {
    return this.keys.length;
  }

  clear(): void {
    this.keys.length = 0;
    this.prices.length = 0;
    this.quantities.length = 0;
  }

  /** Sets a level to an absolute quantity; `remove` deletes it (absent levels are ignored). */
  set(price: string, quantity: string, remove: boolean): void {
    const key = this.descending ? -Number(price) : Number(price);
    const keys = this.keys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    if (lo < keys.length && keys[lo] === key) {
      if (remove) {
        keys.splice(lo, 1);
        this.prices.splice(lo, 1);
        this.quantities.splice(lo, 1);
      } else {
        this.prices[lo] = price;
        this.quantities[lo] = quantity;
      }
    } else if (!remove) {
      keys.splice(lo, 0, key);
      this.prices.splice(lo, 0, price);
      this.quantities.splice(lo, 0, quantity);
    }
  }

  priceAt(i: number): string {
    return this.prices[i] as string;
  }

  quantityAt(i: number): string {
    return this.quantities[i] as string;
  }

  /** The best `n` levels, best first. */
  top(n: number): Level[] {
    const count = Math.min(n, this.keys.length);
    const out = new Array<Level>(count);
    for (let i = 0; i < count; i++) out[i] = [this.prices[i] as string, this.quantities[i] as string];
    return out;
  }
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
