import type { Config, VenueKey } from "../config/schema.ts";
import { VENUE_KEYS } from "../config/venue-keys.ts";
import type { Logger } from "../log/logger.ts";
import type { Counters } from "../stats/counters.ts";
import { venueCounter } from "../stats/layout.ts";
import type { RestBudget } from "../venues/connection/rest-budget.ts";
import { RestClient } from "../venues/connection/rest-client.ts";
import { CONNECTION_TUNING } from "../venues/connection/venue-connection.ts";
import { MetadataFetchError } from "../venues/instruments.ts";
import { CaptureWriter } from "../replay/capture.ts";
import { getVenue } from "../venues/registry.ts";
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
  /** --record DIR: the metadata read at start is captured there (`<venue>-metadata.jsonl`), for a replay to serve; null: not recording. */
  readonly record_dir: string | null;
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
  const settled = await Promise.allSettled(venues.map((v) => resolveRecorded(v, inputs.record_dir)));
  const errors: string[] = [];
  for (const [i, outcome] of settled.entries()) {
    if (outcome.status === "fulfilled") {
      errors.push(...outcome.value);
      continue;
    }
    const cause: unknown = outcome.reason;
    if (!(cause instanceof MetadataFetchError)) {
      // Every venue's metadata client stops before the start fails.
      for (const v of venues) v.stop();
      throw cause;
    }
    errors.push(`'venues.${venues[i]?.venue}.symbols' is a selector, which needs ${venues[i]?.venue}'s instrument metadata: ${cause.message}`);
  }
  const resolvedVenues = { ...config.venues };
  for (const v of venues) Object.assign(resolvedVenues, { [v.venue]: { ...config.venues[v.venue], symbols: [...v.symbols] } });
  if (errors.length === 0) for (const v of venues) log.info({ venue: v.venue, symbols: v.symbols.length }, "venue symbols resolved");
  return { venues, errors, config: { ...config, venues: resolvedVenues } };
}

/**
 * The `symbols` messages a change of `venue`'s symbols sends, one per shard it touches, and each
 * affected ingest thread's init with the new symbols of its shards.
 */
export function symbolsChanged(
  workers: readonly ManagedWorker[],
  venue: VenueKey,
  added: readonly Instrument[],
  removed: readonly string[],
): { worker: ManagedWorker; init: IngestInit; message: SymbolsMessage }[] {
  const ingest = workers.flatMap((w) => (w.init.kind === "ingest" ? [{ worker: w, init: w.init }] : []));
  const shards = new Map(ingest.flatMap(({ init }) => init.shards.filter((s) => s.venue === venue).map((s) => [s.id, s.symbols] as const)));
  const plan = assignSymbolChange(
    shards,
    added.map((i) => i.native),
    removed,
  );
  const byNative = new Map(added.map((i) => [i.native, i]));
  const out: { worker: ManagedWorker; init: IngestInit; message: SymbolsMessage }[] = [];
  for (const { worker, init } of ingest) {
    let next = init;
    for (const shard of init.shards) {
      const change = plan.get(shard.id);
      if (change === undefined) continue;
      const add = change.add.map((n) => byNative.get(n)).filter((i): i is Instrument => i !== undefined);
      // A restarted thread starts from its current symbols and has the metadata of those added.
      const instruments = shard.instruments === null ? null : withInstruments(shard.instruments, add);
      next = { ...next, shards: next.shards.map((s) => (s.id === shard.id ? { ...s, symbols: change.symbols, instruments } : s)) };
      out.push({ worker, init: next, message: { type: "symbols", shard: shard.id, add, remove: change.remove } });
    }
  }
  return out;
}

/** `v.resolve()`, capturing the metadata it reads into `record_dir` when recording. */
async function resolveRecorded(v: VenueSymbols, record_dir: string | null): Promise<string[]> {
  if (record_dir === null) return v.resolve();
  const record = new CaptureWriter(record_dir, `${v.venue}-metadata`);
  try {
    return await v.resolve(record);
  } finally {
    await record.close();
  }
}

/** `known` with `added` in place of the entries of the same native id. */
function withInstruments(known: readonly Instrument[], added: readonly Instrument[]): Instrument[] {
  const replaced = new Set(added.map((i) => i.native));
  return [...known.filter((i) => !replaced.has(i.native)), ...added];
}
