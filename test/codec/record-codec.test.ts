import { expect, test } from "bun:test";
import { Packr } from "msgpackr";
import { RecordCodec, RecordDecodeError } from "../../src/codec/record-codec.ts";
import { FIELDS, isMarketRecord, recordProblem } from "../../src/codec/record-fields.ts";
import { RECORD_TYPES, type MarketRecord } from "../../src/records/types.ts";
import { ALL_SAMPLES, SAMPLE_RECORDS } from "./sample-records.ts";

test("every record type round-trips exactly through the ring encoding, decimals as strings", () => {
  const producer = new RecordCodec();
  const consumer = new RecordCodec();
  const shared = new Uint8Array(new SharedArrayBuffer(4096));
  for (const record of ALL_SAMPLES) {
    const bytes = producer.encodeRecord(record);
    shared.set(bytes, 100);
    const decoded = consumer.decodeRecordAt(shared, 100, 100 + bytes.length);
    expect(decoded).toEqual(record);
    expect(Object.keys(decoded)).toEqual(Object.keys(record));
    expect(consumer.tryDecodeRecord(bytes)).toEqual({ ok: true, value: record });
  }
});

test("decimal strings keep their exact text and integers up to 2^53 stay exact", () => {
  const codec = new RecordCodec();
  const decoded = codec.tryDecodeRecord(codec.encodeRecord(SAMPLE_RECORDS.orderbook));
  expect(decoded.ok).toBe(true);
  if (!decoded.ok || decoded.value.data_type !== "orderbook") throw new Error("expected an orderbook");
  expect(decoded.value.bids[1]).toEqual(["43250", "0.00000001"]);
  expect(decoded.value.last_update_id).toBe(Number.MAX_SAFE_INTEGER);
  const trade = codec.tryDecodeRecord(codec.encodeRecord(SAMPLE_RECORDS.trade));
  if (!trade.ok || trade.value.data_type !== "trade") throw new Error("expected a trade");
  expect(trade.value.price).toBe("43251.12000000");
  expect(trade.value.quantity).toBe("0.00123000");
  expect(trade.value.ts_ms).toBe(1_700_000_000_123);
});

test("the ring encoding is compact because both sides predeclare the same structures", () => {
  const bytes = new RecordCodec().encodeRecord(SAMPLE_RECORDS.trade);
  // Field names are not in the bytes: only values (and a one-byte structure id).
  expect(new TextDecoder().decode(bytes)).not.toContain("market_type");
  expect(bytes.length).toBeLessThan(100);
});

test("a record whose keys are out of canonical order still round-trips", () => {
  const codec = new RecordCodec();
  const { price, side, ...rest } = SAMPLE_RECORDS.trade;
  const reordered = { side, ...rest, price } as MarketRecord;
  for (let i = 0; i < 3; i++) {
    expect(new RecordCodec().tryDecodeRecord(codec.encodeRecord(reordered))).toEqual({ ok: true, value: reordered });
    expect(new RecordCodec().tryDecodeRecord(codec.encodeRecord(SAMPLE_RECORDS.trade))).toEqual({
      ok: true,
      value: SAMPLE_RECORDS.trade,
    });
  }
});

test("a frame of every record type decodes in another codec instance exactly", () => {
  const frame = new RecordCodec().encodeFrame(ALL_SAMPLES);
  expect(new RecordCodec().tryDecodeFrame(frame)).toEqual({ ok: true, value: [...ALL_SAMPLES] });
  expect(new RecordCodec().tryDecodeFrame(new RecordCodec().encodeFrame([]))).toEqual({ ok: true, value: [] });
});

test("frames stay self-describing: each carries its structures, so frames decode in any order", () => {
  const producer = new RecordCodec();
  const frames = [0, 1, 2].map((i) => producer.encodeFrame(ALL_SAMPLES.slice(i)));
  const consumer = new RecordCodec();
  for (const i of [2, 0, 1]) {
    expect(consumer.tryDecodeFrame(frames[i] as Uint8Array)).toEqual({ ok: true, value: ALL_SAMPLES.slice(i) });
  }
});

test("every proper prefix of a frame, fed one byte at a time, is an error value and never a partial frame", () => {
  const codec = new RecordCodec();
  const frame = codec.encodeFrame([...ALL_SAMPLES, ...ALL_SAMPLES]);
  const feed = new Uint8Array(frame.length);
  for (let n = 0; n < frame.length; n++) {
    const result = codec.tryDecodeFrame(feed.subarray(0, n));
    expect(result.ok).toBe(false);
    feed[n] = frame[n] as number;
  }
  expect(codec.tryDecodeFrame(feed)).toEqual({ ok: true, value: [...ALL_SAMPLES, ...ALL_SAMPLES] });
});

test("malformed bytes give error values with a message, and the codec keeps working after them", () => {
  const codec = new RecordCodec();
  const good = codec.encodeRecord(SAMPLE_RECORDS.trade);
  const frame = codec.encodeFrame([SAMPLE_RECORDS.trade]);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), "empty input"],
    [new Uint8Array([0xc1]), "unknown data_type"], // msgpackr reads the reserved byte as a value, not an error
    [good.subarray(0, good.length - 1), "malformed msgpack"],
    [Uint8Array.of(...good, 0x00), "malformed msgpack"],
    [new Uint8Array([0x2a]), "not an object"],
    [new Uint8Array([0x80]), "unknown data_type"],
  ];
  for (const [bytes, message] of cases) {
    const record = codec.tryDecodeRecord(bytes);
    expect(record.ok).toBe(false);
    if (!record.ok) expect(record.error).toContain(message);
    expect(codec.tryDecodeFrame(bytes).ok).toBe(false);
  }
  const plainMap = new Packr({ useRecords: false }).pack(SAMPLE_RECORDS.trade);
  expect(codec.tryDecodeFrame(plainMap)).toEqual({ ok: false, error: "frame is not an array of records" });
  // Ring bytes use structure ids only ring codecs know: as a frame they are malformed.
  expect(codec.tryDecodeFrame(good).ok).toBe(false);
  expect(codec.tryDecodeRecord(good)).toEqual({ ok: true, value: SAMPLE_RECORDS.trade });
  expect(codec.tryDecodeFrame(frame)).toEqual({ ok: true, value: [SAMPLE_RECORDS.trade] });
});

test("random bytes never throw out of tryDecodeRecord or tryDecodeFrame", () => {
  const codec = new RecordCodec();
  const good = codec.encodeFrame(ALL_SAMPLES);
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 16;
  };
  for (let i = 0; i < 3000; i++) {
    const bytes = new Uint8Array(1 + (next() % 64));
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
    expect(() => codec.tryDecodeRecord(bytes)).not.toThrow();
    expect(() => codec.tryDecodeFrame(bytes)).not.toThrow();
    // Corrupt one byte of a valid frame: either an error value or well-formed records.
    const corrupt = Uint8Array.from(good);
    corrupt[next() % corrupt.length] = next() & 0xff;
    const result = codec.tryDecodeFrame(corrupt);
    if (result.ok) for (const record of result.value) expect(isMarketRecord(record)).toBe(true);
  }
});

test("a frame holding one ill-formed record is rejected naming that record", () => {
  const codec = new RecordCodec();
  const { price: _price, ...noPrice } = SAMPLE_RECORDS.trade;
  const frame = codec.encodeFrame([SAMPLE_RECORDS.gap, noPrice as unknown as MarketRecord]);
  expect(codec.tryDecodeFrame(frame)).toEqual({ ok: false, error: "record 1: trade.price is missing" });
});

test("decodeRecordAt throws RecordDecodeError for bytes our producer could not have written", () => {
  const codec = new RecordCodec();
  const data = new Uint8Array([0x93, 0x01]);
  expect(() => codec.decodeRecordAt(data, 0, 2)).toThrow(RecordDecodeError);
  expect(() => codec.decodeRecordAt(data, 1, 1)).toThrow(RecordDecodeError);
});

const WRONG_VALUE: Record<string, unknown> = {
  string: 7,
  decimal: 0.5,
  int: "12",
  boolean: "true",
  levels: [["1", 2]],
  exchange: "kraken",
  market_type: "future",
  side: "BUY",
  book_side: "buy",
  data_type: "gap",
  gap_cause: "unknown",
};

test("the type guard accepts every sample and rejects each missing or mistyped field by name", () => {
  for (const type of RECORD_TYPES) {
    const sample = SAMPLE_RECORDS[type] as unknown as Record<string, unknown>;
    expect(isMarketRecord(sample)).toBe(true);
    expect(isMarketRecord({ ...sample, extra_column: 1 })).toBe(true);
    for (const [name, kind] of FIELDS[type]) {
      const { [name]: _dropped, ...missing } = sample;
      expect(recordProblem(missing)).toBe(`${type}.${name} is missing`);
      expect(isMarketRecord(missing)).toBe(false);
      expect(recordProblem({ ...sample, [name]: WRONG_VALUE[kind] })).toBe(`${type}.${name} is not a valid ${kind}`);
      expect(recordProblem({ ...sample, [name]: null })).toBe(`${type}.${name} is not a valid ${kind}`);
    }
  }
  expect(recordProblem({ ...SAMPLE_RECORDS.trade, ts_ms: 1.5 })).toBe("trade.ts_ms is not a valid int");
  expect(recordProblem({ ...SAMPLE_RECORDS.trade, data_type: "candle" })).toBe('unknown data_type "candle"');
  expect(recordProblem(null)).toBe("not an object");
  expect(recordProblem([SAMPLE_RECORDS.trade])).toBe("not an object");
});

test("a frame of gaps written before gaps carried their recovery decodes as gaps nothing was recovered for", () => {
  const { recovered_records: _records, recovered_at_ms: _at, ...older } = SAMPLE_RECORDS.gap;
  const frame = new Packr({ useRecords: true }).pack([older, older]);
  expect(recordProblem(older)).toBe("gap.recovered_records is missing");
  expect(new RecordCodec().tryDecodeFrame(frame)).toEqual({ ok: true, value: [{ ...older, recovered_records: 0, recovered_at_ms: 0 }, { ...older, recovered_records: 0, recovered_at_ms: 0 }] });
  // A gap that carries them keeps them.
  expect(new RecordCodec().tryDecodeFrame(new RecordCodec().encodeFrame([SAMPLE_RECORDS.gap]))).toEqual({ ok: true, value: [SAMPLE_RECORDS.gap] });
});
