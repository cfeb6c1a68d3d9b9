import type { Config } from "../config/schema.ts";
import type { RemoteSource } from "./copy.ts";
import type { TierFilter } from "./filter.ts";

export type TieringConfig = Config["tiering"];

export interface TieringDatabases {
  readonly hot_database: string;
  readonly cold_database: string;
  /** How the cold server reaches hot with `remote()`; required for `mode: remote`. */
  readonly hot_remote?: RemoteSource;
}

/**
 * What happened to one window in a pass:
 * - `copied`: missing rows were copied and the window then verified;
 * - `verified`: cold already matched (e.g. an interrupted pass had copied it) and is now recorded;
 * - `unchanged`: verified before and still matches (a re-check that found nothing new);
 * - `would-copy`: dry run, hot and cold differ;
 * - `failed`: after copying, counts or checksums still differ (e.g. cold holds rows hot lacks).
 */
export type WindowAction = "copied" | "verified" | "unchanged" | "would-copy" | "failed";

export interface WindowResult {
  readonly table: string;
  readonly window_start_ms: number;
  readonly window_end_ms: number;
  readonly rows_hot: number;
  /** After the pass (before it, in a dry run). */
  readonly rows_cold: number;
  readonly checksum_hot: string;
  readonly checksum_cold: string;
  readonly match: boolean;
  readonly rows_copied: number;
  /** The window lies behind the watermark: a re-check for late rows. */
  readonly recheck: boolean;
  readonly action: WindowAction;
}

export interface TableReport {
  readonly table: string;
  readonly watermark_before_ms: number | null;
  /** In a dry run: where the watermark would be. */
  readonly watermark_after_ms: number | null;
  /** Windows with rows on either side in the scanned range, oldest first. */
  readonly windows: readonly WindowResult[];
  readonly rows_copied: number;
  /** Hot partitions dropped (in a dry run: that would be dropped). */
  readonly dropped_partitions: readonly string[];
  /** Why the pass over this table stopped; nothing was deleted from hot because of it. */
  readonly error: string | null;
}

export interface TierReport {
  readonly dry_run: boolean;
  /** `""` for an unfiltered pass (see filter.ts). */
  readonly filter_key: string;
  /** Windows ending at or before this instant were closed (now - lag). */
  readonly closed_until_ms: number;
  readonly tables: readonly TableReport[];
  readonly rows_copied: number;
  readonly windows_copied: number;
}

export interface TieringHooks {
  /** Runs after a window's rows were copied and before it is verified (tests inject failures). */
  afterCopy?(table: string, window_start_ms: number): void | Promise<void>;
}

export interface TieringRunOptions {
  /** Read and compare only; nothing is copied, recorded or dropped. */
  readonly dry_run?: boolean;
  /** Table names (TABLES values); default all. */
  readonly tables?: readonly string[];
  readonly filter?: TierFilter;
  /** The pass's clock (ms); default `Date.now()`. */
  readonly now_ms?: number;
  readonly hooks?: TieringHooks;
}

/** Per-table progress for /stats and /metrics (unfiltered passes). */
export interface TableTierStatus {
  /** End of the contiguous verified range; null before the first copy. */
  readonly watermark_ms: number | null;
  /** Hot's newest event time minus the watermark (0 when hot is empty). */
  readonly lag_ms: number;
  readonly windows_verified: number;
  readonly windows_failed: number;
  readonly last_error: string | null;
  readonly last_pass_ms: number;
}
