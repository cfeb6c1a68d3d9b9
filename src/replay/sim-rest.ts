import type { RecordedLine } from "./recording.ts";
import type { StampRange } from "./synthetic.ts";

/**
 * What every venue's simulated REST routes (src/venues/<venue>/sim-rest.ts) share: instrument
 * metadata served from the source's reference bodies (fixtures `reference/`, or generated ones)
 * and JSON answers.
 */

/** A JSON answer with `status`. */
export const restJson = (body: string, status = 200): Response =>
  new Response(body, { status, headers: { "content-type": "application/json" } });

/** The answer to a path the simulated venue does not serve. */
export const noRoute = (path: string): Response => restJson(JSON.stringify({ code: -1, msg: `simulator: no route ${path}` }), 404);

/** The span a history request names by its `from`/`to` ms parameters (Binance `startTime`/`endTime`, OKX `begin`/`end`); a missing or malformed one is open. */
export function queryRange(query: URLSearchParams, from: string, to: string): StampRange {
  const ms = (param: string): number | undefined => {
    const text = query.get(param);
    const value = Number(text);
    return text !== null && text !== "" && Number.isSafeInteger(value) ? value : undefined;
  };
  const from_ms = ms(from);
  const to_ms = ms(to);
  return { ...(from_ms === undefined ? {} : { from_ms }), ...(to_ms === undefined ? {} : { to_ms }) };
}

/**
 * What the simulated venues list: native ids in `unlisted` are left out of the instrument
 * metadata served (Binance exchangeInfo, OKX instruments, Deribit currencies), as a delisting
 * would, and come back when removed from it, as a new listing (tests of the engine's instrument
 * refresh).
 */
export interface SimListing {
  readonly unlisted: Set<string>;
  /** Binance exchangeInfo and OKX instruments bodies served so far (tests count the engine's reads). */
  served: number;
}

/** Reference bodies, read once on first use (the spot exchangeInfo is 2 MB). */
export class ReferenceBodies {
  private readonly cache = new Map<string, { url: string; raw: string }[]>();
  readonly listing: SimListing = { unlisted: new Set(), served: 0 };
  /** `read`: the lines of one fixture file of the simulator's source (RecordingSource.read). */
  constructor(private readonly read: (file: string) => RecordedLine[]) {}

  /** `raw` with the unlisted ids taken out of its `key` array (items named by their `id` field). */
  listed(raw: string, key: string, id: string): string {
    this.listing.served++;
    if (this.listing.unlisted.size === 0) return raw;
    const body = JSON.parse(raw) as Record<string, unknown>;
    const items = body[key];
    if (Array.isArray(items)) body[key] = items.filter((i: Record<string, unknown>) => !this.listing.unlisted.has(String(i[id])));
    return JSON.stringify(body);
  }

  lines(file: string): { url: string; raw: string }[] {
    let lines = this.cache.get(file);
    if (!lines) {
      lines = this.read(`reference/${file}`).map((l) => ({ url: l.url, raw: l.raw }));
      this.cache.set(file, lines);
    }
    return lines;
  }
}
