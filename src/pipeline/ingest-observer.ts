import type { VenueKey } from "../config/schema.ts";
import { DATA_TYPES, type MarketRecord } from "../records/types.ts";
import type { Counters } from "../stats/counters.ts";
import {
  LatencyRecorder,
  dataTypeIndex,
  negativeSkewCounter,
  recoveredCounter,
  skewWindowCounter,
  venueIndex,
} from "../stats/latency.ts";

/**
 * What an ingest worker learns from each record it emits, kept locally and added to the shared
 * counters by `flush` (the worker's 250 ms timer):
 * - exchange time -> receipt (`recv_ts_ms - ts_ms`) into the venue's exchange_to_receive
 *   histogram, per data type. A negative value (the exchange stamped the event after this
 *   machine received it: the clocks disagree) is counted in `skew.<venue>.<type>.negative` and
 *   observed as 0, in the lowest bucket: the histogram's count stays the number of records, and
 *   its sum is not pulled below the real delays by a clock error;
 * - the largest `ts_ms - recv_ts_ms` of the interval, for the supervisor's clock-skew watch;
 * - the records a recovery brought back, from gap records written again with their count
 *   (src/venues/recovered-gaps.ts), per affected data type.
 *
 * Per record: a subtraction, a walk over at most 16 bounds and a few typed-array stores; no
 * atomics, no allocation. 15-50 ns a record beside ~370 ns for its ring encoding
 * (bench/latency-observe.bench.ts, shared 2-core box): under 0.5 % of a core at 100k records/s.
 */
export class IngestObserver {
  private readonly latency: LatencyRecorder;
  private readonly venue: number;
  private readonly negative = new Float64Array(DATA_TYPES.length);
  private readonly recovered = new Float64Array(DATA_TYPES.length);
  private readonly negativeSlots: number[];
  private readonly recoveredSlots: number[];
  private readonly skewSlot: number;
  /** Largest `ts_ms - recv_ts_ms` since the last flush; -Infinity when no record came. */
  private skewMax = Number.NEGATIVE_INFINITY;
  private lastType = "";
  private lastIndex = -1;

  constructor(
    private readonly counters: Counters,
    venue: VenueKey,
  ) {
    this.latency = new LatencyRecorder(counters, "exchange_to_receive");
    this.venue = venueIndex(venue);
    this.negativeSlots = DATA_TYPES.map((t) => counters.slot(negativeSkewCounter(venue, t)));
    this.recoveredSlots = DATA_TYPES.map((t) => counters.slot(recoveredCounter(venue, t)));
    this.skewSlot = counters.slot(skewWindowCounter(venue));
  }

  observe(record: MarketRecord): void {
    if (record.data_type === "gap") {
      if (record.recovered_at_ms > 0) {
        const t = dataTypeIndex(record.data_type_affected);
        if (t >= 0) this.recovered[t] = (this.recovered[t] as number) + record.recovered_records;
      }
      return;
    }
    // Records come in runs of one type: the last lookup is kept (a Map lookup costs ~8 ns).
    if (record.data_type !== this.lastType) {
      this.lastType = record.data_type;
      this.lastIndex = dataTypeIndex(record.data_type);
    }
    const t = this.lastIndex;
    const ms = record.recv_ts_ms - record.ts_ms;
    if (ms >= 0) this.latency.observe(this.venue, t, ms);
    else if (ms < 0) {
      this.negative[t] = (this.negative[t] as number) + 1;
      this.latency.observe(this.venue, t, 0);
    } else return; // NaN: a time the storage validator refuses and counts.
    if (-ms > this.skewMax) this.skewMax = -ms;
  }

  /** Adds what was seen since the last flush to the shared counters. */
  flush(): void {
    this.latency.flush();
    for (let t = 0; t < DATA_TYPES.length; t++) {
      const negative = this.negative[t] as number;
      if (negative > 0) {
        this.counters.add(this.negativeSlots[t] as number, negative);
        this.negative[t] = 0;
      }
      const recovered = this.recovered[t] as number;
      if (recovered > 0) {
        this.counters.add(this.recoveredSlots[t] as number, recovered);
        this.recovered[t] = 0;
      }
    }
    if (this.skewMax !== Number.NEGATIVE_INFINITY) {
      this.counters.max(this.skewSlot, Math.round(this.skewMax));
      this.skewMax = Number.NEGATIVE_INFINITY;
    }
  }
}
