import { RECORD_TYPES, type MarketRecord, type RecordType } from "../records/types.ts";
import { FIELDS, type FieldKind } from "./record-fields.ts";

/**
 * Writes a MarketRecord in msgpackr's record format with predeclared structures, byte for byte
 * what msgpackr's own Unpackr (configured with the same structures) reads back:
 * one byte `0x40 + structure id`, then the field values in canonical order as plain msgpack.
 *
 * Why not msgpackr's Packr: it walks `Object.keys` and a transition table per record; this walks
 * a precomputed field list. Measured on a trade record (bun 1.4, this 2-core box): Packr
 * ~650-900 ns, this ~300 ns; the two-worker ring bench (bench/ring.bench.ts) went from ~0.54 M to
 * 0.9-1.9 M records/s (the spread is other load on the shared machine).
 *
 * Integers follow msgpackr: fixints stop at 0x3f because 0x40..0x7f are record ids, and integers
 * beyond 32 bits are float64 (exact up to 2^53), never 64-bit ints (which would decode as BigInt).
 * Output goes into a slab; each result is a fresh view that stays valid (never overwritten).
 */

const SLAB_BYTES = 256 * 1024;
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

type FieldPlan = readonly (readonly [string, FieldKind])[];

export class RingEncoder {
  private slab = new Uint8Array(SLAB_BYTES);
  private pos = 0;
  private readonly plans: ReadonlyMap<RecordType, { readonly id: number; readonly fields: FieldPlan }>;

  constructor() {
    // The structures are canonicalKeys(type): `data_type` first, then FIELDS[type].
    this.plans = new Map(
      RECORD_TYPES.map((type, id) => [type, { id, fields: [["data_type", "string"] as const, ...FIELDS[type]] }]),
    );
  }

  encode(record: MarketRecord): Uint8Array {
    const plan = this.plans.get(record.data_type);
    if (plan === undefined) throw new TypeError(`cannot encode a record of data_type ${String(record.data_type)}`);
    const fields = record as unknown as Record<string, unknown>;
    for (;;) {
      const start = this.pos;
      const end = this.writeRecord(plan.id, plan.fields, fields, start);
      if (end >= 0) {
        this.pos = end;
        return this.slab.subarray(start, end);
      }
      // Did not fit: start a new slab (the old one stays alive while views into it do).
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, (this.slab.length - start) * 2));
      this.pos = 0;
    }
  }

  /** Writes at `p`; returns the end, or -1 when the slab ran out. */
  private writeRecord(id: number, fields: FieldPlan, record: Record<string, unknown>, p: number): number {
    const out = this.slab;
    const limit = out.length;
    if (p >= limit) return -1;
    out[p++] = 0x40 + id;
    for (let i = 0; i < fields.length; i++) {
      const [name, kind] = fields[i] as readonly [string, FieldKind];
      const value = record[name];
      if (limit - p < 16) return -1;
      switch (kind) {
        case "int":
          p = writeNumber(out, p, value as number);
          break;
        case "boolean":
          out[p++] = value === true ? 0xc3 : 0xc2;
          break;
        case "levels": {
          const levels = value as readonly (readonly [string, string])[];
          p = writeArrayHeader(out, p, levels.length);
          resolveLevels(levels);
          for (let j = 0; j < levels.length && p >= 0; j++) {
            const level = levels[j] as readonly [string, string];
            if (limit - p < 1) return -1;
            out[p++] = 0x92;
            p = writeString(out, p, level[0]);
            if (p >= 0) p = writeString(out, p, level[1]);
          }
          break;
        }
        default:
          p = writeString(out, p, value as string);
      }
      if (p < 0) return -1;
    }
    return p;
  }
}

/**
 * Reads the first character of every level's price and quantity, which makes JavaScriptCore
 * resolve the lazy substrings of the frame the parser left them as (book-frame-parser.ts) in a
 * pass of their own, before `writeString` copies them. Why: at live rates most of a book
 * record's 400 strings are new since the symbol's last record, and resolved one by one inside
 * the copy loop they take about twice as long as here, where a 100-level record encodes in
 * 55-59 µs (bench/ingest.bench.ts at 2,000 symbols, `book_encode_us`).
 */
function resolveLevels(levels: readonly (readonly [string, string])[]): void {
  let first = 0;
  for (let j = 0; j < levels.length; j++) {
    const level = levels[j] as readonly [string, string];
    first |= level[0].charCodeAt(0) | level[1].charCodeAt(0);
  }
  resolved.sink = first;
}

/** Where `resolveLevels` stores what it read, so the JIT cannot drop the reads as unused. */
const resolved = { sink: 0 };

function writeNumber(out: Uint8Array, p: number, n: number): number {
  if (Number.isInteger(n) && n >= -0x80000000 && n <= 0xffffffff) {
    if (n >= 0) {
      if (n < 0x40) out[p++] = n;
      else if (n <= 0xff) {
        out[p++] = 0xcc;
        out[p++] = n;
      } else if (n <= 0xffff) {
        out[p++] = 0xcd;
        out[p++] = n >>> 8;
        out[p++] = n & 0xff;
      } else {
        out[p++] = 0xce;
        out[p++] = n >>> 24;
        out[p++] = (n >>> 16) & 0xff;
        out[p++] = (n >>> 8) & 0xff;
        out[p++] = n & 0xff;
      }
      return p;
    }
    if (n >= -32) {
      out[p++] = n & 0xff;
      return p;
    }
    out[p++] = 0xd2;
    out[p++] = (n >> 24) & 0xff;
    out[p++] = (n >> 16) & 0xff;
    out[p++] = (n >> 8) & 0xff;
    out[p++] = n & 0xff;
    return p;
  }
  F64[0] = n;
  out[p++] = 0xcb;
  // msgpack is big-endian; the platform (x86-64, arm64) is little-endian.
  for (let i = 7; i >= 0; i--) out[p++] = F64_BYTES[i] as number;
  return p;
}

/** Writes a msgpack array header (1, 3 or 5 bytes); returns the end. */
export function writeArrayHeader(out: Uint8Array, p: number, length: number): number {
  if (length < 16) {
    out[p++] = 0x90 | length;
  } else if (length <= 0xffff) {
    out[p++] = 0xdc;
    out[p++] = length >>> 8;
    out[p++] = length & 0xff;
  } else {
    out[p++] = 0xdd;
    out[p++] = length >>> 24;
    out[p++] = (length >>> 16) & 0xff;
    out[p++] = (length >>> 8) & 0xff;
    out[p++] = length & 0xff;
  }
  return p;
}

const textEncoder = new TextEncoder();

/** Writes a msgpack str; returns the end or -1 when it does not fit. ASCII takes a fast path. */
function writeString(out: Uint8Array, p: number, s: string): number {
  const length = s.length;
  // UTF-8 needs at most 3 bytes per UTF-16 unit, plus a 5-byte header.
  if (out.length - p < length * 3 + 5) return -1;
  const headerBytes = length < 32 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  const body = p + headerBytes;
  let q = body;
  let ascii = true;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    out[q++] = c;
  }
  if (!ascii) q = body + textEncoder.encodeInto(s, out.subarray(body)).written;
  const bytes = q - body;
  // The header was sized by UTF-16 units; UTF-8 can be longer, so size it again if needed.
  const needed = bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
  if (needed !== headerBytes) {
    out.copyWithin(p + needed, body, q);
    return writeStringHeader(out, p, bytes, needed) + bytes;
  }
  return writeStringHeader(out, p, bytes, headerBytes) + bytes;
}

function writeStringHeader(out: Uint8Array, p: number, bytes: number, headerBytes: number): number {
  if (headerBytes === 1) out[p++] = 0xa0 | bytes;
  else if (headerBytes === 2) {
    out[p++] = 0xd9;
    out[p++] = bytes;
  } else if (headerBytes === 3) {
    out[p++] = 0xda;
    out[p++] = bytes >>> 8;
    out[p++] = bytes & 0xff;
  } else {
    out[p++] = 0xdb;
    out[p++] = bytes >>> 24;
    out[p++] = (bytes >>> 16) & 0xff;
    out[p++] = (bytes >>> 8) & 0xff;
    out[p++] = bytes & 0xff;
  }
  return p;
}
