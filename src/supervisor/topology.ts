import { laneCount } from "../config/batch-lanes.ts";
import type { Config } from "../config/schema.ts";
import { VENUE_KEYS, venueWorkerCount, type VenueKey } from "../config/venue-keys.ts";
import type { RecordType } from "../records/types.ts";
import { RECORD_TYPES } from "../records/types.ts";
import { getVenue } from "../venues/registry.ts";

/**
 * The thread topology a config asks for (SPEC section 6):
 *
 *   ingest thread  ──ring──►  lane <type>:<j>       one ring per (ingest thread, lane of a type
 *   (venue shards)             (N per type)        its venues produce, gap included); a record
 *                                                  goes to lane j = hash(symbol) % N(type)
 *
 * A venue's symbols are dealt over its ingest workers (shards). `venues.<v>.workers: N` gives
 * the venue N shards, each in its own thread `ingest:<venue>:<i>`; `shared` gives it one shard
 * in the thread `ingest:shared:0`, which runs the shards of every shared venue. A lane is one
 * batch worker's share of a type. `batch_workers.<type>: N` gives the type N lanes, each in its
 * own thread `batch:<type>:<j>`; `shared` gives it one lane in the thread `batch:shared:0`,
 * which runs the lanes of every shared type. Each thread is a JavaScript heap, and venues with
 * a few symbols, like types that receive a few rows a second, need no heap of their own.
 *
 * Pure: the supervisor spawns exactly what this returns, and tests compare plans.
 */

/** One ingest worker: a venue's shard of symbols, with its own connections (id `ingest:<venue>:<i>`). */
export interface IngestShardPlan {
  readonly id: string;
  readonly venue: VenueKey;
  readonly index: number;
  readonly symbols: readonly string[];
}

/** One ingest thread and the venue shards it runs; its rings carry all their records. */
export interface IngestPlan {
  readonly id: string;
  readonly index: number;
  readonly shards: readonly IngestShardPlan[];
  /** Record types this thread writes (its venues' data types plus gap, those with batch workers). */
  readonly types: readonly RecordType[];
}

/** The `index`th lane of `type`. */
export interface LanePlan {
  readonly type: RecordType;
  readonly index: number;
}

/** One batch worker thread and the lanes it runs. */
export interface BatchPlan {
  readonly id: string;
  readonly index: number;
  readonly lanes: readonly LanePlan[];
}

export interface RingPlan {
  readonly from: string;
  /** The batch thread that reads it. */
  readonly to: string;
  readonly type: RecordType;
  readonly batch_index: number;
}

export interface TopologyPlan {
  readonly ingest: readonly IngestPlan[];
  readonly batch: readonly BatchPlan[];
  readonly rings: readonly RingPlan[];
  /** Things the config asked for that cannot run, e.g. more workers than symbols. */
  readonly warnings: readonly string[];
}

/** Deals `symbols` round-robin over `n` shards, dropping empty shards. */
export function shardSymbols(symbols: readonly string[], n: number): string[][] {
  const shards: string[][] = Array.from({ length: Math.min(n, symbols.length) }, () => []);
  symbols.forEach((symbol, i) => shards[i % shards.length]?.push(symbol));
  return shards;
}

/** The thread that runs the lanes of every `shared` type. */
export const SHARED_BATCH_THREAD = "batch:shared:0";

/** The id of the batch thread that runs lane `index` of `type`. */
export function batchThreadOf(config: Config, type: RecordType, index: number): string {
  return config.batch_workers[type] === "shared" ? SHARED_BATCH_THREAD : `batch:${type}:${index}`;
}

function planBatchThreads(config: Config): BatchPlan[] {
  const own: BatchPlan[] = [];
  const shared: LanePlan[] = [];
  for (const type of RECORD_TYPES) {
    if (config.batch_workers[type] === "shared") shared.push({ type, index: 0 });
    else for (let index = 0; index < laneCount(config, type); index++) own.push({ id: batchThreadOf(config, type, index), index, lanes: [{ type, index }] });
  }
  return shared.length === 0 ? own : [...own, { id: SHARED_BATCH_THREAD, index: 0, lanes: shared }];
}

/** The thread that runs the shard of every `shared` venue. */
export const SHARED_INGEST_THREAD = "ingest:shared:0";

export function planTopology(config: Config): TopologyPlan {
  const warnings: string[] = [];
  const role = config.engine.role;
  const batch = planBatchThreads(config);

  const ingest: IngestPlan[] = [];
  const shared: { shards: IngestShardPlan[]; types: Set<RecordType> } = { shards: [], types: new Set() };
  if (role !== "store") {
    for (const venue of VENUE_KEYS) {
      const cfg = config.venues[venue];
      const workers = venueWorkerCount(cfg);
      if (!cfg.enabled || workers === 0) continue;
      if (cfg.symbols.length === 0) {
        warnings.push(`venues.${venue} is enabled with no symbols; no ingest worker started`);
        continue;
      }
      if (workers > cfg.symbols.length) {
        warnings.push(`venues.${venue}.workers = ${workers} but only ${cfg.symbols.length} symbols; starting ${cfg.symbols.length}`);
      }
      const types = [...new Set<RecordType>([...cfg.data_types, "gap"])].filter((t) => laneCount(config, t) > 0);
      for (const t of cfg.data_types) {
        if (laneCount(config, t) === 0) warnings.push(`venues.${venue} collects ${t} but batch_workers.${t} = 0; its records are not collected`);
      }
      shardSymbols(cfg.symbols, workers).forEach((symbols, index) => {
        const shard = { id: `ingest:${venue}:${index}`, venue, index, symbols };
        if (cfg.workers === "shared") {
          shared.shards.push(shard);
          for (const t of types) shared.types.add(t);
        } else {
          ingest.push({ id: shard.id, index, shards: [shard], types });
        }
      });
    }
  }
  if (shared.shards.length > 0) ingest.push({ id: SHARED_INGEST_THREAD, index: 0, shards: shared.shards, types: RECORD_TYPES.filter((t) => shared.types.has(t)) });
  const rings: RingPlan[] = [];
  for (const thread of ingest) {
    for (const type of thread.types) {
      for (let j = 0; j < laneCount(config, type); j++) rings.push({ from: thread.id, to: batchThreadOf(config, type, j), type, batch_index: j });
    }
  }
  return { ingest, batch, rings, warnings };
}

/** Every ingest worker of the plan, thread by thread. */
export function ingestShards(plan: TopologyPlan): IngestShardPlan[] {
  return plan.ingest.flatMap((thread) => thread.shards);
}

/**
 * The planned ingest workers of every venue in `venue`'s connect-limit family, which share that
 * per-IP limit (src/venues/connection/connect-share.ts); 1 when the venue states no limit.
 */
export function connectShares(plan: TopologyPlan, venue: VenueKey): number {
  const family = getVenue(venue).connect_limit?.family;
  if (family === undefined) return 1;
  return ingestShards(plan).filter((i) => getVenue(i.venue).connect_limit?.family === family).length;
}

/**
 * What a config asks of a venue that the venue cannot give: a data type it does not offer, and
 * what the venue's own `configErrors` finds (an OKX ratio bucket rubik does not have, an OKX
 * book channel that needs a login without OKX credentials in `env`, more Deribit workers than
 * its 32 connections per IP hold). Each message
 * names the key, the value and what is allowed; the engine refuses to start on any (exit code
 * 2), rather than collect nothing.
 */
export function venueConfigErrors(config: Config, env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const errors: string[] = [];
  for (const venue of VENUE_KEYS) {
    const cfg = config.venues[venue];
    if (!cfg.enabled) continue;
    const definition = getVenue(venue);
    const offered = definition.data_types;
    const refused = cfg.data_types.filter((t) => !offered.includes(t));
    if (refused.length > 0) {
      errors.push(`'venues.${venue}.data_types' has ${refused.join(", ")}: ${venue} offers ${offered.join(", ")}`);
    }
    if (cfg.data_types.includes("orderbook_delta") && !cfg.data_types.includes("orderbook")) {
      // The deltas are what the synced book applies: no orderbook, no book to sync.
      errors.push(`'venues.${venue}.data_types' has orderbook_delta without orderbook: the deltas come from the book orderbook keeps`);
    }
    errors.push(...(definition.configErrors?.(cfg, env) ?? []));
  }
  return errors;
}
