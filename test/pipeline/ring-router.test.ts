import { describe, expect, test } from "bun:test";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import { PUBLISH_WITHIN_MS, RingRouter } from "../../src/pipeline/ring-router.ts";
import { SpscRing } from "../../src/ring/spsc-ring.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames, typeCounter } from "../../src/stats/layout.ts";
import { SAMPLE_RECORDS } from "../codec/sample-records.ts";

function setup(): { router: RingRouter; reader: SpscRing; counters: Counters; codec: RecordCodec } {
  const ring = SpscRing.create(1 << 20);
  const counters = new Counters(counterNames());
  const codec = new RecordCodec();
  const router = new RingRouter([{ type: "trade", batch_index: 0, buffer: ring.sab }], counters, 1000, (r) => codec.encodeRecord(r));
  return { router, reader: SpscRing.attach(ring.sab), counters, codec };
}

/** Published records the reader can see, decoded (nothing is consumed). */
function visible(reader: SpscRing, codec: RecordCodec): string[] {
  const ids: string[] = [];
  reader.peek((data, start, end) => {
    const r = codec.decodeRecordAt(data, start, end);
    if (r.data_type === "trade") ids.push(r.trade_id);
  });
  return ids;
}

describe("RingRouter publishing", () => {
  test("appended records stay unpublished until flush() within one short burst", () => {
    const { router, reader, counters, codec } = setup();
    for (let i = 0; i < 3; i++) router.emit({ ...SAMPLE_RECORDS.trade, trade_id: String(i) });
    expect(visible(reader, codec)).toEqual([]);
    router.flush();
    expect(visible(reader, codec)).toEqual(["0", "1", "2"]);
    expect(counters.get(counters.slot(typeCounter("trade", "ingested")))).toBe(3);
  });

  test(`a long burst without flush() publishes once the oldest record is ${PUBLISH_WITHIN_MS} ms old`, () => {
    const { router, reader, codec } = setup();
    router.emit({ ...SAMPLE_RECORDS.trade, trade_id: "first" });
    const started = performance.now();
    let n = 0;
    // One event-loop turn that outlasts the publish bound several times over, as a socket
    // read of thousands of frames does; the reader must see the early records during it.
    while (performance.now() - started < PUBLISH_WITHIN_MS * 5) router.emit({ ...SAMPLE_RECORDS.trade, trade_id: String(n++) });
    const seen = visible(reader, codec);
    expect(seen[0]).toBe("first");
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.length).toBeLessThanOrEqual(n + 1);
    expect(seen).toEqual(["first", ...Array.from({ length: seen.length - 1 }, (_, i) => String(i))]);
  });
});
