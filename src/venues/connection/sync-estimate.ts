import { SNAPSHOT_LIMITS } from "../../config/venue-keys.ts";
import type { RestBudget, RestCost, VenueRestLimits } from "./rest-budget.ts";

/**
 * How long a venue's books take to sync through its REST weight budget: the start-up estimate
 * the engine logs once per venue, and the ETA `/stats` shows while books wait. Both price the
 * waiting snapshots with the budget's own arithmetic (rest-budget.ts): the part of the bucket a
 * storm may fill goes at once, the rest at the bucket's refill rate.
 */

/** Ms until the last of `waiting` book snapshots can be sent: a REST block in force, then the backlog. */
export function syncEtaMs(budget: RestBudget, cost: RestCost, waiting: number): number {
  if (waiting <= 0) return 0;
  return budget.blockedMs() + budget.backlogMs(cost, waiting, "sync");
}

export interface SyncEstimate {
  readonly books: number;
  readonly weight: number;
  /** Ms until every book's snapshot could be sent, after what the budget has already drawn. */
  readonly ms: number;
  /** The next smaller `orderbook.snapshot_limit` that makes it faster (at least `depth`), and its time. */
  readonly suggestion: { readonly limit: number; readonly ms: number; readonly weight: number } | undefined;
  readonly text: string;
}

/**
 * The time to sync `books` books at `snapshot_limit` through `budget` as it stands now (the
 * weight it has already drawn included; at start, a full budget), as one log line:
 * "1,500 books × weight 50 at 72 % of 6,000/min: about 17 min; orderbook.snapshot_limit 500 halves it".
 * The percentage is the budget's sustained rate against the venue's limit (rest-budget.ts keeps
 * a margin and a burst out of it). Undefined for venues whose books need no REST snapshot.
 */
export function syncEstimate(limits: VenueRestLimits, budget: RestBudget, books: number, snapshot_limit: number, depth: number): SyncEstimate | undefined {
  const cost = limits.snapshotCost?.(snapshot_limit);
  const spec = cost === undefined ? undefined : budget.specs[cost.bucket];
  if (cost === undefined || spec === undefined || books <= 0) return undefined;
  const ms = budget.backlogMs(cost, books, "sync");
  const smaller = SNAPSHOT_LIMITS.filter((l) => l < snapshot_limit && l >= depth)
    .map((limit) => ({ limit, weight: limits.snapshotCost?.(limit).weight ?? cost.weight }))
    .filter((c) => c.weight < cost.weight)
    .sort((a, b) => b.limit - a.limit)[0];
  const suggestion = ms > 0 && smaller !== undefined ? { ...smaller, ms: budget.backlogMs({ bucket: cost.bucket, weight: smaller.weight }, books, "sync") } : undefined;
  const per_min = (spec.limit * 60_000) / spec.window_ms;
  const share = Math.round((budget.refillPerMinute(cost.bucket) / per_min) * 100);
  let text = `${count(books)} books × weight ${cost.weight} at ${share} % of ${count(per_min)}/min: ${ms === 0 ? "at once, within the budget's burst" : `about ${duration(ms)}`}`;
  if (suggestion !== undefined) {
    const effect = suggestion.ms === 0 ? "syncs them at once" : suggestion.weight * 2 === cost.weight ? "halves it" : `cuts it to about ${duration(suggestion.ms)}`;
    text += `; orderbook.snapshot_limit ${suggestion.limit} ${effect}`;
  }
  return { books, weight: cost.weight, ms, suggestion, text };
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** "40 s", "14 min", "2.5 h". */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 360) / 10} h`;
}
