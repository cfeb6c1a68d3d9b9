import { expect, test } from "bun:test";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import { rawFrame, rawSubject } from "../../src/codec/raw-frame.ts";
import { subjectFor } from "../../src/records/subjects.ts";
import { RECORD_TYPES, type MarketRecord } from "../../src/records/types.ts";
import { ringBytes, SAMPLE_RECORDS } from "./sample-records.ts";

const codec = new RecordCodec();

/** `count` copies of the type's sample, each with its own symbol and times. */
function series<T extends MarketRecord>(sample: T, count: number): T[] {
  return Array.from({ length: count }, (_, i) => ({ ...sample, symbol: `${sample.symbol}${i % 3}`, ts_ms: sample.ts_ms + i, recv_ts_ms: sample.recv_ts_ms + i }));
}

for (const type of RECORD_TYPES) {
  for (const count of [1, 15, 16, 300]) {
    test(`${type}: a frame of ${count} ring records decodes to the same records, subjects read from the bytes`, () => {
      const records = series(SAMPLE_RECORDS[type], count);
      const raw = ringBytes(records);
      const decoded = codec.tryDecodeFrame(rawFrame(raw));
      expect(decoded).toEqual({ ok: true, value: records });
      expect(raw.map(rawSubject)).toEqual(records.map(subjectFor));
    });
  }
}

test("a frame of more than 65,535 records uses the 32-bit array header", () => {
  const records = series(SAMPLE_RECORDS.trade, 70_000);
  const decoded = codec.tryDecodeFrame(rawFrame(ringBytes(records)));
  expect(decoded.ok && decoded.value.length).toBe(70_000);
  expect(decoded.ok && decoded.value[69_999]).toEqual(records[69_999]);
});

test("records of two types never share a frame", () => {
  expect(() => rawFrame(ringBytes([SAMPLE_RECORDS.trade, SAMPLE_RECORDS.gap]))).toThrow("one type");
});
