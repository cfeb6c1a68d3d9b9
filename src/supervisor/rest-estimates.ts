import type { Config } from "../config/schema.ts";
import type { VenueKey } from "../config/venue-keys.ts";
import { periodMs } from "../venues/connection/bucket-poller.ts";
import { pollOverloads, type PollOverload } from "../venues/connection/poll-estimate.ts";
import type { RestBudget } from "../venues/connection/rest-budget.ts";
import { syncEstimate } from "../venues/connection/sync-estimate.ts";
import { getVenue } from "../venues/registry.ts";
import type { Instrument } from "../venues/types.ts";
import { ingestShards, type TopologyPlan } from "./topology.ts";

/** One start-up log line: how long a venue's book storm takes through its REST budget. */
export interface SyncEstimateLine {
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/**
 * What the start logs for each venue whose books sync from REST snapshots: how long a full storm
 * takes through its budget and the smaller `orderbook.snapshot_limit` that would shorten it
 * (sync-estimate.ts).
 */
export function syncEstimateLines(config: Config, plan: TopologyPlan, budgetOf: (venue: VenueKey) => RestBudget): SyncEstimateLine[] {
  const books = new Map<VenueKey, number>();
  for (const i of ingestShards(plan)) {
    if (config.venues[i.venue].data_types.includes("orderbook")) books.set(i.venue, (books.get(i.venue) ?? 0) + i.symbols.length);
  }
  const lines: SyncEstimateLine[] = [];
  const { snapshot_limit, depth } = config.orderbook;
  for (const [venue, n] of books) {
    const estimate = syncEstimate(getVenue(venue).rest_limits, budgetOf(venue), n, snapshot_limit, depth);
    if (estimate === undefined) continue;
    lines.push({
      fields: { venue, books: n, weight: estimate.weight, sync_s: Math.ceil(estimate.ms / 1000), suggested_snapshot_limit: estimate.suggestion?.limit ?? null },
      message: `${venue} book sync: ${estimate.text}`,
    });
  }
  return lines;
}

/**
 * The limits `venue`'s bucket polls of `natives` ask more of than its budget sustains
 * (poll-estimate.ts): logged at start and whenever a refresh changes them, and shown in `/stats`
 * (`rest.poll_overloads`).
 */
export function venuePollOverloads(config: Config, venue: VenueKey, natives: readonly string[], instruments: readonly Instrument[] | null, budget: RestBudget): PollOverload[] {
  const cfg = config.venues[venue];
  const byNative = new Map((instruments ?? []).map((inst) => [inst.native, inst]));
  const paths = getVenue(venue)
    .ingest.polls(cfg, natives, byNative)
    .map((p) => p.path);
  return pollOverloads(getVenue(venue).rest_limits, budget, paths, natives.length, periodMs(cfg.poll_period));
}
