import type { BatchingConfig } from "../config/schema.ts";
import type { StorageRecord } from "../codec/storage-record.ts";

/**
 * Records waiting for one storage insert, with the sources they came from (JetStream messages
 * for the consumer, ring positions when NATS is off) so those are acknowledged only after the
 * insert commits. Flush policy (config `batching.<type>`): due at `max_rows` rows, at
 * `max_bytes` source bytes (the msgpack/JSON size, a close stand-in for the insert body), or
 * `linger_ms` after the first row.
 */
export class PendingBatch<Source, R extends StorageRecord = StorageRecord> {
  records: R[] = [];
  sources: Source[] = [];
  bytes = 0;
  private firstMs = 0;

  constructor(private readonly policy: BatchingConfig) {}

  get rows(): number {
    return this.records.length;
  }

  /** Adds the records of one source of `bytes` encoded bytes (possibly none of them valid). */
  add(source: Source, records: readonly R[], bytes: number, now_ms: number): void {
    if (this.sources.length === 0) this.firstMs = now_ms;
    this.sources.push(source);
    for (const r of records) this.records.push(r);
    this.bytes += bytes;
  }

  full(): boolean {
    return this.records.length >= this.policy.max_rows || this.bytes >= this.policy.max_bytes;
  }

  /** When the batch lingers `linger_ms` (Date.now() ms); meaningful while it holds a source. */
  get dueAtMs(): number {
    return this.firstMs + this.policy.linger_ms;
  }

  due(now_ms: number): boolean {
    return this.full() || (this.sources.length > 0 && now_ms - this.firstMs >= this.policy.linger_ms);
  }

  /** Hands the contents over and starts an empty batch. */
  take(): { records: R[]; sources: Source[] } {
    const out = { records: this.records, sources: this.sources };
    this.records = [];
    this.sources = [];
    this.bytes = 0;
    this.firstMs = 0;
    return out;
  }
}
