import type { RestBudget, VenueRestLimits } from "./rest-budget.ts";
import { duration } from "./sync-estimate.ts";

/**
 * Whether a venue's bucket polls (open interest, long/short ratios: one request per symbol and
 * type every `poll_period`) fit the REST budget they draw on: a warning at start and whenever an
 * instrument refresh changes the answer, and `rest.poll_overloads` in `/stats`.
 *
 * Why: each poll asks once per period, so what the polls of N symbols ask grows with N while the
 * limit stays. Binance USDⓈ-M's two ratio endpoints share `futures_data`, 1,000 requests per
 * 5 min per IP; the budget sustains 720 of them per 5 min (90 % of the limit, a fifth of that at
 * once), so at 5 min both ratios fit about 360 symbols. Past that the polls queue up, come back
 * after their bucket, and the buckets they miss cost history requests on the same limit.
 */
export interface PollOverload {
  /** The venue limit the polls draw on. */
  readonly limit_name: string;
  /** Weight the polls ask of it per period. */
  readonly asked: number;
  /** Weight the budget gives per period, once its burst is spent. */
  readonly sustained: number;
  /** Symbols whose polls fit, at the polls' mean weight per symbol. */
  readonly symbols_fit: number;
  readonly text: string;
}

/**
 * The limits the polls at `paths` (one request each per `period_ms`, over `symbols` symbols) ask
 * more of than the budget sustains; empty when they fit.
 */
export function pollOverloads(limits: VenueRestLimits, budget: RestBudget, paths: readonly string[], symbols: number, period_ms: number): PollOverload[] {
  const asked = new Map<number, number>();
  for (const path of paths) {
    const cost = limits.cost(path);
    asked.set(cost.bucket, (asked.get(cost.bucket) ?? 0) + cost.weight);
  }
  const out: PollOverload[] = [];
  for (const [bucket, weight] of asked) {
    const spec = budget.specs[bucket];
    if (spec === undefined) continue;
    const sustained = Math.floor((budget.refillPerMinute(bucket) * period_ms) / 60_000);
    if (weight <= sustained) continue;
    const symbols_fit = Math.floor((sustained * symbols) / weight);
    const per = duration(period_ms);
    const limit = `${count(spec.limit)} per ${duration(spec.window_ms)}`;
    out.push({
      limit_name: spec.name,
      asked: weight,
      sustained,
      symbols_fit,
      text: `polls ask ${count(weight)} of ${spec.name} every ${per}, the budget sustains ${count(sustained)} (${limit}): they fall behind and miss buckets; the polled types fit about ${count(symbols_fit)} of the ${count(symbols)} symbols, or a longer poll_period`,
    });
  }
  return out;
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
