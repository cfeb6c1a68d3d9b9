import { VENUE_KEYS, type VenueKey } from "../config/venue-keys.ts";
import { DATA_TYPES, type DataType, type Exchange, type MarketType } from "../records/types.ts";
import type { Counters } from "./counters.ts";

/**
 * Latency histograms in the shared counters (counters.ts), per venue and data type:
 *
 *   exchange_to_receive  ts_ms (exchange event time) -> recv_ts_ms, observed by ingest workers
 *   receive_to_commit    recv_ts_ms -> the insert's acknowledgement, observed by batch workers
 *
 * Each histogram is a fixed row of bucket slots plus a sum, all integer ms, so workers add
 * their local counts with `Atomics.add` once per flush and the supervisor reads them without
 * any message. Bucket i counts values in (LATENCY_BOUNDS_MS[i-1], LATENCY_BOUNDS_MS[i]] (the
 * first from 0), the last slot everything above the last bound (Prometheus `+Inf`).
 *
 * Gap records are not observed: their times are the hole's ends, not an event's.
 */

/** Bucket upper bounds, ms: 1 ms to 5 min (polled buckets and backfills reach minutes). */
export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000] as const;
/** Slots per histogram row: one per bound, then `+Inf`. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

export const LATENCY_HISTOGRAMS = ["exchange_to_receive", "receive_to_commit"] as const;
export type LatencyHistogram = (typeof LATENCY_HISTOGRAMS)[number];

function bucketName(h: LatencyHistogram, venue: VenueKey, type: DataType, i: number): string {
  return `latency.${h}.${venue}.${type}.${i < LATENCY_BOUNDS_MS.length ? `le${LATENCY_BOUNDS_MS[i]}` : "inf"}`;
}

function sumName(h: LatencyHistogram, venue: VenueKey, type: DataType): string {
  return `latency.${h}.${venue}.${type}.sum_ms`;
}

/** Records whose exchange time is later than their receipt (clock skew), per venue and type. */
export function negativeSkewCounter(venue: VenueKey, type: DataType): string {
  return `skew.${venue}.${type}.negative`;
}

/**
 * The largest `ts_ms - recv_ts_ms` seen since the supervisor last read it (ClockSkewWatch),
 * ms; SKEW_NONE when no record came in between.
 */
export function skewWindowCounter(venue: VenueKey): string {
  return `skew.${venue}.window_max_ms`;
}

/** Clock-skew incidents of the venue (ClockSkewWatch). */
export function skewIncidentCounter(venue: VenueKey): string {
  return `skew.${venue}.incidents`;
}

/** Records recovered after gaps (the `recovered_records` of re-emitted gap rows), per venue and type. */
export function recoveredCounter(venue: VenueKey, type: DataType): string {
  return `recovered.${venue}.${type}`;
}

/** The skew window's value when no record was seen in it. */
export const SKEW_NONE = Number.MIN_SAFE_INTEGER;

/** Every slot name this module uses, appended to the counter layout (layout.ts). */
export function latencyCounterNames(): string[] {
  const names: string[] = [];
  for (const h of LATENCY_HISTOGRAMS) {
    for (const venue of VENUE_KEYS) {
      for (const type of DATA_TYPES) {
        for (let i = 0; i < LATENCY_BUCKETS; i++) names.push(bucketName(h, venue, type, i));
        names.push(sumName(h, venue, type));
      }
    }
  }
  for (const venue of VENUE_KEYS) {
    for (const type of DATA_TYPES) names.push(negativeSkewCounter(venue, type), recoveredCounter(venue, type));
    names.push(skewWindowCounter(venue), skewIncidentCounter(venue));
  }
  return names;
}

/** Index of the bucket `ms` falls in (values <= 0 in the first). */
export function bucketIndex(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > (LATENCY_BOUNDS_MS[i] as number)) i++;
  return i;
}

const VENUE_INDEX = new Map<VenueKey, number>(VENUE_KEYS.map((v, i) => [v, i]));
const TYPE_INDEX = new Map<string, number>(DATA_TYPES.map((t, i) => [t, i]));

/** Index of a data type in DATA_TYPES; -1 for `gap` and anything else. */
export function dataTypeIndex(type: string): number {
  return TYPE_INDEX.get(type) ?? -1;
}

export function venueIndex(venue: VenueKey): number {
  return VENUE_INDEX.get(venue) ?? -1;
}

/**
 * The venue key of a record, from its exchange and market type: venue keys are
 * `<exchange>_spot` and `<exchange>_derivatives` (config/schema.ts).
 */
const RECORD_VENUE: Readonly<Record<Exchange, Readonly<Record<MarketType, number>>>> = (() => {
  const of = (exchange: Exchange, market: "spot" | "derivatives"): number => {
    const key = VENUE_KEYS.find((k) => k === `${exchange}_${market}`) ?? VENUE_KEYS.find((k) => k.startsWith(`${exchange}_`));
    return key === undefined ? -1 : venueIndex(key);
  };
  const row = (exchange: Exchange) => ({ spot: of(exchange, "spot"), perpetual: of(exchange, "derivatives"), options: of(exchange, "derivatives") });
  return { binance: row("binance"), okx: row("okx"), deribit: row("deribit") };
})();

export function recordVenueIndex(exchange: Exchange, market_type: MarketType): number {
  return RECORD_VENUE[exchange]?.[market_type] ?? -1;
}

/**
 * One thread's observations of one histogram, held locally and added to the shared slots by
 * `flush`: per record an index walk over 16 bounds and two array stores, no atomics.
 */
export class LatencyRecorder {
  /** [venue][type][bucket] counts since the last flush. */
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  /** Rows (venue * types + type) observed since the last flush. */
  private readonly dirty: Uint8Array;
  private readonly bucketSlots: Int32Array;
  private readonly sumSlots: Int32Array;
  private readonly rows = VENUE_KEYS.length * DATA_TYPES.length;

  constructor(
    private readonly counters: Counters,
    histogram: LatencyHistogram,
  ) {
    this.counts = new Float64Array(this.rows * LATENCY_BUCKETS);
    this.sums = new Float64Array(this.rows);
    this.dirty = new Uint8Array(this.rows);
    this.bucketSlots = new Int32Array(this.rows * LATENCY_BUCKETS);
    this.sumSlots = new Int32Array(this.rows);
    VENUE_KEYS.forEach((venue, v) =>
      DATA_TYPES.forEach((type, t) => {
        const row = v * DATA_TYPES.length + t;
        for (let i = 0; i < LATENCY_BUCKETS; i++) this.bucketSlots[row * LATENCY_BUCKETS + i] = counters.slot(bucketName(histogram, venue, type, i));
        this.sumSlots[row] = counters.slot(sumName(histogram, venue, type));
      }),
    );
  }

  /** Observes `ms` (>= 0) for venue index `v` and data type index `t`. */
  observe(v: number, t: number, ms: number): void {
    const row = v * DATA_TYPES.length + t;
    const i = row * LATENCY_BUCKETS + bucketIndex(ms);
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sums[row] = (this.sums[row] as number) + ms;
    this.dirty[row] = 1;
  }

  /** Adds what was observed since the last flush to the shared slots. */
  flush(): void {
    for (let row = 0; row < this.rows; row++) {
      if (this.dirty[row] === 0) continue;
      this.dirty[row] = 0;
      for (let i = row * LATENCY_BUCKETS; i < (row + 1) * LATENCY_BUCKETS; i++) {
        const n = this.counts[i] as number;
        if (n === 0) continue;
        this.counters.add(this.bucketSlots[i] as number, n);
        this.counts[i] = 0;
      }
      this.counters.add(this.sumSlots[row] as number, Math.round(this.sums[row] as number));
      this.sums[row] = 0;
    }
  }
}

/** One histogram as read from the shared slots: counts per bucket (not cumulative), total and sum. */
export interface HistogramReading {
  readonly buckets: readonly number[];
  readonly count: number;
  readonly sum_ms: number;
}

export function readHistogram(counters: Counters, h: LatencyHistogram, venue: VenueKey, type: DataType): HistogramReading {
  const buckets: number[] = [];
  let count = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    const n = counters.read(bucketName(h, venue, type, i));
    buckets.push(n);
    count += n;
  }
  return { buckets, count, sum_ms: counters.read(sumName(h, venue, type)) };
}

/**
 * The `q` quantile estimated from bucket counts, ms, as Prometheus' histogram_quantile does:
 * linear within the bucket it falls in (the first from 0). One that falls in `+Inf` is
 * reported as the last bound (a lower limit). null without observations.
 */
export function quantileMs(r: HistogramReading, q: number): number | null {
  if (r.count === 0) return null;
  const rank = q * r.count;
  let below = 0;
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) {
    const n = r.buckets[i] ?? 0;
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BOUNDS_MS[i - 1] as number);
      const upper = LATENCY_BOUNDS_MS[i] as number;
      return lower + ((upper - lower) * (rank - below)) / n;
    }
    below += n;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] as number;
}

/** One histogram series for /metrics. */
export interface LatencySeries {
  readonly histogram: LatencyHistogram;
  readonly venue: VenueKey;
  readonly data_type: DataType;
  readonly reading: HistogramReading;
}

/** Every histogram series with observations. */
export function latencySeries(counters: Counters): LatencySeries[] {
  const out: LatencySeries[] = [];
  for (const histogram of LATENCY_HISTOGRAMS) {
    for (const venue of VENUE_KEYS) {
      for (const data_type of DATA_TYPES) {
        const reading = readHistogram(counters, histogram, venue, data_type);
        if (reading.count > 0) out.push({ histogram, venue, data_type, reading });
      }
    }
  }
  return out;
}
