import { configWith } from "../../src/config/load.ts";
import type { VenueKey } from "../../src/config/schema.ts";
import type { MarketRecord } from "../../src/records/types.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import type { Simulator } from "../../src/replay/simulator.ts";
import { IngestRunner, type IngestOptions } from "../../src/venues/ingest.ts";

export function runnerFor(sim: Simulator, venue: VenueKey, extra: Partial<IngestOptions> = {}): { runner: IngestRunner; records: MarketRecord[] } {
  const config = configWith(replayVenueOverrides(sim));
  const records: MarketRecord[] = [];
  const runner = new IngestRunner({
    venue,
    config: config.venues[venue],
    symbols: config.venues[venue].symbols,
    orderbook: { depth: 10, snapshot_interval_ms: 0, snapshot_limit: 1000 },
    emit: (r) => records.push(r),
    tuning: { backoff: { initial_ms: 10, max_ms: 50 } },
    first_poll_delay_ms: 200,
    ...extra,
  });
  return { runner, records };
}
