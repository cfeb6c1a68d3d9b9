import type { VenueConfig, VenueKey } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import type { Counters } from "../stats/counters.ts";
import { venueCounter, type VenueCounter } from "../stats/layout.ts";
import type { CaptureWriter } from "../replay/capture.ts";
import type { RestClient } from "../venues/connection/rest-client.ts";
import { MetadataFetchError } from "../venues/instruments.ts";
import { fetchListing, selectionErrors, selectSymbols, type VenueListingSnapshot } from "../venues/selection.ts";
import type { Instrument } from "../venues/types.ts";

/**
 * One venue's resolved symbols, kept current. At start the supervisor resolves the venue's
 * explicit list or selector against its instrument metadata (src/venues/selection.ts) and shards the result over the venue's ingest workers; then every
 * `instruments_refresh_s` the metadata is read again and the difference goes to `onChange`:
 * new listings the config selects (an explicit symbol listed again counts too) and symbols the
 * venue no longer lists. A failed read keeps the current symbols and is logged and counted.
 *
 *   refresh ─► fetchListing ─► selectSymbols ─► diff ─► onChange(added, removed)
 *                                                        └► supervisor: assignSymbolChange over the
 *                                                           venue's ingest workers, `symbols` message
 */

/** How many of the latest listings and delistings `/stats` shows per venue. */
const RECENT_CHANGES = 50;

export interface SymbolChangeEntry {
  readonly symbol: string;
  readonly change: "added" | "removed";
  /** Wall clock of the refresh that saw it, ms. */
  readonly at_ms: number;
}

/** A venue's symbols in `/stats`. */
export interface VenueSymbolStats {
  /** Symbols the venue's ingest workers collect now. */
  readonly resolved: number;
  /** Wall clock of the last metadata read that succeeded, ms; null before the first. */
  readonly last_refresh_ms: number | null;
  readonly refreshes: number;
  readonly refresh_failures: number;
  /** Why the latest read failed, null once a read succeeds again. */
  readonly last_refresh_error: string | null;
  readonly added: number;
  readonly removed: number;
  /** The latest listings and delistings, oldest first. */
  readonly changes: readonly SymbolChangeEntry[];
}

/** A venue's symbol figures from the shared counters, with `recent` from its VenueSymbols. */
export function venueSymbolStats(counters: Counters, venue: VenueKey, recent: SymbolRecent | undefined): VenueSymbolStats {
  const read = (name: VenueCounter) => counters.read(venueCounter(venue, name));
  const last = read("last_instrument_refresh_ms");
  return {
    resolved: read("symbols"),
    last_refresh_ms: last === 0 ? null : last,
    refreshes: read("instrument_refreshes"),
    refresh_failures: read("instrument_refresh_failures"),
    last_refresh_error: recent?.last_refresh_error ?? null,
    added: read("symbols_added"),
    removed: read("symbols_removed"),
    changes: recent?.changes ?? [],
  };
}

export interface SymbolRecent {
  readonly last_refresh_error: string | null;
  readonly changes: readonly SymbolChangeEntry[];
}

export class VenueSymbols {
  /** Native ids collected now, in shard order. */
  symbols: string[] = [];
  /** The metadata read at start, which ingest workers start from (IngestInit.instruments); null when it could not be read. */
  instruments: Instrument[] | null = null;
  private lastError: string | null = null;
  private readonly changes: SymbolChangeEntry[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<void> | null = null;

  constructor(
    readonly venue: VenueKey,
    private readonly cfg: VenueConfig,
    private readonly rest: RestClient,
    private readonly counters: Counters,
    private readonly log: Logger,
    private readonly onChange: (added: readonly Instrument[], removed: readonly string[]) => void,
  ) {}

  /**
   * Resolves the symbols at start. Returns the configuration errors (exit code 2): symbols the
   * venue does not list, a selector matching nothing. When the metadata cannot be read, an
   * explicit list is kept as written (the ingest workers retry the venue as for any outage),
   * while a selector, which has nothing to shard without it, throws MetadataFetchError.
   */
  async resolve(record?: CaptureWriter): Promise<string[]> {
    try {
      const listing = await fetchListing(this.venue, this.cfg, this.rest, record);
      this.instruments = [...listing.instruments.values()];
      const selection = selectSymbols(this.cfg, listing);
      const errors = selectionErrors(this.venue, this.cfg, listing, selection);
      if (errors.length > 0) return errors;
      this.symbols = [...selection.symbols];
      this.succeeded();
      return [];
    } catch (cause) {
      if (!(cause instanceof MetadataFetchError) || this.cfg.selector !== undefined) throw cause;
      this.symbols = [...this.cfg.symbols];
      this.failed(cause.message);
      return [];
    } finally {
      this.count("symbols", this.symbols.length, "set");
    }
  }

  /** Refreshes every `instruments_refresh_s` (0: never). */
  start(): void {
    const every_s = this.cfg.instruments_refresh_s;
    if (every_s > 0) this.timer = setInterval(() => void this.refresh(), every_s * 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.rest.stop();
  }

  /** Reads the metadata again and hands the difference to `onChange`; one read at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** A refresh that fails anywhere (the read, the selection, `onChange`) is logged and counted, never thrown. */
  private async read(): Promise<void> {
    try {
      this.apply(await fetchListing(this.venue, this.cfg, this.rest));
    } catch (cause) {
      this.failed(cause instanceof Error ? cause.message : String(cause));
    }
  }

  private apply(listing: VenueListingSnapshot): void {
    const next = selectSymbols(this.cfg, listing, this.symbols).symbols;
    const wanted = new Set(next);
    const had = new Set(this.symbols);
    const added = next.filter((n) => !had.has(n));
    const removed = this.symbols.filter((n) => !wanted.has(n));
    if (added.length > 0 || removed.length > 0) {
      this.symbols = [...this.symbols.filter((n) => wanted.has(n)), ...added];
      this.count("symbols", this.symbols.length, "set");
      const now = Date.now();
      for (const symbol of added) this.remember({ symbol, change: "added", at_ms: now });
      for (const symbol of removed) this.remember({ symbol, change: "removed", at_ms: now });
      this.count("symbols_added", added.length);
      this.count("symbols_removed", removed.length);
      this.log.info({ venue: this.venue, added, removed, symbols: this.symbols.length }, "instrument refresh: new listings are subscribed, delisted symbols dropped");
      this.onChange(
        added.map((n) => listing.instruments.get(n)).filter((i): i is Instrument => i !== undefined),
        removed,
      );
    }
    this.succeeded();
  }

  /** What `/stats` shows besides the counters (venueSymbolStats). */
  recent(): SymbolRecent {
    return { last_refresh_error: this.lastError, changes: [...this.changes] };
  }

  private succeeded(): void {
    this.lastError = null;
    this.count("instrument_refreshes", 1);
    this.count("last_instrument_refresh_ms", Date.now(), "set");
  }

  private failed(error: string): void {
    this.lastError = error;
    this.count("instrument_refresh_failures", 1);
    this.log.warn({ venue: this.venue, error, symbols: this.symbols.length }, "instrument metadata could not be read: the venue keeps its current symbols until the next refresh");
  }

  private remember(entry: SymbolChangeEntry): void {
    this.changes.push(entry);
    if (this.changes.length > RECENT_CHANGES) this.changes.splice(0, this.changes.length - RECENT_CHANGES);
  }

  private count(name: VenueCounter, n: number, how: "add" | "set" = "add"): void {
    const slot = this.counters.slot(venueCounter(this.venue, name));
    if (how === "set") this.counters.set(slot, n);
    else this.counters.add(slot, n);
  }
}

/** One ingest worker's share of a symbol change. */
export interface WorkerSymbolChange {
  /** The worker's symbols after the change. */
  readonly symbols: readonly string[];
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/**
 * Which ingest worker each change goes to: a removed symbol to the worker that has it, an added
 * one to the worker with the fewest symbols at that moment (ties: the first). `shards` maps
 * worker id to its symbols now; only workers whose symbols change are in the result.
 */
export function assignSymbolChange(shards: ReadonlyMap<string, readonly string[]>, added: readonly string[], removed: readonly string[]): Map<string, WorkerSymbolChange> {
  const gone = new Set(removed);
  const now = new Map<string, string[]>();
  const adds = new Map<string, string[]>();
  const removes = new Map<string, string[]>();
  for (const [id, symbols] of shards) {
    now.set(id, symbols.filter((s) => !gone.has(s)));
    const lost = symbols.filter((s) => gone.has(s));
    if (lost.length > 0) removes.set(id, lost);
  }
  const held = new Set([...now.values()].flat());
  for (const symbol of added) {
    if (held.has(symbol)) continue;
    let least: string | undefined;
    for (const [id, symbols] of now) if (least === undefined || symbols.length < (now.get(least)?.length ?? 0)) least = id;
    if (least === undefined) break;
    now.get(least)?.push(symbol);
    adds.set(least, [...(adds.get(least) ?? []), symbol]);
    held.add(symbol);
  }
  const out = new Map<string, WorkerSymbolChange>();
  for (const [id, symbols] of now) {
    const add = adds.get(id) ?? [];
    const remove = removes.get(id) ?? [];
    if (add.length > 0 || remove.length > 0) out.set(id, { symbols, add, remove });
  }
  return out;
}
