import type { ClickHouseClient } from "@clickhouse/client";
import { literal, msTime, numberAt, qualified, queryRows, textAt } from "./sql.ts";

/**
 * Tiering state, kept in ClickHouse beside the cold data (not in a local file), so any process
 * on any machine resumes from the same watermark:
 *
 * - `tiering_windows`: the latest result per (table, filter, window): status, counts and
 *   checksums of both sides, rows copied, error. ReplacingMergeTree on `updated_at`.
 * - `tiering_watermarks`: per (table, filter) the end of the contiguous run of windows verified
 *   when first copied. Everything before it was verified once; re-checks of windows behind it
 *   are recorded in `tiering_windows` and a failure there blocks that day's partition drop.
 *
 * Both are read with FINAL. `filter_key` is `""` for unfiltered passes (see filter.ts).
 */
export const WINDOWS_TABLE = "tiering_windows";
export const WATERMARKS_TABLE = "tiering_watermarks";

export type WindowStatus = "verified" | "failed";

export interface WindowRecord {
  readonly table: string;
  readonly filter_key: string;
  readonly window_start_ms: number;
  readonly window_end_ms: number;
  readonly status: WindowStatus;
  readonly rows_hot: number;
  readonly rows_cold: number;
  readonly checksum_hot: string;
  readonly checksum_cold: string;
  readonly rows_copied: number;
  readonly error: string;
  /** Hot's fingerprint (window-stats.ts) read before the window was compared. */
  readonly hot_fingerprint: string;
}

/** What a previous pass recorded about a window. */
export interface StoredWindow {
  readonly status: WindowStatus;
  readonly rows_hot: number;
  readonly rows_cold: number;
  readonly checksum_hot: string;
  readonly checksum_cold: string;
  readonly hot_fingerprint: string;
}

export interface WindowCounts {
  readonly verified: number;
  readonly failed: number;
}

/** `2024-01-01 00:00:00.000`: what a DateTime64(3,'UTC') column parses from JSON text. */
function dateTimeText(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

let lastStamp_ms = 0;
/** Strictly increasing `updated_at`, so the newer of two writes in one millisecond wins. */
function stamp(): string {
  lastStamp_ms = Math.max(Date.now(), lastStamp_ms + 1);
  return dateTimeText(lastStamp_ms);
}

export class TieringStateStore {
  private ready = false;

  constructor(
    private readonly cold: ClickHouseClient,
    private readonly database: string,
  ) {}

  /** Whether the state tables exist (a dry run never creates them). */
  async exists(): Promise<boolean> {
    if (this.ready) return true;
    const rows = await queryRows(
      this.cold,
      `SELECT count() FROM system.tables WHERE database = ${literal(this.database)} AND name IN (${literal(WINDOWS_TABLE)}, ${literal(WATERMARKS_TABLE)})`,
    );
    this.ready = rows[0] !== undefined && numberAt(rows[0], 0) === 2;
    return this.ready;
  }

  async ensure(): Promise<void> {
    if (this.ready) return;
    await this.cold.command({
      query: `CREATE TABLE IF NOT EXISTS ${qualified(this.database, WINDOWS_TABLE)} (
  table_name LowCardinality(String),
  filter_key String,
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  status LowCardinality(String),
  rows_hot UInt64,
  rows_cold UInt64,
  checksum_hot UInt64,
  checksum_cold UInt64,
  rows_copied UInt64,
  error String,
  hot_fingerprint String,
  updated_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (table_name, filter_key, window_start)`,
    });
    await this.cold.command({
      query: `CREATE TABLE IF NOT EXISTS ${qualified(this.database, WATERMARKS_TABLE)} (
  table_name LowCardinality(String),
  filter_key String,
  watermark DateTime64(3, 'UTC'),
  updated_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (table_name, filter_key)`,
    });
    this.ready = true;
  }

  /** Watermark (ms) per table for `filter_key`; tables never tiered are absent. */
  async watermarks(filter_key: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!(await this.exists())) return out;
    const rows = await queryRows(
      this.cold,
      `SELECT table_name, toString(toUnixTimestamp64Milli(watermark)) FROM ${qualified(this.database, WATERMARKS_TABLE)} FINAL
       WHERE filter_key = ${literal(filter_key)}`,
    );
    for (const row of rows) out.set(textAt(row, 0), numberAt(row, 1));
    return out;
  }

  /** Latest record of each window of `table` in `[from_ms, to_ms)`. */
  async windows(table: string, filter_key: string, from_ms: number, to_ms: number): Promise<Map<number, StoredWindow>> {
    const out = new Map<number, StoredWindow>();
    if (!(await this.exists())) return out;
    const rows = await queryRows(
      this.cold,
      `SELECT toString(toUnixTimestamp64Milli(window_start)), status, toString(rows_hot), toString(rows_cold),
         toString(checksum_hot), toString(checksum_cold), hot_fingerprint
       FROM ${qualified(this.database, WINDOWS_TABLE)} FINAL
       WHERE table_name = ${literal(table)} AND filter_key = ${literal(filter_key)}
         AND window_start >= ${msTime(from_ms)} AND window_start < ${msTime(to_ms)}`,
    );
    for (const row of rows) {
      out.set(numberAt(row, 0), {
        status: textAt(row, 1) === "failed" ? "failed" : "verified",
        rows_hot: numberAt(row, 2),
        rows_cold: numberAt(row, 3),
        checksum_hot: textAt(row, 4),
        checksum_cold: textAt(row, 5),
        hot_fingerprint: textAt(row, 6),
      });
    }
    return out;
  }

  /** Start of the oldest window of `table` whose latest status is failed, or null. */
  async oldestFailed(table: string, filter_key: string): Promise<number | null> {
    if (!(await this.exists())) return null;
    const rows = await queryRows(
      this.cold,
      `SELECT toString(min(toUnixTimestamp64Milli(window_start))), count() FROM ${qualified(this.database, WINDOWS_TABLE)} FINAL
       WHERE table_name = ${literal(table)} AND filter_key = ${literal(filter_key)} AND status = 'failed'`,
    );
    const row = rows[0];
    return row === undefined || numberAt(row, 1) === 0 ? null : numberAt(row, 0);
  }

  async counts(filter_key: string): Promise<Map<string, WindowCounts>> {
    const out = new Map<string, WindowCounts>();
    if (!(await this.exists())) return out;
    const rows = await queryRows(
      this.cold,
      `SELECT table_name, countIf(status = 'verified'), countIf(status = 'failed') FROM ${qualified(this.database, WINDOWS_TABLE)} FINAL
       WHERE filter_key = ${literal(filter_key)} GROUP BY table_name`,
    );
    for (const row of rows) out.set(textAt(row, 0), { verified: numberAt(row, 1), failed: numberAt(row, 2) });
    return out;
  }

  async record(records: readonly WindowRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensure();
    const updated_at = stamp();
    await this.cold.insert({
      table: `${this.database}.${WINDOWS_TABLE}`,
      format: "JSONEachRow",
      values: records.map((r) => ({
        table_name: r.table,
        filter_key: r.filter_key,
        window_start: dateTimeText(r.window_start_ms),
        window_end: dateTimeText(r.window_end_ms),
        status: r.status,
        rows_hot: r.rows_hot,
        rows_cold: r.rows_cold,
        checksum_hot: r.checksum_hot,
        checksum_cold: r.checksum_cold,
        rows_copied: r.rows_copied,
        error: r.error,
        hot_fingerprint: r.hot_fingerprint,
        updated_at,
      })),
    });
  }

  async setWatermark(table: string, filter_key: string, watermark_ms: number): Promise<void> {
    await this.ensure();
    await this.cold.insert({
      table: `${this.database}.${WATERMARKS_TABLE}`,
      format: "JSONEachRow",
      values: [{ table_name: table, filter_key, watermark: dateTimeText(watermark_ms), updated_at: stamp() }],
    });
  }
}
