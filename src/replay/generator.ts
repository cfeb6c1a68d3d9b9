import { binanceGeneratedFiles } from "../venues/binance/sim-generator.ts";
import { deribitGeneratedFiles } from "../venues/deribit/sim-generator.ts";
import { okxGeneratedFiles } from "../venues/okx/sim-generator.ts";
import type { SimAsset } from "./generated-book.ts";
import type { RecordedLine } from "./recording.ts";

/**
 * The built-in generator's driver: picks the assets and asks each venue's generator
 * (`src/venues/<venue>/sim-generator.ts`) for the fixture files it stands in for, so the
 * simulator reads generated data exactly as it reads a recordings folder.
 */

/** Symbols per venue when nothing else is asked for: as many as each recording carries. */
export const DEFAULT_GENERATED_SYMBOLS = 4;

/** Each venue's generator: fixture file name (relative, `reference/…` for metadata) -> its lines. */
type VenueGenerator = (assets: readonly SimAsset[]) => Map<string, () => RecordedLine[]>;
const GENERATORS: readonly VenueGenerator[] = [binanceGeneratedFiles, okxGeneratedFiles, deribitGeneratedFiles];

const LISTED: readonly SimAsset[] = [
  { base: "BTC", price: 65000 }, { base: "ETH", price: 3200 }, { base: "SOL", price: 150 }, { base: "XRP", price: 0.6 },
  { base: "BNB", price: 580 }, { base: "DOGE", price: 0.15 }, { base: "ADA", price: 0.45 }, { base: "TRX", price: 0.12 },
  { base: "AVAX", price: 35 }, { base: "LINK", price: 15 }, { base: "DOT", price: 7 }, { base: "LTC", price: 80 },
];

/** The first `count` assets: well-known ones, then `G13`, `G14`, ... at prices spread over five decades. */
export function generatedAssets(count: number): SimAsset[] {
  const out: SimAsset[] = LISTED.slice(0, count);
  for (let i = out.length + 1; i <= count; i++) out.push({ base: `G${i}`, price: 10 ** ((i % 5) - 1) * (1 + (i % 7)) });
  return out;
}

/** Every generated file for `count` assets per venue, each built on first use. */
export function generatedFiles(count: number): Map<string, () => RecordedLine[]> {
  const assets = generatedAssets(count);
  const files = new Map<string, () => RecordedLine[]>();
  for (const generate of GENERATORS) for (const [name, lines] of generate(assets)) files.set(name, lines);
  return files;
}
