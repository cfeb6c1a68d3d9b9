import { configWith } from "../../src/config/load.ts";
import type { VenueConfig, VenueKey } from "../../src/config/schema.ts";
import type { MarketRecord } from "../../src/records/types.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import type { Simulator } from "../../src/replay/simulator.ts";
import { IngestRunner, type IngestOptions } from "../../src/venues/ingest.ts";

/** An IngestRunner for `venue` with fast test backoff, collecting what it emits. */
export function ingestRunner(venue: VenueKey, config: VenueConfig, extra: Partial<IngestOptions> = {}): { runner: IngestRunner; records: MarketRecord[] } {
  const records: MarketRecord[] = [];
  const runner = new IngestRunner({
    venue,
    config,
    symbols: config.symbols,
    orderbook: { depth: 10, snapshot_interval_ms: 0, snapshot_limit: 1000 },
    emit: (r) => records.push(r),
    tuning: { backoff: { initial_ms: 10, max_ms: 50 } },
    first_poll_delay_ms: 200,
    ...extra,
  });
  return { runner, records };
}

/** `ingestRunner` for `venue` pointed at the simulator. */
export function runnerFor(sim: Simulator, venue: VenueKey, extra: Partial<IngestOptions> = {}): { runner: IngestRunner; records: MarketRecord[] } {
  return ingestRunner(venue, configWith(replayVenueOverrides(sim)).venues[venue], extra);
}

/** A Binance spot `exchangeInfo` body listing `symbols` (all quoted in USDT), for hand-made venues. */
export function binanceExchangeInfo(symbols: readonly string[]): string {
  return JSON.stringify({ symbols: symbols.map((s) => ({ symbol: s, baseAsset: s.slice(0, -4), quoteAsset: "USDT" })) });
}

/** One Binance spot depth diff frame of `symbol` with ids `U`..`u` (bid 1.00 at size 2). */
export function binanceDepthDiff(symbol: string, U: number, u: number): string {
  const data = { e: "depthUpdate", E: Date.now(), s: symbol, U, u, b: [["1.00", "2"]], a: [] };
  return JSON.stringify({ stream: `${symbol.toLowerCase()}@depth@100ms`, data });
}
