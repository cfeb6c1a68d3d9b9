import type { GapRecord } from "../records/types.ts";

/**
 * What the poll path reads of the `engine_down` gaps after an unclean stop
 * (src/pipeline/engine-down-gaps.ts), to fetch the buckets a polled kind missed while the
 * engine was down from the venue's history: where each kind's gap starts, and the gap row once
 * written, so it can be written again with what the history brought back (recovered-gaps.ts).
 */
export interface EngineDownPolls {
  /** Exchange time of the newest record of the kind kept before the stop; undefined: no gap for it. */
  startOf(key: string): number | undefined;
  /** The kind's gap as this worker wrote it; undefined until then, or when another worker wrote it. */
  written(key: string): GapRecord | undefined;
}

/** The key of one kind: data type, exchange, market type, symbol. */
export function kindKey(data_type: string, exchange: string, market_type: string, symbol: string): string {
  return `${data_type}.${exchange}.${market_type}.${symbol}`;
}
