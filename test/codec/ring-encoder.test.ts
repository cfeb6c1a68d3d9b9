import { expect, test } from "bun:test";
import { Packr } from "msgpackr";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import { canonicalKeys } from "../../src/codec/record-fields.ts";
import { RingEncoder } from "../../src/codec/ring-encoder.ts";
import { RECORD_TYPES, type MarketRecord } from "../../src/records/types.ts";
import { ALL_SAMPLES, SAMPLE_RECORDS } from "./sample-records.ts";

function msgpackrRingPackr(): Packr {
  return new Packr({ structures: RECORD_TYPES.map((t) => canonicalKeys(t)), maxSharedStructures: RECORD_TYPES.length });
}

test("writes byte for byte what msgpackr's Packr writes with the same predeclared structures", () => {
  const encoder = new RingEncoder();
  const packr = msgpackrRingPackr();
  for (const record of ALL_SAMPLES) expect(encoder.encode(record)).toEqual(packr.pack(record));
});

test("integers at every msgpack width boundary and non-ASCII strings decode exactly", () => {
  const encoder = new RingEncoder();
  const codec = new RecordCodec();
  const ints = [0, 1, 31, 32, 63, 64, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -129, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53) + 1];
  const strings = ["", "a", "x".repeat(31), "x".repeat(32), "é".repeat(20), "€".repeat(100), "y".repeat(255), "z".repeat(256), "BTC-USDT", "日本", "w".repeat(70_000), "🚀".repeat(11)];
  for (const n of ints) {
    for (const s of strings) {
      const record: MarketRecord = { ...SAMPLE_RECORDS.trade, ts_ms: n, trade_id: s, symbol: s };
      expect(codec.tryDecodeRecord(encoder.encode(record))).toEqual({ ok: true, value: record });
    }
  }
});

test("earlier results stay intact when the encoder moves on to a new slab", () => {
  const encoder = new RingEncoder();
  const codec = new RecordCodec();
  const kept: [Uint8Array, MarketRecord][] = [];
  for (let i = 0; i < 20_000; i++) {
    const record: MarketRecord = { ...SAMPLE_RECORDS.trade, trade_id: String(i), ts_ms: i * 1_000_003 };
    kept.push([encoder.encode(record), record]);
  }
  const big: MarketRecord = { ...SAMPLE_RECORDS.orderbook, bids: Array.from({ length: 5000 }, (_, i) => [`${i}.5`, "1"] as const), bids_count: 5000 };
  kept.push([encoder.encode(big), big]);
  for (const [bytes, record] of kept) expect(codec.tryDecodeRecord(bytes)).toEqual({ ok: true, value: record });
});
