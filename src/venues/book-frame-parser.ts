/**
 * A parser for the frames that carry book levels (Binance depth diffs and REST snapshots, OKX
 * `books` pushes), used before `JSON.parse`. It reads compact JSON — no whitespace, no escape
 * sequences, the way the venues send it — and returns what `JSON.parse` would, except that a
 * level list (the array under a key `bids`, `asks`, `b` or `a`) comes back as `[price, qty]`
 * pairs of the level's first two strings (OKX's deprecated "0" and order count are dropped),
 * carrying each level's value for the book under LEVEL_VALUES (see `parseLevels`).
 * Anything outside that subset — whitespace, a backslash anywhere, a level that is not all
 * strings, a `__proto__` key, trailing text, nesting deeper than MAX_NESTING, malformed JSON (a
 * raw control character in a string included) — returns `undefined`, and the caller parses the frame with `JSON.parse` as
 * before, so odd or broken input takes the existing path and is counted there.
 *
 * Why: JavaScriptCore's `JSON.parse` builds every level as a fresh array of freshly copied
 * strings; here a level is two substrings of the frame and one pair. Measured on the fixture
 * frames (bun 1.4, this 2-core box), when the parser was written: Binance spot REST snapshots
 * (20-48 KB) 268-279 µs with `JSON.parse` against 58-62 µs scanning their levels, OKX BTC-USDT
 * book updates (1.3 KB, four strings per level) ~8 µs against ~2.4 µs. The depth diffs of both
 * Binance recordings, whole frames with the key cache and level values: 1.1-1.5 µs against
 * 1.7-2.1 µs for `JSON.parse` (three runs of 500 ms each, 2026-11-23).
 */

import { LEVEL_VALUES, type RawLevels } from "../book/price-book.ts";

const FAIL: unique symbol = Symbol("not compact JSON");
type Parsed = unknown;

const LEVEL_KEYS: ReadonlySet<string> = new Set(["bids", "asks", "b", "a"]);

let text = "";
let at = 0;
/** Arrays and objects open around `at`. */
let nesting = 0;

/**
 * Book frames nest four deep (OKX: object, data list, book object, level list). The parser
 * recurses per level of nesting, so deeper text goes to `JSON.parse`, which does not: a frame
 * nested 1,000,000 deep overflowed the stack here (test/venues/fuzz).
 */
const MAX_NESTING = 64;

/** The frame parsed as described above, or `undefined` when the fast subset does not cover it. */
export function parseBookFrame(frame: string): unknown {
  if (frame.indexOf("\\") >= 0) return undefined;
  text = frame;
  at = 0;
  nesting = 0;
  const value = parseValue(false);
  const ok = value !== FAIL && at === frame.length;
  text = "";
  return ok ? value : undefined;
}

function parseValue(levels: boolean): Parsed | typeof FAIL {
  const c = text.charCodeAt(at);
  if (c === 0x22) return parseString();
  if (c === 0x7b) return parseObject();
  if (c === 0x5b) return levels ? parseLevels() : parseArray();
  if (c === 0x74) return literal("true", true);
  if (c === 0x66) return literal("false", false);
  if (c === 0x6e) return literal("null", null);
  return parseNumber();
}

function literal(word: string, value: boolean | null): boolean | null | typeof FAIL {
  if (!text.startsWith(word, at)) return FAIL;
  at += word.length;
  return value;
}

function parseString(): string | typeof FAIL {
  const end = stringEnd(at + 1);
  if (end < 0) return FAIL;
  const out = text.slice(at + 1, end);
  at = end + 1;
  return out;
}

/** A raw control character in text[from, to): JSON.parse rejects those inside strings. */
function hasControl(from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

/** JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
function parseNumber(): number | typeof FAIL {
  const start = at;
  // Most numbers in book frames are ids and times: up to 15 digits are exact as they are read.
  let value = 0;
  let i = at;
  for (let d = text.charCodeAt(i) - 48; d >= 0 && d <= 9; d = text.charCodeAt(++i) - 48) value = value * 10 + d;
  const next = text.charCodeAt(i);
  if (i > at && i - at <= 15 && next !== 0x2e && next !== 0x65 && next !== 0x45 && (i - at === 1 || text.charCodeAt(at) !== 0x30)) {
    at = i;
    return value;
  }
  if (text.charCodeAt(at) === 0x2d) at++;
  const first = text.charCodeAt(at);
  if (first === 0x30) at++;
  else if (first >= 0x31 && first <= 0x39) at = digits(at + 1);
  else return FAIL;
  if (text.charCodeAt(at) === 0x2e) {
    const end = digits(at + 1);
    if (end === at + 1) return FAIL;
    at = end;
  }
  const e = text.charCodeAt(at);
  if (e === 0x65 || e === 0x45) {
    at++;
    const sign = text.charCodeAt(at);
    if (sign === 0x2b || sign === 0x2d) at++;
    const end = digits(at);
    if (end === at) return FAIL;
    at = end;
  }
  return Number(text.slice(start, at));
}

function digits(from: number): number {
  let i = from;
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i));
  return i;
}

function parseObject(): Record<string, unknown> | typeof FAIL {
  if (++nesting > MAX_NESTING) return FAIL;
  at++;
  const out: Record<string, unknown> = {};
  if (text.charCodeAt(at) === 0x7d) {
    at++;
    nesting--;
    return out;
  }
  for (;;) {
    if (text.charCodeAt(at) !== 0x22) return FAIL;
    const slot = parseKey();
    if (slot < 0 || text.charCodeAt(at) !== 0x3a) return FAIL;
    at++;
    // The key is read before its value: a key inside the value may take over the same slot.
    const key = KEYS[slot] as string;
    const value = parseValue(KEY_IS_LEVELS[slot] as boolean);
    if (value === FAIL) return FAIL;
    out[key] = value;
    const c = text.charCodeAt(at++);
    if (c === 0x7d) {
      nesting--;
      return out;
    }
    if (c !== 0x2c) return FAIL;
  }
}

/**
 * Keys read before, by a slot from their first character and length: the frames of a feed repeat
 * a handful of keys, and reusing the string made for one the first time spares a substring and
 * its conversion into a property name for every later occurrence. With this and the integer
 * path in `parseNumber`, the depth diffs of both Binance recordings parsed in 0.59-0.71 of the
 * time (medians of 16 alternated rounds, three runs); the frame around the levels had cost ~4
 * times what `JSON.parse` takes for it.
 */
const KEY_SLOTS = 1024;
const KEYS: (string | undefined)[] = new Array<string | undefined>(KEY_SLOTS).fill(undefined);
const KEY_IS_LEVELS: boolean[] = new Array<boolean>(KEY_SLOTS).fill(false);

/** Reads the key at `at` (its opening quote); returns its slot in KEYS, or -1 for a key this parser refuses. */
function parseKey(): number {
  const end = text.indexOf('"', at + 1);
  if (end < 0) return -1;
  const length = end - at - 1;
  const slot = ((text.charCodeAt(at + 1) << 4) ^ length) & (KEY_SLOTS - 1);
  const known = KEYS[slot];
  if (known === undefined || known.length !== length || !text.startsWith(known, at + 1)) {
    if (hasControl(at + 1, end)) return -1;
    const key = text.slice(at + 1, end);
    if (key === "__proto__") return -1;
    KEYS[slot] = key;
    KEY_IS_LEVELS[slot] = LEVEL_KEYS.has(key);
  }
  at = end + 1;
  return slot;
}

function parseArray(): unknown[] | typeof FAIL {
  if (++nesting > MAX_NESTING) return FAIL;
  at++;
  const out: unknown[] = [];
  if (text.charCodeAt(at) === 0x5d) {
    at++;
    nesting--;
    return out;
  }
  for (;;) {
    const value = parseValue(false);
    if (value === FAIL) return FAIL;
    out.push(value);
    const c = text.charCodeAt(at++);
    if (c === 0x5d) {
      nesting--;
      return out;
    }
    if (c !== 0x2c) return FAIL;
  }
}

/**
 * `[["p","q",…],…]`: each level an array of two or more strings, returned as `[p, q]`, with
 * each level's `levelValue` (price-book.ts) under LEVEL_VALUES, worked out in the same pass
 * that finds the strings' ends; NaN where the text is not what that pass reads (see
 * `scanPrice`, `scanQuantity`), and the book reads such a level from its text.
 */
function parseLevels(): RawLevels | typeof FAIL {
  at++;
  const out: [string, string][] = [];
  const values: number[] = [];
  if (text.charCodeAt(at) === 0x5d) {
    at++;
    return withValues(out, values);
  }
  for (;;) {
    if (text.charCodeAt(at) !== 0x5b || text.charCodeAt(at + 1) !== 0x22) return FAIL;
    const priceEnd = scanPrice(at + 2);
    if (priceEnd < 0 || text.charCodeAt(priceEnd + 1) !== 0x2c || text.charCodeAt(priceEnd + 2) !== 0x22) return FAIL;
    const price = scanned;
    const qtyEnd = scanQuantity(priceEnd + 3);
    if (qtyEnd < 0) return FAIL;
    out.push([text.slice(at + 2, priceEnd), text.slice(priceEnd + 3, qtyEnd)]);
    values.push(scanned === 1 ? -price : scanned === 0 ? price : NaN);
    at = qtyEnd + 1;
    // Further strings of the level (OKX: deprecated "0", order count).
    while (text.charCodeAt(at) === 0x2c) {
      if (text.charCodeAt(at + 1) !== 0x22) return FAIL;
      const end = stringEnd(at + 2);
      if (end < 0) return FAIL;
      at = end + 1;
    }
    if (text.charCodeAt(at) !== 0x5d) return FAIL;
    const c = text.charCodeAt(++at);
    at++;
    if (c === 0x5d) return withValues(out, values);
    if (c !== 0x2c) return FAIL;
  }
}

function withValues(levels: [string, string][], values: number[]): RawLevels {
  (levels as { [LEVEL_VALUES]?: readonly number[] })[LEVEL_VALUES] = values;
  return levels;
}

/** What the last `scanPrice` or `scanQuantity` read (see each). */
let scanned = NaN;

/**
 * Digits a price may have for `scanPrice` to read it: their integer stays below 2^53 and
 * 10^fraction digits is exact, so one division gives the correctly rounded value of the text,
 * which is what `+text` gives.
 */
const MAX_PRICE_DIGITS = 15;
const POW10: readonly number[] = Array.from({ length: MAX_PRICE_DIGITS + 1 }, (_, k) => 10 ** k);

/**
 * Reads the string whose text starts at `from` and returns the index of its closing quote, or
 * -1 when the JSON is malformed. `scanned` is its value when it is digits with at most one point,
 * not first, at most MAX_PRICE_DIGITS of them and not all zero; otherwise NaN.
 */
function scanPrice(from: number): number {
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  let i = from;
  for (;; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      digits++;
      if (fraction >= 0) fraction++;
    } else if (d === -2 && fraction < 0 && i !== from) fraction = 0;
    else break;
  }
  if (text.charCodeAt(i) === 0x22) {
    // A point last ("5.") is no Decimal text: NaN leaves the level to the book, which refuses it.
    scanned = digits <= MAX_PRICE_DIGITS && mantissa > 0 && fraction !== 0 ? mantissa / (POW10[fraction < 0 ? 0 : fraction] as number) : NaN;
    return i;
  }
  scanned = NaN;
  return stringEnd(i);
}

/**
 * `scanPrice` for a quantity: `scanned` is 1 when the text is plain decimal zero, 0 when plain
 * decimal non-zero (digits with at most one point, neither first nor last, at most 20 digits
 * before it and 18 after: Decimal(38,18)), NaN otherwise.
 */
function scanQuantity(from: number): number {
  let nonzero = 0;
  let point = -1;
  let i = from;
  for (;; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) nonzero |= d;
    else if (d === -2 && point < 0 && i !== from) point = i;
    else break;
  }
  if (text.charCodeAt(i) === 0x22) {
    const fits = point < 0 ? i - from <= 20 : point - from <= 20 && i - point - 1 <= 18 && i - point > 1;
    scanned = i === from || !fits ? NaN : nonzero === 0 ? 1 : 0;
    return i;
  }
  scanned = NaN;
  return stringEnd(i);
}

/**
 * The closing quote of the string that runs through `from`, or -1 (none, or a raw control
 * character before it). One pass instead of `indexOf` and a second scan for control characters:
 * the strings here are short (OKX levels carry two more of one to three characters each). In-process
 * normalize passes took 0.96-0.99 of the time (OKX, Binance USDⓈ-M; medians of 10-14 rounds).
 */
function stringEnd(from: number): number {
  for (let i = from; ; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    // A raw control character, or past the end of the text (NaN).
    if (!(c >= 0x20)) return -1;
  }
}
