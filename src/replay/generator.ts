import type { VenueKey } from "../config/schema.ts";
import { BinanceGeneratedMarket, binanceGeneratedFiles } from "../venues/binance/sim-generator.ts";
import { DeribitGeneratedFeed, deribitGeneratedFiles, DVOL_CURRENCIES } from "../venues/deribit/sim-generator.ts";
import { OkxGeneratedMarket, okxGeneratedFiles } from "../venues/okx/sim-generator.ts";
import type { SimAsset } from "./generated-book.ts";
import type { GeneratedMarkets } from "./live-feed.ts";
import type { RecordedLine } from "./recording.ts";

/**
 * The built-in generator's driver: picks the assets and builds each venue's generated market
 * (`src/venues/<venue>/sim-generator.ts`). The simulator serves them step by step
 * (live-feed.ts); `generatedFiles` renders a short recording of the same markets for tests and
 * tools that read fixture files.
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

/** Every generated file for `count` assets per venue, each built on first use. */
export function generatedFiles(count: number): Map<string, () => RecordedLine[]> {
  const assets = generatedAssets(count);
  const files = new Map<string, () => RecordedLine[]>();
  for (const generate of [binanceGeneratedFiles, okxGeneratedFiles, deribitGeneratedFiles]) for (const [name, lines] of generate(assets)) files.set(name, lines);
  return files;
}

/** The markets the simulator serves for `count` assets per venue; `live` makes the feeds push their once-a-second channels. */
export function generatedMarkets(count: number, live: boolean): GeneratedMarkets {
  const assets = generatedAssets(count);
  const spot = new BinanceGeneratedMarket(assets, false);
  const futures = new BinanceGeneratedMarket(assets, true);
  const okx = new OkxGeneratedMarket(assets);
  const binance = new Map<VenueKey, BinanceGeneratedMarket>([["binance_spot", spot], ["binance_derivatives", futures]]);
  return {
    feeds: [spot, futures, okx, new DeribitGeneratedFeed()],
    binance,
    okx,
    symbols: {
      binance_spot: [...spot.symbols],
      binance_derivatives: [...futures.symbols],
      okx_spot: okx.instruments.filter((i) => !i.endsWith("-SWAP")),
      okx_derivatives: okx.instruments.filter((i) => i.endsWith("-SWAP")),
      deribit_derivatives: [...DVOL_CURRENCIES],
    },
    pushes_side_channels: live,
    rest(venue, path, query, now_ms, unlisted) {
      if (venue === "binance_spot" || venue === "binance_derivatives") return binance.get(venue)?.rest(path, query, now_ms, unlisted);
      if (venue === "okx_spot" || venue === "okx_derivatives") return okx.rest(path, query, now_ms, unlisted);
      return undefined;
    },
  };
}
