import { createHash } from "node:crypto";
import type { ClickHouseClient } from "@clickhouse/client";
import type { CopyStrategy } from "./copy.ts";
import { dropVerifiedPartitions } from "./partition-drop.ts";
import type { TieringStateStore, WindowRecord } from "./state-store.ts";
import { readTableShape, type TableShape } from "./table-shape.ts";
import type { TableReport, TieringHooks, WindowAction, WindowResult } from "./types.ts";
import {
  EMPTY_FINGERPRINT,
  EMPTY_STAT,
  sameStat,
  timeBounds,
  windowFingerprints,
  windowRowCounts,
  windowStats,
  type WindowStat,
} from "./window-stats.ts";

export interface TablePassInput {
  readonly hot: ClickHouseClient;
  readonly cold: ClickHouseClient;
  readonly hot_database: string;
  readonly cold_database: string;
  readonly copier: CopyStrategy;
  readonly state: TieringStateStore;
  readonly table: string;
  readonly filter_key: string;
  readonly filter_sql: string;
  readonly window_ms: number;
  readonly recheck_ms: number;
  /** Windows ending at or before this are closed. Aligned to `window_ms`. */
  readonly closed_until_ms: number;
  readonly watermark_ms: number | null;
  readonly dry_run: boolean;
  readonly drop_partitions: boolean;
  readonly hooks: TieringHooks;
}

export interface TablePassOutcome {
  readonly report: TableReport;
  /** Hot's oldest and newest event times matching the filter, for the lag gauge. */
  readonly hot_bounds: { readonly min_ms: number; readonly max_ms: number } | null;
}

/**
 * Differing windows copied by one statement at most. Windows that already match inside the
 * span cost a read but insert nothing (only missing rows are copied). Measured on chDB: one copy
 * per window (five statements each) ran the 3-day, 9-table first test past 5 s; spans take 1.7 s.
 * A day of hourly windows keeps each insert bounded.
 */
const MAX_WINDOWS_PER_COPY = 24;

/** A table pass stopped part-way; `partial` holds what was verified and saved before it did. */
export class TablePassError extends Error {
  override readonly name = "TablePassError";
  constructor(
    readonly partial: TableReport,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

const floorTo = (ms: number, step: number): number => Math.floor(ms / step) * step;

/** Groups sorted window starts into spans of at most `MAX_WINDOWS_PER_COPY` windows. */
function spans(starts: readonly number[], window_ms: number): number[][] {
  const out: number[][] = [];
  for (const w of starts) {
    const last = out[out.length - 1];
    const first = last?.[0];
    if (last !== undefined && first !== undefined && w + window_ms - first <= MAX_WINDOWS_PER_COPY * window_ms) last.push(w);
    else out.push([w]);
  }
  return out;
}

/**
 * One table's pass: compare every window from (watermark - recheck_s) up to the closed limit on
 * both sides with grouped queries, copy the missing rows of windows that differ, verify those
 * windows again, record the results and advance the watermark over the contiguous verified run.
 *
 * Windows with no rows on either side are verified by definition and not recorded. If anything
 * throws, the results so far and the watermark up to the last contiguous verified window are
 * still saved (best effort) and the error propagates: the windows in hand stay unrecorded, are
 * found unverified by the next pass and get only the rows still missing.
 */
export async function runTablePass(input: TablePassInput): Promise<TablePassOutcome> {
  const { table, window_ms } = input;
  const shape = await readTableShape(input.hot, input.cold, input, table);
  const bounds = await timeBounds(input.hot, input.hot_database, table, input.filter_sql);

  let start: number | null;
  if (input.watermark_ms !== null) {
    start = floorTo(Math.max(0, input.watermark_ms - input.recheck_ms), window_ms);
    const failed = await input.state.oldestFailed(table, input.filter_key);
    if (failed !== null) start = Math.min(start, failed);
    // Windows older than hot's oldest row lost their hot side to TTL or a partition drop: cold
    // holds them and a comparison could only "fail", so re-checks start at hot's oldest window.
    const hotFloor = bounds === null ? input.watermark_ms : floorTo(bounds.min_ms, window_ms);
    start = Math.max(start, Math.min(hotFloor, input.watermark_ms));
  } else {
    start = bounds === null ? null : floorTo(bounds.min_ms, window_ms);
  }
  const end = input.closed_until_ms;
  const windows: WindowResult[] = [];
  const records: WindowRecord[] = [];
  let watermark = input.watermark_ms;
  // Windows at or after this are new: the first one not verified stops the watermark.
  const newFrom = input.watermark_ms ?? start ?? end;
  let firstUnverified: number | null = null;
  const markUnverified = (w: number): void => {
    if (w >= newFrom && (firstUnverified === null || w < firstUnverified)) firstUnverified = w;
  };
  // Hot fingerprints read before any comparison; recorded with each result (see windowFingerprints).
  let fingerprints = new Map<number, string>();
  const fingerprintOf = (w: number): string => fingerprints.get(w) ?? EMPTY_FINGERPRINT;
  const addResult = (w: number, hot: WindowStat, cold: WindowStat, action: WindowAction, copied: number): void => {
    if (action === "failed" || action === "would-copy") markUnverified(w);
    windows.push({
      table,
      window_start_ms: w,
      window_end_ms: w + window_ms,
      rows_hot: hot.rows,
      rows_cold: cold.rows,
      checksum_hot: hot.checksum,
      checksum_cold: cold.checksum,
      match: sameStat(hot, cold),
      rows_copied: copied,
      recheck: input.watermark_ms !== null && w < input.watermark_ms,
      action,
    });
    if (action === "unchanged" || action === "would-copy") return;
    records.push({
      table,
      filter_key: input.filter_key,
      window_start_ms: w,
      window_end_ms: w + window_ms,
      status: action === "failed" ? "failed" : "verified",
      rows_hot: hot.rows,
      rows_cold: cold.rows,
      checksum_hot: hot.checksum,
      checksum_cold: cold.checksum,
      rows_copied: copied,
      error: action === "failed" ? describeMismatch(hot, cold) : "",
      hot_fingerprint: fingerprintOf(w),
    });
  };

  const finish = async (): Promise<void> => {
    if (start !== null && start < end) {
      const candidate = firstUnverified ?? end;
      // A first pass that verified nothing leaves no watermark rather than a vacuous one.
      if (watermark === null ? candidate > start : candidate > watermark) watermark = candidate;
    }
    if (input.dry_run) return;
    await input.state.record(records);
    if (watermark !== null && watermark !== input.watermark_ms) await input.state.setWatermark(table, input.filter_key, watermark);
  };

  if (start !== null && start < end) {
    let current = start;
    try {
      const stored = await input.state.windows(table, input.filter_key, start, end);
      // Re-checked windows whose hot fingerprint has not moved since they were verified are
      // unchanged without hashing; checksums are read from the first window that moved on.
      let scanFrom = Math.max(start, newFrom);
      if (shape.has_created_at) {
        fingerprints = await windowFingerprints(input.hot, input.hot_database, table, start, end, window_ms, input.filter_sql);
        for (const w of new Set([...fingerprints.keys(), ...stored.keys()])) {
          if (w >= scanFrom) continue;
          const s = stored.get(w);
          if (s?.status !== "verified" || s.hot_fingerprint !== fingerprintOf(w)) scanFrom = w;
        }
      } else {
        scanFrom = start;
      }
      for (const [w, s] of stored) {
        if (w >= scanFrom) continue;
        addResult(w, { rows: s.rows_hot, checksum: s.checksum_hot }, { rows: s.rows_cold, checksum: s.checksum_cold }, "unchanged", 0);
      }
      const [hotStats, coldStats] = await Promise.all([
        windowStats(input.hot, input.hot_database, shape, scanFrom, end, window_ms, input.filter_sql),
        windowStats(input.cold, input.cold_database, shape, scanFrom, end, window_ms, input.filter_sql),
      ]);
      const keys = [...new Set([...hotStats.keys(), ...coldStats.keys()])].sort((a, b) => a - b);
      const differing: number[] = [];
      for (const w of keys) {
        const hot = hotStats.get(w) ?? EMPTY_STAT;
        const cold = coldStats.get(w) ?? EMPTY_STAT;
        const verified = stored.get(w)?.status === "verified" && stored.get(w)?.hot_fingerprint === fingerprintOf(w);
        if (sameStat(hot, cold)) addResult(w, hot, cold, verified ? "unchanged" : "verified", 0);
        else if (input.dry_run) addResult(w, hot, cold, "would-copy", 0);
        else differing.push(w);
      }
      for (const span of spans(differing, window_ms)) {
        current = span[0] ?? current;
        await copySpan(input, shape, span, hotStats, coldStats, addResult);
      }
    } catch (cause) {
      // Nothing at or after the span in hand was verified, new windows included.
      markUnverified(Math.max(current, newFrom));
      let saved = true;
      await finish().catch(() => {
        saved = false;
      });
      windows.sort((a, b) => a.window_start_ms - b.window_start_ms);
      throw new TablePassError(
        {
          table,
          watermark_before_ms: input.watermark_ms,
          watermark_after_ms: saved ? watermark : input.watermark_ms,
          windows,
          rows_copied: windows.reduce((sum, w) => sum + w.rows_copied, 0),
          dropped_partitions: [],
          error: cause instanceof Error ? cause.message : String(cause),
        },
        cause,
      );
    }
  }
  await finish();
  windows.sort((a, b) => a.window_start_ms - b.window_start_ms);

  let dropped_partitions: string[] = [];
  if (input.drop_partitions && input.filter_key === "" && watermark !== null) {
    dropped_partitions = await dropVerifiedPartitions({
      hot: input.hot,
      cold: input.cold,
      hot_database: input.hot_database,
      cold_database: input.cold_database,
      shape,
      state: input.state,
      horizon_ms: watermark - input.recheck_ms,
      dry_run: input.dry_run,
    });
  }
  const rows_copied = windows.reduce((sum, w) => sum + w.rows_copied, 0);
  return {
    report: {
      table,
      watermark_before_ms: input.watermark_ms,
      watermark_after_ms: watermark,
      windows,
      rows_copied,
      dropped_partitions,
      error: null,
    },
    hot_bounds: bounds,
  };
}

/** Copies the missing rows of a span of differing windows, then verifies each of them again. */
async function copySpan(
  input: TablePassInput,
  shape: TableShape,
  span: readonly number[],
  hotStats: ReadonlyMap<number, WindowStat>,
  coldStats: ReadonlyMap<number, WindowStat>,
  addResult: (w: number, hot: WindowStat, cold: WindowStat, action: WindowAction, copied: number) => void,
): Promise<void> {
  const { window_ms, filter_sql } = input;
  const from = span[0] ?? 0;
  const to = (span[span.length - 1] ?? from) + window_ms;
  // The token names the span and both sides' state before the copy (see copy.ts).
  const state = span
    .map((w) => {
      const h = hotStats.get(w) ?? EMPTY_STAT;
      const c = coldStats.get(w) ?? EMPTY_STAT;
      return `${w}:${h.rows}:${h.checksum}:${c.rows}:${c.checksum}`;
    })
    .join(",");
  const digest = createHash("sha256").update(state).digest("hex").slice(0, 32);
  const before = await windowRowCounts(input.cold, input.cold_database, shape.table, from, to, window_ms, filter_sql);
  await input.copier.copy({
    shape,
    from_ms: from,
    to_ms: to,
    filter_sql,
    dedup_token: `tiering|${shape.table}|${input.filter_key}|${from}|${to}|${digest}`,
  });
  await input.hooks.afterCopy?.(shape.table, from);
  const [hotAfter, coldAfter, after] = await Promise.all([
    windowStats(input.hot, input.hot_database, shape, from, to, window_ms, filter_sql),
    windowStats(input.cold, input.cold_database, shape, from, to, window_ms, filter_sql),
    windowRowCounts(input.cold, input.cold_database, shape.table, from, to, window_ms, filter_sql),
  ]);
  for (const w of span) {
    const hot = hotAfter.get(w) ?? EMPTY_STAT;
    const cold = coldAfter.get(w) ?? EMPTY_STAT;
    const copied = (after.get(w) ?? 0) - (before.get(w) ?? 0);
    addResult(w, hot, cold, sameStat(hot, cold) ? "copied" : "failed", copied);
  }
}

function describeMismatch(hot: WindowStat, cold: WindowStat): string {
  const extra = cold.rows > hot.rows ? ` (cold holds ${cold.rows - hot.rows} rows hot does not)` : "";
  return `after copy hot has ${hot.rows} rows (checksum ${hot.checksum}), cold ${cold.rows} (checksum ${cold.checksum})${extra}`;
}
