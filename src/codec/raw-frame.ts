import { Packr } from "msgpackr";
import { RECORD_TYPES, type RecordType } from "../records/types.ts";
import { canonicalKeys } from "./record-fields.ts";
import { writeArrayHeader } from "./ring-encoder.ts";

/**
 * Frames straight from ring bytes, with no decode and re-encode in between.
 *
 * A ring record is one msgpackr record: the byte `0x40 + type index` (a structure id both ends
 * predeclare) followed by the field values in canonical order (ring-encoder.ts). A frame is a
 * msgpack array of records that defines its structure inline (record-codec.ts), which in
 * msgpackr's format is the extension `d4 72 <id>` plus the key list, in place of the first
 * record's id byte. So a frame of ring records is: array header, definition, the first
 * record's values, then every further record's bytes verbatim. The frame decoder reads it like
 * any other frame and validates every record (test/codec/raw-frame.test.ts checks the round trip
 * for every record type).
 *
 * Why: the publishing batch worker used to decode each ring record into objects and msgpackr
 * encoded them again; for 100-level order books that was ~250 µs per record, more than the
 * whole rest of the publish path (bench/e2e.bench.ts, orderbook ring at 100 % before).
 */

/** A ring record's bytes, `data[start, end)`: a view into a ring, valid until the ring commits. */
export interface RawRecord {
  readonly data: Uint8Array;
  readonly start: number;
  readonly end: number;
}

const keysPackr = new Packr({ useRecords: false });

/** Per type index: the inline structure definition `d4 72 <0x40 + index>` + the packed key list. */
const DEFINITIONS: readonly Uint8Array[] = RECORD_TYPES.map((type, index) => {
  const keys = keysPackr.pack(canonicalKeys(type));
  const out = new Uint8Array(3 + keys.length);
  out.set([0xd4, 0x72, 0x40 + index]);
  out.set(keys, 3);
  return out;
});

/** The packed key list of `type`'s structure, as a frame's definition carries it after `d4 72 <id>`. */
export function packedKeyList(type: RecordType): Uint8Array {
  return (DEFINITIONS[RECORD_TYPES.indexOf(type)] as Uint8Array).subarray(3);
}

/** Most bytes a frame adds around its records: array header (5) + the longest definition. */
export const RAW_FRAME_OVERHEAD = 5 + Math.max(...DEFINITIONS.map((d) => d.length));

/** One frame of ring records of a single type, decodable by RecordCodec.tryDecodeFrame. */
export function rawFrame(records: readonly RawRecord[]): Uint8Array {
  const first = records[0];
  if (first === undefined) throw new Error("a frame holds at least one record");
  const definition = DEFINITIONS[(first.data[first.start] ?? 0) - 0x40];
  if (definition === undefined) throw new Error(`ring record with unknown structure id ${first.data[first.start]}`);
  let size = definition.length - 1;
  for (const r of records) size += r.end - r.start;
  const n = records.length;
  const out = new Uint8Array((n < 16 ? 1 : n <= 0xffff ? 3 : 5) + size);
  let p = writeArrayHeader(out, 0, n);
  out.set(definition, p);
  p += definition.length;
  out.set(first.data.subarray(first.start + 1, first.end), p);
  p += first.end - first.start - 1;
  for (let i = 1; i < n; i++) {
    const r = records[i] as RawRecord;
    if (r.data[r.start] !== first.data[first.start]) throw new Error("a frame holds records of one type only");
    out.set(r.data.subarray(r.start, r.end), p);
    p += r.end - r.start;
  }
  return out;
}

/** Bytes of a msgpack str header whose first byte is `b`: 1, 2 or 3, or 0 for anything else (str32 included). */
export function strHeaderSize(b: number): number {
  return b >= 0xa0 && b <= 0xbf ? 1 : b === 0xd9 ? 2 : b === 0xda ? 3 : 0;
}

/** Byte length of the str whose `size`-byte header (strHeaderSize) starts at `data[at]`. */
export function strLengthAt(data: Uint8Array, at: number, size: number): number {
  if (size === 1) return (data[at] as number) & 0x1f;
  if (size === 2) return data[at + 1] ?? 0;
  return ((data[at + 1] ?? 0) << 8) | (data[at + 2] ?? 0);
}

/**
 * The record's subject, `{data_type}.{exchange}.{market_type}.{symbol}` (src/records/subjects.ts),
 * read from its first four values: every structure starts with data_type, exchange,
 * market_type and symbol (record-fields.ts), all msgpack strings.
 */
export function rawSubject(record: RawRecord): string {
  const data = record.data;
  let p = record.start + 1;
  let subject = "";
  for (let field = 0; field < 4; field++) {
    const b = data[p] ?? 0;
    const header = strHeaderSize(b);
    if (header === 0) throw new Error(`ring record at ${record.start}: field ${field} is not a short string (byte 0x${b.toString(16)})`);
    const length = strLengthAt(data, p, header);
    p += header;
    if (field > 0) subject += ".";
    // Subject tokens are ASCII (types, exchanges, market types and symbols).
    for (let i = 0; i < length; i++) subject += String.fromCharCode(data[p + i] ?? 0);
    p += length;
  }
  return subject;
}
