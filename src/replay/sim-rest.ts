import type { RecordedLine } from "./recording.ts";

/**
 * What every venue's simulated REST routes (src/venues/<venue>/sim-rest.ts) share: instrument
 * metadata served from the source's reference bodies (fixtures `reference/`, or generated ones),
 * JSON answers, and the period names of the ratio and statistics endpoints.
 */

/** A JSON answer with `status`. */
export const restJson = (body: string, status = 200): Response =>
  new Response(body, { status, headers: { "content-type": "application/json" } });

/** The answer to a path the simulated venue does not serve. */
export const noRoute = (path: string): Response => restJson(JSON.stringify({ code: -1, msg: `simulator: no route ${path}` }), 404);

/** Period names the venues' statistics endpoints take (Binance `1h`, OKX `1H`), in ms. */
export const PERIOD_MS: Readonly<Record<string, number>> = { "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000, "1H": 3_600_000, "1D": 86_400_000 };

/** Reference bodies, read once on first use (the spot exchangeInfo is 2 MB). */
export class ReferenceBodies {
  private readonly cache = new Map<string, { url: string; raw: string }[]>();
  /** `read`: the lines of one fixture file of the simulator's source (RecordingSource.read). */
  constructor(private readonly read: (file: string) => RecordedLine[]) {}

  lines(file: string): { url: string; raw: string }[] {
    let lines = this.cache.get(file);
    if (!lines) {
      lines = this.read(`reference/${file}`).map((l) => ({ url: l.url, raw: l.raw }));
      this.cache.set(file, lines);
    }
    return lines;
  }
}
