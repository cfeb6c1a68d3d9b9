import type { RecordType } from "../records/types.ts";
import type { StorageRecord } from "../codec/storage-record.ts";
import type { Counters } from "../stats/counters.ts";
import { dataTypeIndex, LatencyRecorder, recordVenueIndex } from "../stats/latency.ts";
import type { InsertResult, StorageSink } from "./types.ts";

/**
 * A StorageSink that observes receipt -> commit for every record of every insert that commits:
 * `Date.now()` when the insert's acknowledgement reaches the batch worker, minus the record's
 * `recv_ts_ms`, into the receive_to_commit histogram of its venue and data type (shared
 * counters, added once per insert). Both storage paths of a batch worker insert through it (the
 * JetStream consumer and the direct ring path), retries and single-message inserts included; a
 * failed insert observes nothing.
 *
 * bench/e2e.bench.ts reports the same interval from the stored rows after a run
 * (`created_at - received_at`, created_at being ClickHouse's now64(3) while it runs the
 * insert); this reading ends when the commit is known, later by the insert's own duration and
 * the reply's hop to the worker (`last_insert_ms` in /stats).
 */
export class CommitLatencySink implements StorageSink {
  private readonly latency: LatencyRecorder;

  constructor(
    private readonly inner: StorageSink,
    counters: Counters,
  ) {
    this.latency = new LatencyRecorder(counters, "receive_to_commit");
  }

  async insert(type: RecordType, records: readonly StorageRecord[], dedup_token: string, validated?: boolean): Promise<InsertResult> {
    const result = await this.inner.insert(type, records, dedup_token, validated);
    const t = dataTypeIndex(type);
    if (t < 0) return result;
    const now = Date.now();
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as StorageRecord;
      const v = recordVenueIndex(r.exchange, r.market_type);
      if (v >= 0) this.latency.observe(v, t, Math.max(0, now - r.recv_ts_ms));
    }
    this.latency.flush();
    return result;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
