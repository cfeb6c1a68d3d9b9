import type { ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "../log/logger.ts";
import { TABLES } from "../storage/types.ts";
import { remoteCopy, sameInstanceCopy, StreamCopy, type CopyStrategy } from "./copy.ts";
import { TieringSetupError, TieringUsageError } from "./errors.ts";
import { filterKey, filterSql } from "./filter.ts";
import { literal, queryRows } from "./sql.ts";
import { TieringStateStore } from "./state-store.ts";
import { runTablePass, TablePassError } from "./table-pass.ts";
import type {
  TableReport,
  TableTierStatus,
  TierReport,
  TieringConfig,
  TieringDatabases,
  TieringRunOptions,
} from "./types.ts";

export const TIERED_TABLES: readonly string[] = Object.values(TABLES);

/** A window that failed verification in this pass, as a status message, or null. */
function failureOf(report: TableReport): string | null {
  const failed = report.windows.filter((w) => w.action === "failed");
  const first = failed[0];
  if (first === undefined) return null;
  return `${failed.length} window(s) failed verification, first ${new Date(first.window_start_ms).toISOString()}: hot ${first.rows_hot} rows, cold ${first.rows_cold}`;
}

export type TieringLog = Pick<Logger, "info" | "warn" | "error">;

/**
 * Hot → cold tiering (SPEC section 7): copies closed windows of every table, verifies each by
 * row count and content checksum on both sides, keeps the watermark and per-window results in
 * ClickHouse (`<cold_database>.tiering_*`), re-checks recent windows for late rows, and removes
 * hot data only by dropping whole verified partitions (when enabled) or by TTL.
 *
 * Decisions, each explained where it is implemented:
 * - Windows are `[start, start + window_s)` aligned to multiples of window_s; a row exactly on a
 *   boundary belongs to the later window; a window is closed once `now - lag_s` passed its end.
 * - Both sides are counted and hashed with FINAL (ReplacingMergeTree collapses by sort key), so
 *   unmerged duplicates and a window copied twice still verify (table-shape.ts, window-stats.ts).
 * - `created_at` is copied verbatim but left out of the checksum (table-shape.ts).
 * - Only rows whose content hash is missing from cold are copied, with an insert dedup token:
 *   an interrupted pass is finished by the next one without duplicates; nothing is ever deleted
 *   row by row in either database (copy.ts).
 * - The watermark ends the contiguous run of windows verified when first copied; windows within
 *   recheck_s behind it are re-checked each pass, hashing only those whose hot fingerprint moved
 *   (late rows). Late rows older than recheck_s are not found (table-pass.ts).
 * - Filtered passes keep their own state and watermark (filter.ts).
 * - A hot partition is dropped only past the re-check horizon, with no failed window, after the
 *   whole day matched once more (partition-drop.ts).
 *
 * `hot` and `cold` are the clients of the two sides. In `same` mode they reach one instance
 * (they may be the same object) and copies run there as `INSERT … SELECT`; in `remote` mode the
 * cold server pulls with `remote()`; in `stream` mode rows pass through this process.
 * The engine calls `runOnce` on its schedule (or `start()`); `status()` feeds /stats and /metrics.
 */
export class TieringJob {
  private readonly copier: CopyStrategy;
  private readonly state: TieringStateStore;
  private readonly statuses = new Map<string, TableTierStatus>();
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly hot: ClickHouseClient,
    private readonly cold: ClickHouseClient,
    private readonly cfg: TieringConfig,
    private readonly databases: TieringDatabases,
    private readonly log: TieringLog,
  ) {
    this.state = new TieringStateStore(cold, databases.cold_database);
    switch (cfg.mode) {
      case "same":
        this.copier = sameInstanceCopy(cold, databases);
        break;
      case "stream":
        this.copier = new StreamCopy(hot, cold, databases);
        break;
      case "remote":
        if (databases.hot_remote === undefined) {
          throw new TieringUsageError("tiering.mode 'remote' needs the hot server's native address (clickhouse.url)");
        }
        this.copier = remoteCopy(cold, databases, databases.hot_remote);
        break;
    }
  }

  /** One pass over the selected tables. Per-table failures are reported, not thrown. */
  async runOnce(opts: TieringRunOptions = {}): Promise<TierReport> {
    if (this.running) throw new TieringUsageError("a tiering pass is already running");
    const tables = opts.tables ?? TIERED_TABLES;
    for (const t of tables) {
      if (!TIERED_TABLES.includes(t)) {
        throw new TieringUsageError(`unknown table '${t}': expected one of ${TIERED_TABLES.join(", ")}`);
      }
    }
    this.running = true;
    try {
      return await this.pass(tables, opts);
    } finally {
      this.running = false;
    }
  }

  /** Progress per table from the unfiltered passes of this process (empty before the first). */
  status(): Record<string, TableTierStatus> {
    return Object.fromEntries(this.statuses);
  }

  /** Runs a pass every `interval_s` until `stop()`; a failed pass is logged and retried next time. */
  start(): void {
    if (this.timer !== null || this.loop !== null) return;
    const tick = (): void => {
      this.loop = this.runOnce()
        .then((report) => this.log.info({ rows_copied: report.rows_copied, windows_copied: report.windows_copied }, "tiering pass done"))
        .catch((err: unknown) => this.log.error({ err }, "tiering pass failed"))
        .finally(() => {
          this.loop = null;
          if (this.timer !== null) this.timer = setTimeout(tick, this.cfg.interval_s * 1000);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops scheduling and waits for a pass in progress to finish. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.loop;
  }

  private async pass(tables: readonly string[], opts: TieringRunOptions): Promise<TierReport> {
    const dry_run = opts.dry_run ?? false;
    const filter = opts.filter ?? {};
    const key = filterKey(filter);
    const window_ms = this.cfg.window_s * 1000;
    const now_ms = opts.now_ms ?? Date.now();
    const closed_until_ms = Math.floor((now_ms - this.cfg.lag_s * 1000) / window_ms) * window_ms;

    await this.requireDatabase(this.hot, "hot", this.databases.hot_database);
    await this.requireDatabase(this.cold, "cold", this.databases.cold_database);
    if (!dry_run) await this.state.ensure();
    const watermarks = await this.state.watermarks(key);

    const reports: TableReport[] = [];
    const hotBounds = new Map<string, { readonly min_ms: number; readonly max_ms: number } | null>();
    const errors = new Map<string, string>();
    for (const table of tables) {
      try {
        const outcome = await runTablePass({
          hot: this.hot,
          cold: this.cold,
          hot_database: this.databases.hot_database,
          cold_database: this.databases.cold_database,
          copier: this.copier,
          state: this.state,
          table,
          filter_key: key,
          filter_sql: filterSql(filter),
          window_ms,
          recheck_ms: this.cfg.recheck_s * 1000,
          closed_until_ms,
          watermark_ms: watermarks.get(table) ?? null,
          dry_run,
          drop_partitions: this.cfg.drop_verified_partitions,
          hooks: opts.hooks ?? {},
        });
        reports.push(outcome.report);
        hotBounds.set(table, outcome.hot_bounds);
      } catch (cause) {
        const message = cause instanceof Error ? cause.message : String(cause);
        errors.set(table, message);
        this.log.warn({ table, err: cause }, "tiering pass over table failed; nothing was deleted from hot");
        const before = watermarks.get(table) ?? null;
        reports.push(
          cause instanceof TablePassError
            ? cause.partial
            : {
                table,
                watermark_before_ms: before,
                watermark_after_ms: before,
                windows: [],
                rows_copied: 0,
                dropped_partitions: [],
                error: message,
              },
        );
      }
    }
    if (key === "" && !dry_run) await this.refreshStatus(reports, hotBounds, errors, now_ms);
    let rows_copied = 0;
    let windows_copied = 0;
    for (const r of reports) {
      rows_copied += r.rows_copied;
      windows_copied += r.windows.filter((w) => w.rows_copied > 0).length;
    }
    return { dry_run, filter_key: key, closed_until_ms, tables: reports, rows_copied, windows_copied };
  }

  private async refreshStatus(
    reports: readonly TableReport[],
    hotBounds: ReadonlyMap<string, { readonly min_ms: number; readonly max_ms: number } | null>,
    errors: ReadonlyMap<string, string>,
    now_ms: number,
  ): Promise<void> {
    const counts = await this.state.counts("").catch(() => new Map<string, { verified: number; failed: number }>());
    for (const r of reports) {
      const bounds = hotBounds.get(r.table) ?? null;
      const wm = r.watermark_after_ms;
      const c = counts.get(r.table);
      const previous = this.statuses.get(r.table);
      this.statuses.set(r.table, {
        watermark_ms: wm,
        // Before the first verified window everything in hot is behind.
        lag_ms: bounds === null ? 0 : Math.max(0, bounds.max_ms - (wm ?? bounds.min_ms)),
        windows_verified: c?.verified ?? previous?.windows_verified ?? 0,
        windows_failed: c?.failed ?? previous?.windows_failed ?? 0,
        last_error: errors.get(r.table) ?? failureOf(r),
        last_pass_ms: now_ms,
      });
    }
  }

  private async requireDatabase(client: ClickHouseClient, side: "hot" | "cold", database: string): Promise<void> {
    let rows: unknown[][];
    try {
      rows = await queryRows(client, `SELECT name FROM system.databases WHERE name = ${literal(database)}`);
    } catch (cause) {
      throw new TieringSetupError(`${side} ClickHouse is unreachable: ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
      });
    }
    if (rows.length === 0) throw new TieringSetupError(`${side} database ${database} does not exist; nothing was copied or deleted`);
  }
}
