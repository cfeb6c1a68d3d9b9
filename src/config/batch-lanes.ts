import type { RecordType } from "../records/types.ts";
import type { Config } from "./schema.ts";

/**
 * The lanes a type has: its own batch workers, 1 when it shares the shared thread, 0 when
 * disabled. Apart from the topology (src/supervisor/topology.ts), which asks the venue
 * registry, so that a batch thread does not load the venues (test/venues/seam.test.ts).
 */
export function laneCount(config: Config, type: RecordType): number {
  const n = config.batch_workers[type];
  return n === "shared" ? 1 : n;
}
