import type { Config } from "../config/schema.ts";
import type { VenueKey } from "../config/venue-keys.ts";
import { periodMs } from "../venues/connection/bucket-poller.ts";
import { pollOverloads, type PollOverload } from "../venues/connection/poll-estimate.ts";
import type { RestBudget } from "../venues/connection/rest-budget.ts";
import { syncEstimate } from "../venues/connection/sync-estimate.ts";
import { getVenue } from "../venues/registry.ts";
import type { Instrument } from "../venues/types.ts";
import type { TopologyPlan } from "./topology.ts";

/** One start-up log line about a venue's REST budget. */
export interface RestEstimateLine {
  readonly level: "info" | "warn";
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/**
 * What the start logs about each venue's REST budget: for a venue whose books sync from REST
 * snapshots, how long a full storm takes and the smaller `orderbook.snapshot_limit` that would
 * shorten it (sync-estimate.ts); a warning for a venue whose bucket polls ask more of a limit
 * than its budget sustains (poll-estimate.ts).
 */
export function restEstimates(
  config: Config,
  plan: TopologyPlan,
  instrumentsOf: (venue: VenueKey) => readonly Instrument[] | null,
  budgetOf: (venue: VenueKey) => RestBudget,
): RestEstimateLine[] {
  const books = new Map<VenueKey, number>();
  const symbols = new Map<VenueKey, string[]>();
  for (const i of plan.ingest) {
    if (config.venues[i.venue].data_types.includes("orderbook")) books.set(i.venue, (books.get(i.venue) ?? 0) + i.symbols.length);
    const list = symbols.get(i.venue) ?? [];
    list.push(...i.symbols);
    symbols.set(i.venue, list);
  }
  const lines: RestEstimateLine[] = [];
  for (const [venue, natives] of symbols) {
    for (const o of venuePollOverloads(config, venue, natives, instrumentsOf(venue), budgetOf(venue))) {
      lines.push({ level: "warn", fields: { venue, limit: o.limit_name, asked: o.asked, sustained: o.sustained, symbols_fit: o.symbols_fit }, message: `${venue} ${o.text}` });
    }
  }
  const { snapshot_limit, depth } = config.orderbook;
  for (const [venue, n] of books) {
    const estimate = syncEstimate(getVenue(venue).rest_limits, budgetOf(venue), n, snapshot_limit, depth);
    if (estimate === undefined) continue;
    lines.push({
      level: "info",
      fields: { venue, books: n, weight: estimate.weight, sync_s: Math.ceil(estimate.ms / 1000), suggested_snapshot_limit: estimate.suggestion?.limit ?? null },
      message: `${venue} book sync: ${estimate.text}`,
    });
  }
  return lines;
}

/**
 * The limits `venue`'s bucket polls of `natives` ask more of than its budget sustains
 * (poll-estimate.ts): logged at start, and shown in `/stats` (`rest.poll_overloads`) as the
 * symbols change.
 */
export function venuePollOverloads(config: Config, venue: VenueKey, natives: readonly string[], instruments: readonly Instrument[] | null, budget: RestBudget): PollOverload[] {
  const cfg = config.venues[venue];
  const byNative = new Map((instruments ?? []).map((inst) => [inst.native, inst]));
  const paths = getVenue(venue)
    .ingest.polls(cfg, natives, byNative)
    .map((p) => p.path);
  return pollOverloads(getVenue(venue).rest_limits, budget, paths, natives.length, periodMs(cfg.poll_period));
}
