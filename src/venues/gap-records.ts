import type { DataType, GapCause, GapRecord } from "../records/types.ts";
import type { Bucket } from "./connection/missed-buckets.ts";
import type { WsGap } from "./connection/ws-client.ts";
import type { GapRecovery } from "./recovered-gaps.ts";
import type { InstrumentMap } from "./types.ts";
import type { VenueDefinition } from "./venue-definition.ts";

/**
 * The `gap` records of a hole in one connection's data: one per (symbol, data type) the
 * connection carried (`carried`; all of `data_types` when undefined). Types the venue fetches by
 * REST poll only get none: their buckets are fetched regardless of the socket. With `recovery`,
 * the records carry what a recovery after the hole brought back (recovered-gaps.ts).
 */
export function gapRecords(
  venue: VenueDefinition,
  gap: WsGap,
  natives: readonly string[],
  instruments: InstrumentMap,
  data_types: readonly DataType[],
  carried: readonly DataType[] | undefined,
  recovery?: GapRecovery,
): GapRecord[] {
  const { polled_types, gap_market_type } = venue.ingest;
  const types = data_types.filter((t) => !polled_types.includes(t) && (carried?.includes(t) ?? true));
  const out: GapRecord[] = [];
  for (const native of natives) {
    const inst = instruments.get(native);
    for (const t of types) {
      out.push({
        data_type: "gap",
        exchange: venue.exchange,
        market_type: inst?.market_type ?? gap_market_type,
        symbol: inst?.symbol ?? native,
        ts_ms: gap.end_ts_ms,
        recv_ts_ms: gap.end_ts_ms,
        data_type_affected: t,
        start_ts_ms: gap.start_ts_ms,
        end_ts_ms: gap.end_ts_ms,
        cause: gap.cause satisfies GapCause,
        recovered_records: recovery?.records ?? 0,
        recovered_at_ms: recovery?.at_ms ?? 0,
      });
    }
  }
  return out;
}

/**
 * The `poll_failed` gap of a bucket a REST poll missed (bucket-poller.ts): it spans the bucket
 * and is stamped with its end. With `recovery`, what the venue's history brought back for it.
 */
export function missedBucketGap(
  venue: VenueDefinition,
  native: string,
  instruments: InstrumentMap,
  data_type: DataType,
  bucket: Bucket,
  recv_ts_ms: number,
  recovery?: GapRecovery,
): GapRecord {
  const inst = instruments.get(native);
  return {
    data_type: "gap",
    exchange: venue.exchange,
    market_type: inst?.market_type ?? venue.ingest.gap_market_type,
    symbol: inst?.symbol ?? native,
    ts_ms: bucket.end_ms,
    recv_ts_ms,
    data_type_affected: data_type,
    start_ts_ms: bucket.start_ms,
    end_ts_ms: bucket.end_ms,
    cause: "poll_failed",
    recovered_records: recovery?.records ?? 0,
    recovered_at_ms: recovery?.at_ms ?? 0,
  };
}
