import type { Config, VenueKey } from "../config/schema.ts";
import { VENUE_KEYS } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import type { Counters } from "../stats/counters.ts";
import { venueCounter } from "../stats/layout.ts";
import type { RestBudget } from "../venues/connection/rest-budget.ts";
import { RestClient } from "../venues/connection/rest-client.ts";
import { CONNECTION_TUNING } from "../venues/connection/venue-connection.ts";
import { getVenue } from "../venues/registry.ts";
import { ListingFetchError } from "../venues/selection.ts";
import type { Instrument } from "../venues/types.ts";
import { assignSymbolChange, VenueSymbols } from "./instrument-refresh.ts";
import type { ManagedWorker } from "./managed-worker.ts";
import type { IngestInit, SymbolsMessage } from "./messages.ts";

/**
 * The supervisor's side of symbol selection: resolving every collecting venue at start, before
 * the topology is planned (so the resolved list is what `venues.<v>.workers` shards), and
 * turning a refresh's change into `symbols` messages for the ingest workers it concerns.
 */

export interface ResolveInputs {
  readonly config: Config;
  readonly counters: Counters;
  readonly log: Logger;
  /** The venue's REST budget, shared with its ingest workers: metadata reads draw on it too. */
  readonly budget: (venue: VenueKey) => RestBudget;
  readonly onChange: (venue: VenueKey, added: readonly Instrument[], removed: readonly string[]) => void;
}

export interface Resolved {
  readonly venues: readonly VenueSymbols[];
  /** Configuration errors (exit code 2); empty when every venue resolved. */
  readonly errors: readonly string[];
  /** `config` with each resolved venue's `symbols` replaced by its resolved list. */
  readonly config: Config;
}

/** Resolves the symbols of every venue that runs ingest workers, all venues at once. */
export async function resolveVenueSymbols(inputs: ResolveInputs): Promise<Resolved> {
  const { config, counters, log } = inputs;
  if (config.engine.role === "store") return { venues: [], errors: [], config };
  const venues: VenueSymbols[] = [];
  for (const venue of VENUE_KEYS) {
    const cfg = config.venues[venue];
    if (!cfg.enabled || cfg.workers === 0) continue;
    const limits = getVenue(venue).rest_limits;
    const rest = new RestClient({
      base_url: cfg.rest_url,
      limits,
      budget: inputs.budget(venue),
      timeout_ms: CONNECTION_TUNING.rest_timeout_ms,
      stats: {
        weight: (n) => counters.add(counters.slot(venueCounter(venue, "rest_weight")), n),
        limited: (status) => counters.add(counters.slot(venueCounter(venue, status === 418 ? "rest_418" : "rest_429")), 1),
      },
    });
    venues.push(new VenueSymbols(venue, cfg, rest, counters, log.child({ component: "instruments" }), (added, removed) => inputs.onChange(venue, added, removed)));
  }
  const errors = (
    await Promise.all(
      venues.map((v) =>
        v.resolve().catch((cause: unknown) => {
          if (!(cause instanceof ListingFetchError)) throw cause;
          return [`'venues.${v.venue}.symbols' is a selector, which needs ${v.venue}'s instrument metadata: ${cause.message}`];
        }),
      ),
    )
  ).flat();
  const resolvedVenues = { ...config.venues };
  for (const v of venues) Object.assign(resolvedVenues, { [v.venue]: { ...config.venues[v.venue], symbols: [...v.symbols] } });
  for (const v of venues) if (errors.length === 0) log.info({ venue: v.venue, symbols: v.symbols.length }, "venue symbols resolved");
  return { venues, errors, config: { ...config, venues: resolvedVenues } };
}

/** The `symbols` messages a change sends, and each affected worker's init with its new symbols. */
export function symbolsChanged(
  workers: readonly ManagedWorker[],
  added: readonly Instrument[],
  removed: readonly string[],
): { worker: ManagedWorker; init: IngestInit; message: SymbolsMessage }[] {
  const ingest = workers.flatMap((w) => (w.init.kind === "ingest" ? [{ worker: w, init: w.init }] : []));
  const shards = new Map(ingest.map(({ worker, init }) => [worker.id, init.symbols]));
  const plan = assignSymbolChange(
    shards,
    added.map((i) => i.native),
    removed,
  );
  const byNative = new Map(added.map((i) => [i.native, i]));
  const out: { worker: ManagedWorker; init: IngestInit; message: SymbolsMessage }[] = [];
  for (const { worker, init } of ingest) {
    const change = plan.get(worker.id);
    if (change === undefined) continue;
    const add = change.add.map((n) => byNative.get(n)).filter((i): i is Instrument => i !== undefined);
    out.push({ worker, init: { ...init, symbols: change.symbols }, message: { type: "symbols", add, remove: change.remove } });
  }
  return out;
}
