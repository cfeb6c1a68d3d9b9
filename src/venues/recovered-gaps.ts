/**
 * What a recovery after a gap brought back, for the gap's row (`gaps.recovered_records`,
 * `gaps.recovered_at`).
 *
 * A gap is emitted when its hole is seen, with 0 recovered records, so it is stored even if the
 * recovery never finishes. When the recovery (a REST backfill fed through the normalizer) has
 * emitted its records, the same gap is emitted again with their count and the time. Both rows
 * share the `gaps` sort key (exchange, market_type, symbol, timestamp, data_type_affected,
 * cause, start_ts_ms, end_ts_ms) and ReplacingMergeTree without a version column keeps the row
 * inserted last, so under FINAL (and after merges) the recovered row replaces the first: one
 * ingest thread emits both, in that order, through one ring lane and one stream subject, and
 * within one insert the later row wins too (test/storage/gaps-recovery.test.ts). With several
 * storing batch workers for gaps (`batch_workers.gap` > 1, default 1) two messages can be
 * inserted by different workers out of order, and the first row may then win. Their natural
 * keys differ (natural-key.ts), so NATS and insert deduplication keep the second.
 *
 * The ingest worker counts each re-emitted gap's records per venue and affected data type
 * (`recovered.<venue>.<type>`, /stats `venues.<v>.recovered`, /metrics
 * `spectra_recovered_records_total`).
 */
export interface GapRecovery {
  /**
   * Records the recovery emitted for the gap's symbol and data type, after the poll dedup; one
   * the socket also delivered is stored once (natural key) but counted here too.
   */
  readonly records: number;
  /** When it finished, ms UTC. */
  readonly at_ms: number;
}
