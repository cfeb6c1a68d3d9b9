import type { Level } from "../records/types.ts";

/** A level as received: [price, quantity, ...venue extras] of exchange text. */
export type RawLevel = readonly [string, string, ...string[]];

/**
 * Where a parser that has already read a level list's text (src/venues/book-frame-parser.ts)
 * leaves what the book would otherwise work out from it again: per level, its `levelValue`, or
 * NaN where the parser left the level to the book. A list without it is read from its text.
 *
 * Why: the parser's levels are lazy substrings of the frame, and the first read of one's
 * characters materializes it. Reading every price and quantity again here to parse and check them
 * was 15-20 % of Binance USDⓈ-M and OKX spot ingest time (CPU profiles, simulator replaying the
 * fixtures), while most levels are deleted or sink below the top N before anything reads their
 * text again. With the values, ingest CPU per frame fell ~12 % on those two feeds (8.0 -> 7.1 µs
 * and 22.5 -> 19.3 µs, means of three alternated 6 s runs each) and 5.6 -> 5.7 µs on Binance
 * spot, whose frequent book records read the top levels' text anyway.
 */
export const LEVEL_VALUES: unique symbol = Symbol("level values");

/** A level list, with the values its parser worked out when it has them. */
export type RawLevels = readonly RawLevel[] & { readonly [LEVEL_VALUES]?: readonly number[] };

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
  /** What `merge` writes into; the replaced arrays become the next spares. */
  private spareKeys: number[] = [];
  private spareLevels: Level[] = [];

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
   * plain non-negative decimal text (`levelValue`).
   */
  set(price: string, quantity: string): boolean {
    const value = levelValue(price, quantity);
    if (value !== value) return false;
    this.put(value, price, quantity, undefined);
    return true;
  }

  /**
   * `set` for a level whose `levelValue` is known; a level of exactly `[price, qty]` (Binance) is
   * stored as it is (the caller's freshly parsed array, never mutated afterwards) instead of
   * copied into a new tuple: +18 % Binance spot book apply rate (medians of 11 interleaved runs).
   */
  private put(value: number, price: string, quantity: string, level: Level | undefined): void {
    const zero = value < 0;
    const key = this.isBid ? Math.abs(value) : -Math.abs(value);
    const keys = this.keys;
    const n = keys.length;
    if (n === 0 || (keys[n - 1] as number) < key) {
      // A new best level: append.
      if (!zero) {
        keys.push(key);
        this.levels.push(level ?? [price, quantity]);
      }
      return;
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
  }

  /**
   * Applies received levels in order; false for an invalid one, after which the side holds an
   * unspecified part of the update (every caller then drops the book and resyncs).
   */
  apply(levels: RawLevels): boolean {
    const m = levels.length;
    const values = levels[LEVEL_VALUES];
    if (this.keys.length === 0 && m > 1) return this.load(levels, values);
    if (m >= MERGE_MIN_LEVELS && m * MERGE_DEPTH_RATIO >= this.keys.length) {
      const merged = this.merge(levels, values);
      if (merged !== undefined) return merged;
    }
    for (let i = 0; i < m; i++) {
      const l = levels[i] as RawLevel;
      const value = receivedValue(l, values, i);
      if (value !== value) return false;
      this.put(value, l[0], l[1], l.length === 2 ? (l as Level) : undefined);
    }
    return true;
  }

  /**
   * Applies an update listed best first with no price twice (how OKX and Binance send them) in
   * one pass that writes the side's merged levels into the spare arrays, which then swap in.
   * Returns undefined, having changed nothing, when the update is not in that order (the caller
   * applies it level by level); false, having changed nothing, for an invalid level.
   *
   * Why: level by level, every insert or delete is a `splice` of both arrays, which moves the
   * levels behind it and allocates an array of the removed items. OKX `books` pushes touch ~20
   * levels per side spread over 400: applying the recorded BTC-USDT pushes took 9.5 instead of
   * 11.7 µs each (checksum aside, same process, medians of 10 rounds), and bench/book.bench.ts
   * went 1.28-1.29 × on okx_spot.
   */
  private merge(levels: readonly RawLevel[], values: readonly number[] | undefined): boolean | undefined {
    const m = levels.length;
    const ukeys = UPDATE_KEYS;
    const uzero = UPDATE_ZERO;
    let previous = Infinity;
    for (let j = 0; j < m; j++) {
      const value = receivedValue(levels[j] as RawLevel, values, j);
      if (value !== value) return false;
      const zero = value < 0;
      const key = this.isBid ? Math.abs(value) : -Math.abs(value);
      if (!(key < previous)) return undefined;
      previous = key;
      ukeys[j] = key;
      uzero[j] = zero;
    }
    const keys = this.keys;
    const lv = this.levels;
    const n = keys.length;
    const outKeys = this.spareKeys;
    const outLevels = this.spareLevels;
    // Both in ascending key order: the side from its start, the update from its end.
    let i = 0;
    let j = m - 1;
    let k = 0;
    while (i < n && j >= 0) {
      const a = keys[i] as number;
      const b = ukeys[j] as number;
      if (a < b) {
        outKeys[k] = a;
        outLevels[k++] = lv[i++] as Level;
        continue;
      }
      if (!uzero[j]) {
        outKeys[k] = b;
        outLevels[k++] = levelOf(levels[j] as RawLevel);
      }
      if (a === b) i++;
      j--;
    }
    while (i < n) {
      outKeys[k] = keys[i] as number;
      outLevels[k++] = lv[i++] as Level;
    }
    for (; j >= 0; j--) {
      if (uzero[j]) continue;
      outKeys[k] = ukeys[j] as number;
      outLevels[k++] = levelOf(levels[j] as RawLevel);
    }
    outKeys.length = k;
    outLevels.length = k;
    this.spareKeys = keys;
    this.spareLevels = lv;
    this.keys = outKeys;
    this.levels = outLevels;
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
  private load(levels: readonly RawLevel[], values: readonly number[] | undefined): boolean {
    const n = levels.length;
    const keys = new Array<number>(n);
    const out = new Array<Level>(n);
    let at = n;
    let sorted = true;
    for (let i = 0; i < n; i++) {
      const l = levels[i] as RawLevel;
      const value = receivedValue(l, values, i);
      if (value !== value) return false;
      if (value < 0) continue;
      const key = this.isBid ? value : -value;
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

  /**
   * What is wrong with this side, or undefined: keys strictly ascending and one per level, each
   * level's price > 0 and quantity non-zero plain decimal text (`levelValue`), its key the price's
   * value. A book check (book syncs' `verify`), not a hot-path call: it walks the whole side.
   */
  problem(): string | undefined {
    const keys = this.keys;
    const levels = this.levels;
    if (keys.length !== levels.length) return `${keys.length} keys for ${levels.length} levels`;
    for (let i = 0; i < keys.length; i++) {
      const l = levels[i] as Level;
      const value = levelValue(l[0], l[1]);
      if (!(value > 0)) return `level ${l[0]}:${l[1]} is not a live level`;
      if (keys[i] !== (this.isBid ? value : -value)) return `level ${l[0]} filed under key ${keys[i]}`;
      if (i > 0 && !((keys[i - 1] as number) < (keys[i] as number))) return `levels out of order at ${l[0]}`;
    }
    return undefined;
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
 * A level's price as a number, negated when its quantity is zero: one number says where the
 * level goes and whether it goes. NaN for an invalid level: a price or quantity that is not
 * plain decimal text fitting Decimal(38,18) (`quantityIsZero`), or a zero price. `+text` alone
 * would take "1e5", "0x10", " 5" or "Infinity", which no record column can store.
 */
export function levelValue(price: string, quantity: string): number {
  const zero = quantityIsZero(quantity);
  if (zero === undefined || quantityIsZero(price) !== false) return NaN;
  const p = +price;
  return zero ? -p : p;
}

/** The i-th received level's `levelValue`, from its parser's `values` when that has it. */
function receivedValue(l: RawLevel, values: readonly number[] | undefined, i: number): number {
  const value = values === undefined ? NaN : (values[i] as number);
  return value === value ? value : levelValue(l[0], l[1]);
}

/** A received level as stored: itself when it is exactly `[price, qty]`, else a new pair. */
function levelOf(l: RawLevel): Level {
  return l.length === 2 ? (l as Level) : [l[0], l[1]];
}

/** Scratch for `merge`: the update's keys and zero flags (one thread, no reentry). */
const UPDATE_KEYS: number[] = [];
const UPDATE_ZERO: boolean[] = [];
/**
 * Updates shorter than this go level by level, and so do updates of fewer than one level per
 * MERGE_DEPTH_RATIO on the side: a pass over the whole side costs more than a few splices. At
 * 4 and 32, OKX's 4-level pushes on its ~125-level UNI-USD-SWAP book merged and that book's
 * rate fell to 0.68 × (bench/book.bench.ts); at 8 and 20 Binance and that book are unchanged.
 */
const MERGE_MIN_LEVELS = 8;
const MERGE_DEPTH_RATIO = 20;

/**
 * Whether plain decimal text ("0.00000000", "12.5") is zero; undefined when it is not plain
 * decimal text fitting Decimal(38,18): a sign, an exponent, empty, a point first, last or twice,
 * more than 20 integer or 18 fraction digits. Only zero-ness matters to the book. One
 * unsigned range test per digit with the digit values OR-ed together: ~25 ns on a Binance
 * quantity, against ~35 ns for a per-character branch on zero and ~28 ns for `+text`.
 */
function quantityIsZero(text: string): boolean | undefined {
  const n = text.length;
  if (n === 0) return undefined;
  let nonzero = 0;
  let point = -1;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >>> 0 < 10) nonzero |= d;
    else if (d === -2 && point < 0 && i !== 0 && i !== n - 1) point = i;
    else return undefined;
  }
  if (point < 0 ? n > MAX_INTEGER_DIGITS : point > MAX_INTEGER_DIGITS || n - point - 1 > MAX_FRACTION_DIGITS) return undefined;
  return nonzero === 0;
}

/** Decimal(38,18), the record columns' type (src/storage/schema.ts). */
const MAX_INTEGER_DIGITS = 20;
const MAX_FRACTION_DIGITS = 18;

export class PriceBook {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  /** What is wrong with either side (`BookSide.problem`), or undefined. */
  problem(): string | undefined {
    const bids = this.bids.problem();
    if (bids !== undefined) return `bids: ${bids}`;
    const asks = this.asks.problem();
    return asks === undefined ? undefined : `asks: ${asks}`;
  }

  /** True when a non-empty book has best bid >= best ask: a sign of a corrupted book. */
  crossed(): boolean {
    if (this.bids.size === 0 || this.asks.size === 0) return false;
    return Number(this.bids.priceAt(0)) >= Number(this.asks.priceAt(0));
  }
}
