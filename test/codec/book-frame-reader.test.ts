import { expect, test } from "bun:test";
import { readBookFrame, readRingBookHead } from "../../src/codec/book-frame-reader.ts";
import { LevelsText } from "../../src/codec/levels-text.ts";
import { rawFrame } from "../../src/codec/raw-frame.ts";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import { naturalKey } from "../../src/records/natural-key.ts";
import type { StorageRecord } from "../../src/codec/storage-record.ts";
import type { Level, MarketRecord, RecordOf } from "../../src/records/types.ts";
import { validatedBatch } from "../../src/storage/columnar-batch.ts";
import { ringBytes, SAMPLE_RECORDS } from "./sample-records.ts";

type Book = RecordOf<"orderbook">;
const codec = new RecordCodec();
const BOOK = SAMPLE_RECORDS.orderbook;

/** Deterministic pseudo-random numbers, so a failure reproduces. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
}

function decimal(next: () => number): string {
  const int = String(Math.floor(next() * 10 ** Math.floor(next() * 12)));
  const sign = next() < 0.05 ? "-" : "";
  const r = next();
  if (r < 0.2) return `${sign}${int}`;
  if (r < 0.25) return `${sign}${"9".repeat(20)}.${"1".repeat(18)}`;
  return `${sign}${int}.${String(Math.floor(next() * 1e9)).padStart(1 + Math.floor(next() * 9), "0")}`;
}

/** Books with every kind of number the record's integer fields can be written as. */
function books(count: number, seed: number): Book[] {
  const next = random(seed);
  const ints = [0, 1, 63, 64, 127, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, 1_700_000_000_123];
  // Not valid ids, but the frame carries them: the reader reads what the generic decoder reads.
  ints.push(-1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1);
  return Array.from({ length: count }, (_, i) => {
    const side = (): Level[] => Array.from({ length: Math.floor(next() * (next() < 0.1 ? 300 : 30)) }, () => [decimal(next), decimal(next)] as const);
    const bids = side();
    const asks = side();
    return {
      ...BOOK,
      symbol: `SYM${i % 7}-USDT`,
      ts_ms: BOOK.ts_ms + i,
      recv_ts_ms: BOOK.recv_ts_ms + i * 3,
      last_update_id: ints[i % ints.length] as number,
      bids,
      asks,
      bids_count: bids.length,
      asks_count: asks.length,
    };
  });
}

function storedLiteral(levels: readonly Level[]): string {
  return JSON.stringify(JSON.stringify(levels));
}

/** What the reader gives, with each LevelsText as the literal it holds. */
function literals(records: readonly StorageRecord[]): unknown[] {
  return records.map((r) => {
    const b = r as unknown as Record<string, unknown>;
    expect(b.bids).toBeInstanceOf(LevelsText);
    expect(b.asks).toBeInstanceOf(LevelsText);
    return { ...b, bids: (b.bids as LevelsText).literal, asks: (b.asks as LevelsText).literal };
  });
}

test("ring frames and encoded frames of order books read as the generic decoder reads them, levels as their stored literal", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const records = books(1 + (seed % 5) * 9, seed);
    for (const frame of [rawFrame(ringBytes(records)), codec.encodeFrame(records)]) {
      const read = readBookFrame(frame);
      expect(read).toBeDefined();
      expect(literals(read ?? [])).toEqual(records.map((r) => ({ ...r, bids: storedLiteral(r.bids), asks: storedLiteral(r.asks) })));
      const generic = codec.tryDecodeFrame(frame);
      expect(generic).toEqual({ ok: true, value: records });
    }
  }
});

test("a side longer than the reader's first buffer reads whole", () => {
  const long = Array.from({ length: 3000 }, (_, i) => [`${"9".repeat(20)}.${String(i).padStart(18, "0")}`, `-${i}.5`] as const);
  const records: Book[] = [{ ...BOOK, bids: long, asks: long.slice(0, 10), bids_count: long.length, asks_count: 10 }];
  const read = readBookFrame(rawFrame(ringBytes(records)));
  expect(literals(read ?? [])).toEqual([{ ...BOOK, bids: storedLiteral(long), asks: storedLiteral(long.slice(0, 10)), bids_count: 3000, asks_count: 10 }]);
  expect(storedLiteral(long).length).toBeGreaterThan(64 * 1024);
});

test("a batch of books read for storage encodes to the same document as one of decoded books", () => {
  const records = books(40, 99).map((r) => ({ ...r, last_update_id: Math.abs(r.last_update_id) }));
  const frame = rawFrame(ringBytes(records));
  const stored = codec.tryDecodeFrameForStorage(frame, "orderbook");
  const decoded = codec.tryDecodeFrame(frame);
  if (!stored.ok || !decoded.ok) throw new Error("frame does not decode");
  expect(stored.value[0]?.data_type === "orderbook" && stored.value[0].bids).toBeInstanceOf(LevelsText);
  const fast = validatedBatch("orderbook", stored.value).encode();
  expect(fast).toBe(validatedBatch("orderbook", decoded.value).encode());
  // The document a JSONColumns insert gets: every column as JSON.stringify writes it.
  const doc = JSON.parse(fast) as Record<string, unknown[]>;
  expect(doc.bids).toEqual(records.map((r) => JSON.stringify(r.bids)));
  expect(doc.asks).toEqual(records.map((r) => JSON.stringify(r.asks)));
  expect(doc.last_update_id).toEqual(records.map((r) => r.last_update_id));
});

test("anything else is left to the generic decoder, which then judges it as before", () => {
  const bad: [string, MarketRecord[]][] = [
    ["a level of three strings", [{ ...BOOK, bids: [["1", "2", "3"] as unknown as Level] }]],
    ["a level with a number", [{ ...BOOK, asks: [[1, "2"] as unknown as Level] }]],
    ["an exponent", [{ ...BOOK, bids: [["1e5", "2"]] }]],
    ["an empty quantity", [{ ...BOOK, bids: [["1", ""]] }]],
    ["a trailing point", [{ ...BOOK, asks: [["1.", "2"]] }]],
    ["21 integer digits", [{ ...BOOK, asks: [["1".repeat(21), "2"]] }]],
    ["19 fractional digits", [{ ...BOOK, asks: [[`1.${"1".repeat(19)}`, "2"]] }]],
    ["a lone sign", [{ ...BOOK, bids: [["-", "2"]] }]],
    ["a non-ASCII symbol", [{ ...BOOK, symbol: "BTC-ÜSDT" }]],
    ["a trade", [SAMPLE_RECORDS.trade]],
  ];
  for (const [what, records] of bad) {
    const frame = codec.encodeFrame(records);
    expect({ what, read: readBookFrame(frame) }).toEqual({ what, read: undefined });
    expect({ what, stored: codec.tryDecodeFrameForStorage(frame, "orderbook") }).toEqual({ what, stored: codec.tryDecodeFrame(frame) });
  }
  // The generic decoder's verdicts on some of them, now as before.
  const verdict = (records: MarketRecord[]) => codec.tryDecodeFrameForStorage(codec.encodeFrame(records), "orderbook");
  expect(verdict([{ ...BOOK, bids: [[1, "2"] as unknown as Level] }])).toEqual({ ok: false, error: "record 0: orderbook.bids is not a valid levels" });
  // A field of the wrong kind outside the levels is read here and refused by the same check.
  const fractional = codec.encodeFrame([{ ...BOOK, last_update_id: 1.5 }]);
  expect(readBookFrame(fractional)).toHaveLength(1);
  expect(verdict([{ ...BOOK, last_update_id: 1.5 }])).toEqual({ ok: false, error: "record 0: orderbook.last_update_id is not a valid int" });
  expect(codec.tryDecodeFrame(fractional)).toEqual({ ok: false, error: "record 0: orderbook.last_update_id is not a valid int" });
});

test("every truncation of a book frame, and a count longer than the bytes, are refused without a throw", () => {
  const frame = rawFrame(ringBytes(books(3, 5)));
  for (let n = 0; n < frame.length; n++) expect(readBookFrame(frame.subarray(0, n))).toBeUndefined();
  const huge = new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, ...frame.subarray(3)]);
  expect(readBookFrame(huge)).toBeUndefined();
  expect(readBookFrame(new Uint8Array([...frame, 0xc0]))).toBeUndefined();
});

test("a ring record of a book reads without its levels, with the natural key of the whole record; other ring records do not", () => {
  const records = books(30, 17);
  for (const r of records) {
    const bytes = codec.encodeRecord(r);
    const head = readRingBookHead(bytes, 0, bytes.length);
    expect(head).toEqual({ ...r, bids: [], asks: [] });
    if (head === undefined) throw new Error("no head");
    expect(naturalKey(head)).toBe(naturalKey(r));
    expect(codec.decodeKeyFieldsAt(bytes, 0, bytes.length)).toEqual({ ...r, bids: [], asks: [] });
    // Inside a larger buffer, at an offset, as in a ring.
    const ring = new Uint8Array(bytes.length + 10);
    ring.set(bytes, 7);
    expect(readRingBookHead(ring, 7, 7 + bytes.length)).toEqual({ ...r, bids: [], asks: [] });
    expect(readRingBookHead(bytes, 0, bytes.length - 1)).toBeUndefined();
  }
  const trade = codec.encodeRecord(SAMPLE_RECORDS.trade);
  expect(readRingBookHead(trade, 0, trade.length)).toBeUndefined();
  expect(codec.decodeKeyFieldsAt(trade, 0, trade.length)).toEqual(SAMPLE_RECORDS.trade);
});

test("a record read for storage serializes to JSON as the record it was, levels as arrays (dead letters and logs carry that)", () => {
  const records = books(6, 23);
  const read = readBookFrame(rawFrame(ringBytes(records)));
  expect(read).toBeDefined();
  expect(JSON.parse(JSON.stringify(read))).toEqual(JSON.parse(JSON.stringify(records)));
});
