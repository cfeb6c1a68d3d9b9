import { VENUE_KEYS } from "../config/venue-keys.ts";
import { getVenueSim } from "../venues/sim-registry.ts";
import type { SimAsset } from "./generated-book.ts";
import type { RecordedLine } from "./recording.ts";

/**
 * The built-in generator's assets: which ones, at what price and 24 h volume. Each venue's
 * simulated server builds its generated markets for them (`src/venues/<venue>/sim-generator.ts`)
 * and serves them step by step (live-feed.ts); `generatedFiles` renders, through each venue's
 * definition, a short recording of the same markets for tests and tools that read fixture files.
 */

/** Symbols per venue when nothing else is asked for: as many as each recording carries. */
export const DEFAULT_GENERATED_SYMBOLS = 4;

/** Hot assets: the first three (BTC, ETH, SOL), busier per ACTIVITY (generated-book.ts) and the top by 24 h volume. */
export const HOT_ASSETS = 3;

const LISTED: readonly (readonly [string, number])[] = [
  ["BTC", 65000], ["ETH", 3200], ["SOL", 150], ["XRP", 0.6], ["BNB", 580], ["DOGE", 0.15], ["ADA", 0.45], ["TRX", 0.12],
  ["AVAX", 35], ["LINK", 15], ["DOT", 7], ["LTC", 80],
];

/**
 * 24 h quote volume of the asset at `rank` (0 first): hot assets 5·10^9 / (rank + 1), the others
 * 2·10^8 / (1 + rank / 10), so the hot ones lead and the rest fall off like a venue's long tail.
 */
function quoteVolume(rank: number): number {
  return rank < HOT_ASSETS ? 5e9 / (rank + 1) : 2e8 / (1 + rank / 10);
}

/** The first `count` assets: well-known ones, then `G13`, `G14`, ... at prices spread over five decades. */
export function generatedAssets(count: number): SimAsset[] {
  const out: SimAsset[] = [];
  for (let i = 0; i < count; i++) {
    const listed = LISTED[i];
    const base = listed?.[0] ?? `G${i + 1}`;
    const price = listed?.[1] ?? 10 ** ((i + 1) % 5 - 1) * (1 + ((i + 1) % 7));
    out.push({ base, price, hot: i < HOT_ASSETS, quote_volume_24h: quoteVolume(i) });
  }
  return out;
}

/** Every generated file for `count` assets per venue, each built on first use: each venue's part of the generator lists its own. */
export function generatedFiles(count: number): Map<string, () => RecordedLine[]> {
  const assets = generatedAssets(count);
  const files = new Map<string, () => RecordedLine[]>();
  // Venue keys of one venue carry the same generator (binance_spot and binance_derivatives: one Binance).
  for (const generator of new Set(VENUE_KEYS.map((venue) => getVenueSim(venue).generator))) {
    for (const [name, lines] of generator.files(assets)) files.set(name, lines);
  }
  return files;
}
