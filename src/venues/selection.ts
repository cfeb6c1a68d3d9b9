import type { Config, VenueConfig, VenueKey } from "../config/schema.ts";
import { VENUE_KEYS } from "../config/venue-keys.ts";
import type { CaptureWriter } from "../replay/capture.ts";
import type { RestClient } from "./connection/rest-client.ts";
import { fetchInstrumentBodies, fetchMetadataBody, MetadataFetchError, parseInstrumentBodies } from "./instruments.ts";
import { getVenue } from "./registry.ts";
import type { InstrumentMap } from "./types.ts";

/**
 * Symbol selection (README "Symbol selection"): which of a venue's instruments the engine
 * collects, from an explicit list or a selector, resolved against what the venue lists now.
 * The supervisor resolves each venue at start and on every instrument refresh
 * (src/supervisor/instrument-refresh.ts); everything here but `fetchListing` is pure.
 */

/** What a venue lists now: its instruments, which of them trade, and their 24 h quote volumes. */
export interface VenueListingSnapshot {
  readonly instruments: InstrumentMap;
  readonly trading: ReadonlySet<string>;
  /** 24 h quote volume per native id; empty unless a selector asks for `top`. */
  readonly volumes: ReadonlyMap<string, number>;
}

export interface Selection {
  /** Native ids to collect: the explicit list's order, or by volume (`top`) or by id. */
  readonly symbols: readonly string[];
  /** Explicit symbols and `include` entries the venue does not list. */
  readonly unknown: readonly string[];
}

/** Reads `venue`'s instrument metadata, and its ticker list when `cfg`'s selector asks for `top`; recorded when capturing. */
export async function fetchListing(venue: VenueKey, cfg: VenueConfig, rest: RestClient, record?: CaptureWriter): Promise<VenueListingSnapshot> {
  const bodies = await fetchInstrumentBodies(venue, rest, cfg.rest_url, record);
  let instruments: InstrumentMap;
  try {
    instruments = parseInstrumentBodies(venue, bodies);
  } catch (cause) {
    throw new MetadataFetchError(`${venue}: instrument metadata unreadable: ${(cause as Error).message}`, { cause });
  }
  const listing = getVenue(venue).listing;
  const ticker = listing.ticker_path;
  const volumes = cfg.selector?.top !== undefined && ticker !== undefined ? listing.quoteVolumes(await fetchMetadataBody(venue, rest, `${cfg.rest_url}${ticker}`, "ticker list", record)) : new Map<string, number>();
  return { instruments, trading: listing.trading(bodies), volumes };
}

/**
 * A `top` N selector keeps a symbol it already collects while the symbol ranks within the top
 * ceil(N × TOP_KEEP_FACTOR): volumes that swap places around rank N do not drop and resubscribe
 * a symbol (and resync its book) on every refresh.
 */
const TOP_KEEP_FACTOR = 1.1;

/**
 * The symbols `cfg` asks for among what `listing` holds. `current`: the symbols collected now
 * (an instrument refresh), which a `top` selector keeps within its band (TOP_KEEP_FACTOR).
 */
export function selectSymbols(cfg: Pick<VenueConfig, "symbols" | "selector">, listing: VenueListingSnapshot, current: readonly string[] = []): Selection {
  const listed = listing.instruments;
  const selector = cfg.selector;
  if (selector === undefined) {
    return { symbols: cfg.symbols.filter((s) => listed.has(s)), unknown: cfg.symbols.filter((s) => !listed.has(s)) };
  }
  const quotes = selector.quote === undefined ? undefined : new Set(selector.quote.map((q) => q.toUpperCase()));
  const excluded = new Set(selector.exclude ?? []);
  let picked = [...listed.values()]
    .filter((i) => listing.trading.has(i.native) && !excluded.has(i.native))
    .filter((i) => quotes === undefined || quotes.has(i.quote.toUpperCase()))
    .filter((i) => selector.contract === undefined || i.market_type === selector.contract)
    .map((i) => i.native)
    .sort();
  if (selector.top !== undefined) {
    const volume = (n: string): number => listing.volumes.get(n) ?? 0;
    // Stable sort over ids in order: equal volumes keep id order.
    const ranked = picked.sort((a, b) => volume(b) - volume(a));
    const held = new Set(current);
    const band = new Set(ranked.slice(0, Math.ceil(selector.top * TOP_KEEP_FACTOR)).filter((n) => held.has(n)));
    const kept = ranked.filter((n) => band.has(n)).slice(0, selector.top);
    const keptSet = new Set(kept);
    const fill = ranked.filter((n) => !keptSet.has(n)).slice(0, selector.top - kept.length);
    const chosenTop = new Set([...kept, ...fill]);
    picked = ranked.filter((n) => chosenTop.has(n));
  }
  const include = selector.include ?? [];
  const chosen = new Set(picked);
  for (const native of include) if (listed.has(native) && !excluded.has(native) && !chosen.has(native)) picked.push(native);
  return { symbols: picked, unknown: include.filter((n) => !listed.has(n)) };
}

/**
 * The `n` listed ids nearest to `name` by edit distance (case-insensitive), nearest first, ties by
 * id: what a typo or a delisted pair was probably meant to be.
 */
export function closestSymbols(name: string, listed: Iterable<string>, n = 3): string[] {
  const target = name.toUpperCase();
  const scored: { id: string; d: number }[] = [];
  for (const id of listed) scored.push({ id, d: editDistance(target, id.toUpperCase()) });
  scored.sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return scored.slice(0, n).map((s) => s.id);
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * Why a start-up selection cannot run, one message per problem (exit code 2): symbols the venue
 * does not list, each with the closest listed ids, or a selector that matches nothing.
 */
export function selectionErrors(venue: VenueKey, cfg: Pick<VenueConfig, "symbols" | "selector">, listing: VenueListingSnapshot, selection: Selection): string[] {
  const key = `venues.${venue}.symbols`;
  const errors = selection.unknown.map(
    (s) => `'${key}' has ${s}, which ${venue} does not list (closest listed: ${closestSymbols(s, listing.instruments.keys()).join(", ")})`,
  );
  if (cfg.selector !== undefined && selection.symbols.length === 0) {
    errors.push(`'${key}' = ${JSON.stringify(cfg.selector)} matches none of the ${listing.trading.size} instruments ${venue} lists as trading`);
  }
  return errors;
}

/** Selector keys a venue cannot honour, checked before anything is fetched (exit code 2). */
export function selectorConfigErrors(config: Config): string[] {
  const errors: string[] = [];
  for (const venue of VENUE_KEYS) {
    const cfg = config.venues[venue];
    if (!cfg.enabled || cfg.selector?.top === undefined || getVenue(venue).listing.ticker_path !== undefined) continue;
    errors.push(`'venues.${venue}.symbols.top' = ${cfg.selector.top}: ${venue} has no 24 h volume to rank its symbols by; list them or drop 'top'`);
  }
  return errors;
}
