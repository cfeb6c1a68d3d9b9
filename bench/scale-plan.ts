import { VENUE_KEYS, type VenueKey } from "../src/config/venue-keys.ts";

/**
 * The pure part of the scale bench (bench/scale.bench.ts): how a point's symbols are spread
 * over the venues, and the shape of one point's figures and checks.
 */

/** Total symbols of the points of a default run; `--quick` runs the first only. */
export const SCALE_POINTS: readonly number[] = [100, 500, 2000];

/** Deribit carries only the DVOL volatility indices, which the venue publishes for BTC and ETH. */
export const DERIBIT_SYMBOLS = 2;

/** Venues that share what Deribit leaves, in this order (the first ones take the remainder). */
const SPREAD_VENUES: readonly VenueKey[] = ["binance_spot", "binance_derivatives", "okx_spot", "okx_derivatives"];

/**
 * Symbols per venue for a point of `total` symbols: DERIBIT_SYMBOLS on Deribit, the rest evenly
 * over the Binance and OKX venues (100 -> 25/25/24/24 + 2, 500 -> 125/125/124/124 + 2,
 * 2,000 -> 500/500/499/499 + 2).
 */
export function spreadSymbols(total: number): Record<VenueKey, number> {
  if (!Number.isInteger(total) || total < DERIBIT_SYMBOLS + SPREAD_VENUES.length) {
    throw new RangeError(`scale: a point needs a whole number of at least ${DERIBIT_SYMBOLS + SPREAD_VENUES.length} symbols, got ${total}`);
  }
  const rest = total - DERIBIT_SYMBOLS;
  const each = Math.floor(rest / SPREAD_VENUES.length);
  const extra = rest % SPREAD_VENUES.length;
  const counts = Object.fromEntries(VENUE_KEYS.map((v) => [v, 0])) as Record<VenueKey, number>;
  SPREAD_VENUES.forEach((v, i) => (counts[v] = each + (i < extra ? 1 : 0)));
  counts.deribit_derivatives = DERIBIT_SYMBOLS;
  return counts;
}

/** Assets the simulator's generator needs per venue so that every venue can take its count. */
export function generatedAssets(counts: Readonly<Record<VenueKey, number>>): number {
  return Math.max(...SPREAD_VENUES.map((v) => counts[v]));
}

/**
 * Each venue's explicit symbol list: the first `counts[v]` instruments the simulator lists for
 * it. The one place a point's lists are built, so that selectors (`symbols: {quote: [USDT]}`)
 * can replace the explicit lists here.
 */
export function venueSymbols(listed: Readonly<Record<VenueKey, readonly string[]>>, counts: Readonly<Record<VenueKey, number>>): Record<VenueKey, string[]> {
  const out = {} as Record<VenueKey, string[]>;
  for (const v of VENUE_KEYS) {
    const have = listed[v];
    if (have.length < counts[v]) throw new RangeError(`scale: ${v} needs ${counts[v]} symbols, the simulator lists ${have.length}`);
    out[v] = have.slice(0, counts[v]);
  }
  return out;
}

/** One point's figures: `suites.scale["<symbols>"]` in bench/results/latest.json. */
export interface ScalePoint {
  /** Engine process tree (engine with its threads, embedded nats-server) CPU, % of one core: 200 = both cores of this machine. */
  cpu_pct: number;
  /** Peak RSS of the engine process over the measured window, MiB. */
  rss_mb: number;
  /** Venue frames the engine read per second. */
  msgs_per_s: number;
  /** Records stored in ClickHouse per second. */
  stored_per_s: number;
  /** Records the engine took in and did not store (engine-child.ts `unstored`, plus drops on full rings); must be 0. */
  lost: number;
  /** 99th percentile of receipt -> commit (created_at - received_at) over the rows received in the window, ms. */
  p99_ms: number;
  /** Venue rules the simulator saw broken over the whole point (rate limits, pacing, connection caps); must be 0. */
  rate_limited: number;
  /** Fewest books live in any sample of the measured window. */
  books_live: number;
  books_total: number;
  /** Seconds from the engine's start until every book was live (the sync deadline when they were not). */
  sync_s: number;
  /** Least-squares slope of the engine's RSS over the measured window, MiB a minute, and its r2 (engine-child.ts `rssTrend`). */
  rss_slope_mb_per_min: number;
  rss_slope_r2: number;
}

/**
 * RSS that rises at least this many MiB a minute over the window, steadily (r2 at least
 * RSS_RISE_R2), is not flat: 30 MiB a minute would take the 2,000-symbol point from its
 * ~1.1 GB to the 1.5 GB target within a quarter of an hour.
 */
export const RSS_RISE_MB_PER_MIN = 30;
export const RSS_RISE_R2 = 0.5;

/** What one point measured, before it is rounded into a ScalePoint. */
export interface PointMeasurements {
  window_s: number;
  engine_cpu_s: number;
  peak_rss_mb: number;
  messages: number;
  stored: number;
  lost: number;
  p99_ms: number;
  rate_limited: number;
  books_live: number;
  books_total: number;
  sync_s: number;
  rss_trend: { readonly slope_mb_per_min: number; readonly r2: number };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export function scalePoint(m: PointMeasurements): ScalePoint {
  if (!(m.window_s > 0)) throw new RangeError(`scale: a measured window must be longer than 0 s, got ${m.window_s}`);
  return {
    cpu_pct: round1((m.engine_cpu_s / m.window_s) * 100),
    rss_mb: round1(m.peak_rss_mb),
    msgs_per_s: Math.round(m.messages / m.window_s),
    stored_per_s: Math.round(m.stored / m.window_s),
    lost: m.lost,
    p99_ms: Math.round(m.p99_ms),
    rate_limited: m.rate_limited,
    books_live: m.books_live,
    books_total: m.books_total,
    sync_s: round1(m.sync_s),
    rss_slope_mb_per_min: m.rss_trend.slope_mb_per_min,
    rss_slope_r2: m.rss_trend.r2,
  };
}

/** What a point got wrong, one line each, prefixed with its symbol count; empty when it passed. */
export function pointChecks(symbols: number, p: ScalePoint): string[] {
  const out: string[] = [];
  if (p.msgs_per_s === 0 || p.stored_per_s === 0) out.push(`${symbols}: nothing flowed end to end (${p.msgs_per_s} frames/s, ${p.stored_per_s} stored/s)`);
  if (p.lost !== 0) out.push(`${symbols}: lost ${p.lost} records`);
  if (p.rate_limited !== 0) out.push(`${symbols}: ${p.rate_limited} venue rules broken`);
  if (p.books_live < p.books_total) out.push(`${symbols}: ${p.books_live} of ${p.books_total} books live (sync ${p.sync_s} s)`);
  if (p.rss_slope_mb_per_min >= RSS_RISE_MB_PER_MIN && p.rss_slope_r2 >= RSS_RISE_R2) {
    out.push(`${symbols}: RSS rose ${p.rss_slope_mb_per_min} MB a minute over the window (r2 ${p.rss_slope_r2})`);
  }
  return out;
}
