import { RECORD_TYPES, type Level, type OrderbookRecord } from "../records/types.ts";
import { LevelsText } from "./levels-text.ts";
import { packedKeyList, strHeaderSize, strLengthAt } from "./raw-frame.ts";
import { canonicalKeys } from "./record-fields.ts";
import type { StorageOrderbookRecord } from "./storage-record.ts";

const ORDERBOOK_KEYS = canonicalKeys("orderbook");
const ORDERBOOK_KEY_BYTES = packedKeyList("orderbook");
const BIDS = ORDERBOOK_KEYS.indexOf("bids");
const ASKS = ORDERBOOK_KEYS.indexOf("asks");

const EMPTY: Uint8Array = new Uint8Array(0);
const EMPTY_TEXT: Buffer = Buffer.alloc(0);
/** Where the bytes being read are; module state, as the reader never re-enters. */
let data: Uint8Array = EMPTY;
/** `data` as a Buffer, for its strings (`readString`). */
let text: Buffer = EMPTY_TEXT;
let p = 0;
/** Bytes that did not read as expected: the generic decoder takes the frame. */
const NO: unique symbol = Symbol("not a frame this reader reads");

/**
 * Order-book records of a frame (record-codec.ts) read for storage, with `bids` and `asks` as
 * `LevelsText` instead of level arrays; undefined for any frame outside what this reads (other
 * field lists, structures, value types, a level that is not two decimal strings, malformed or
 * truncated bytes), which the generic decoder then reads and judges as before.
 *
 * Why: the storing orderbook worker took ~20 % of a core in the e2e bench, and most of it went
 * on the levels: 400 strings and 200 arrays decoded per 100-level book, each string checked
 * against the decimal pattern, the lists serialized to JSON and that text escaped again inside
 * the JSONColumns document. Here the levels are checked where they lie and left there: a
 * LevelsText marks them, and the columnar batch writes their escaped literal from these bytes
 * straight into the insert document.
 */
export function readBookFrame(bytes: Uint8Array): StorageOrderbookRecord[] | undefined {
  data = bytes;
  text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  p = 0;
  try {
    const records = readFrame();
    return records === NO || p !== bytes.length ? undefined : records;
  } finally {
    data = EMPTY;
    text = EMPTY_TEXT;
  }
}

function readFrame(): StorageOrderbookRecord[] | typeof NO {
  const n = arrayLength();
  // Every record takes at least a byte: a longer count is malformed, not a reason to allocate.
  if (n < 0 || n > data.length - p) return NO;
  const records: StorageOrderbookRecord[] = new Array<StorageOrderbookRecord>(n);
  let id = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0) {
      // `d4 72 <id>`: the structure is defined here, its key list follows (raw-frame.ts).
      if (data[p] !== 0xd4 || data[p + 1] !== 0x72) return NO;
      id = data[p + 2] ?? -1;
      p += 3;
      if (id < 0x40 || id > 0x7f || !readKeys()) return NO;
    } else if (data[p++] !== id) return NO;
    const record = readValues(true);
    if (record === NO) return NO;
    // The canonical key list, each value read as ring-encoder.ts writes it, the levels as
    // LevelsText; validateRecord checks the values before they are stored.
    records[i] = record as unknown as StorageOrderbookRecord;
  }
  return records;
}

/** The structure's key list, compared as bytes with the one raw frames carry (no strings made). */
function readKeys(): boolean {
  const keys = ORDERBOOK_KEY_BYTES;
  if (p + keys.length > data.length) return false;
  for (let i = 0; i < keys.length; i++) if (data[p + i] !== keys[i]) return false;
  p += keys.length;
  return true;
}

/**
 * A ring record of an order book (`0x40 + type index`, then its values: ring-encoder.ts) in
 * `bytes[start, end)` with its level lists left out (empty): what its natural key needs.
 * Undefined if it does not read so.
 *
 * Why: the publisher keys each frame by its first and last record, and decoding those whole
 * read 200 levels of each only to drop them; for order books, mostly one or two a frame, that
 * was the publishing side's largest decode cost.
 */
export function readRingBookHead(bytes: Uint8Array, start: number, end: number): OrderbookRecord | undefined {
  data = bytes;
  text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  p = start + 1;
  try {
    if (bytes[start] !== ORDERBOOK_RING_ID) return undefined;
    const record = readValues(false);
    // As in readFrame, with both level lists empty.
    return record === NO || p !== end ? undefined : (record as unknown as OrderbookRecord);
  } finally {
    data = EMPTY;
    text = EMPTY_TEXT;
  }
}

const ORDERBOOK_RING_ID = 0x40 + RECORD_TYPES.indexOf("orderbook");
const NO_LEVELS: readonly Level[] = [];

/** The order book's fields by name; its levels as LevelsText, or empty when `levels` is false. */
function readValues(levels: boolean): Record<string, unknown> | typeof NO {
  const record: Record<string, unknown> = {};
  for (let k = 0; k < ORDERBOOK_KEYS.length; k++) {
    const value = k === BIDS || k === ASKS ? (levels ? readLevels() : skipLevels()) : readScalar();
    if (value === NO) return NO;
    record[ORDERBOOK_KEYS[k] as string] = value;
  }
  return record;
}

/** A msgpack array header's length, or -1. */
function arrayLength(): number {
  const b = data[p] ?? -1;
  if (b >= 0x90 && b <= 0x9f) {
    p += 1;
    return b & 0x0f;
  }
  if (b === 0xdc) {
    p += 3;
    return ((data[p - 2] ?? 0) << 8) | (data[p - 1] ?? 0);
  }
  if (b === 0xdd) {
    p += 5;
    return (((data[p - 4] ?? 0) << 24) | ((data[p - 3] ?? 0) << 16) | ((data[p - 2] ?? 0) << 8) | (data[p - 1] ?? 0)) >>> 0;
  }
  return -1;
}

/** A msgpack str header's byte length (p then at the first byte), or -1. */
function stringLength(): number {
  const header = strHeaderSize(data[p] ?? -1);
  if (header === 0 || p + header > data.length) return -1;
  const length = strLengthAt(data, p, header);
  p += header;
  return length;
}

/** An ASCII string, or NO (other bytes and longer strings are the generic decoder's). */
function readString(): string | typeof NO {
  const length = stringLength();
  if (length < 0 || p + length > data.length) return NO;
  for (let i = p; i < p + length; i++) if ((data[i] as number) >= 0x80) return NO;
  // Not TextDecoder("latin1"): in Bun it makes two-byte strings, which every later copy,
  // JSON.stringify and UTF-8 conversion of the insert document then handles on slower paths.
  const s = text.toString("latin1", p, p + length);
  p += length;
  return s;
}

const F64 = new DataView(new ArrayBuffer(8));

/** A string or a number, the only scalars an order-book record has. */
function readScalar(): string | number | typeof NO {
  const b = data[p] ?? -1;
  if (strHeaderSize(b) !== 0) return readString();
  // Positive fixints stop at 0x3f: 0x40..0x7f are record ids in msgpackr's record format.
  if (b >= 0x00 && b <= 0x3f) {
    p += 1;
    return b;
  }
  if (b >= 0xe0) {
    p += 1;
    return b - 0x100;
  }
  const size = b === 0xcc || b === 0xd0 ? 1 : b === 0xcd || b === 0xd1 ? 2 : b === 0xce || b === 0xd2 ? 4 : b === 0xcb ? 8 : 0;
  if (size === 0 || p + 1 + size > data.length) return NO;
  let v: number;
  const at = p + 1;
  if (b === 0xcb) {
    for (let i = 0; i < 8; i++) F64.setUint8(i, data[at + i] as number);
    v = F64.getFloat64(0);
  } else {
    v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + (data[at + i] as number);
    // Signed: subtract 2^(8·size) when the top bit is set.
    if (b >= 0xd0 && (data[at] as number) >= 0x80) v -= 2 ** (8 * size);
  }
  p = at + size;
  return v;
}

/** A level list as LevelsText, or NO for anything but `[["price","qty"],…]` of Decimal(38,18) text. */
function readLevels(): LevelsText | typeof NO {
  const n = arrayLength();
  if (n < 0) return NO;
  const start = p;
  // `"[` and `]"`, then per level `[`, `]`, the comma between the two strings and the one
  // before every level but the first; each string adds its text and its escaped quotes.
  let bytes = 4 + 4 * n - (n > 0 ? 1 : 0);
  for (let i = 0; i < n; i++) {
    if (data[p++] !== 0x92) return NO;
    const price = checkDecimal();
    if (price < 0) return NO;
    const qty = checkDecimal();
    if (qty < 0) return NO;
    bytes += price + qty + 8;
  }
  return new LevelsText(data, start, n, bytes);
}

/** Steps over a level list of string pairs; NO_LEVELS, or NO. */
function skipLevels(): readonly Level[] | typeof NO {
  const n = arrayLength();
  if (n < 0) return NO;
  for (let i = 0; i < n; i++) {
    if (data[p++] !== 0x92) return NO;
    for (let j = 0; j < 2; j++) {
      const length = stringLength();
      if (length < 0) return NO;
      p += length;
    }
  }
  return p <= data.length ? NO_LEVELS : NO;
}

/**
 * Steps over a msgpack str that is `-?\d{1,20}(\.\d{1,18})?` (what a Decimal(38,18) column
 * takes, validate-record.ts); its length, or -1 for anything else.
 */
function checkDecimal(): number {
  const length = stringLength();
  const end = p + length;
  if (length <= 0 || end > data.length) return -1;
  const d = data;
  let i = p;
  if (d[i] === 0x2d) i++;
  const intStart = i;
  while (i < end && isDigit(d[i] as number)) i++;
  const intDigits = i - intStart;
  if (intDigits < 1 || intDigits > 20) return -1;
  if (i < end) {
    if (d[i] !== 0x2e) return -1;
    i++;
    const fracStart = i;
    while (i < end && isDigit(d[i] as number)) i++;
    const fracDigits = i - fracStart;
    if (i !== end || fracDigits < 1 || fracDigits > 18) return -1;
  }
  p = end;
  return length;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}
