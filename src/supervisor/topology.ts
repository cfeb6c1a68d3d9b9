import { VENUE_KEYS, type Config, type VenueKey } from "../config/schema.ts";
import type { RecordType } from "../records/types.ts";
import { RECORD_TYPES } from "../records/types.ts";
import { getVenue } from "../venues/registry.ts";

/**
 * The thread topology a config asks for (SPEC section 6):
 *
 *   ingest:<venue>:<i>  ──ring──►  batch:<type>:<j>     one ring per (ingest worker, batch worker
 *        (symbols sharded)            (N per type)       of a type the venue produces, gap included);
 *                                                        a record goes to batch j = hash(symbol) % N(type)
 *
 * Pure: the supervisor spawns exactly what this returns, and tests compare plans.
 */

export interface IngestPlan {
  readonly id: string;
  readonly venue: VenueKey;
  readonly index: number;
  readonly symbols: readonly string[];
  /** Record types this worker writes (the venue's data types plus gap, those with batch workers). */
  readonly types: readonly RecordType[];
}

export interface BatchPlan {
  readonly id: string;
  readonly type: RecordType;
  readonly index: number;
}

export interface RingPlan {
  readonly from: string;
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

export function planTopology(config: Config): TopologyPlan {
  const warnings: string[] = [];
  const role = config.engine.role;
  const batch: BatchPlan[] = [];
  for (const type of RECORD_TYPES) {
    for (let index = 0; index < config.batch_workers[type]; index++) batch.push({ id: `batch:${type}:${index}`, type, index });
  }

  const ingest: IngestPlan[] = [];
  const rings: RingPlan[] = [];
  if (role !== "store") {
    for (const venue of VENUE_KEYS) {
      const cfg = config.venues[venue];
      if (!cfg.enabled || cfg.workers === 0) continue;
      if (cfg.symbols.length === 0) {
        warnings.push(`venues.${venue} is enabled with no symbols; no ingest worker started`);
        continue;
      }
      if (cfg.workers > cfg.symbols.length) {
        warnings.push(`venues.${venue}.workers = ${cfg.workers} but only ${cfg.symbols.length} symbols; starting ${cfg.symbols.length}`);
      }
      const types = [...new Set<RecordType>([...cfg.data_types, "gap"])].filter((t) => config.batch_workers[t] > 0);
      for (const t of cfg.data_types) {
        if (config.batch_workers[t] === 0) warnings.push(`venues.${venue} collects ${t} but batch_workers.${t} = 0; its records are not collected`);
      }
      shardSymbols(cfg.symbols, cfg.workers).forEach((symbols, index) => {
        const id = `ingest:${venue}:${index}`;
        ingest.push({ id, venue, index, symbols, types });
        for (const type of types) {
          for (let j = 0; j < config.batch_workers[type]; j++) rings.push({ from: id, type, batch_index: j });
        }
      });
    }
  }
  return { ingest, batch, rings, warnings };
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
    errors.push(...(definition.configErrors?.(cfg, env) ?? []));
  }
  return errors;
}
