import type { TierReport, WindowResult } from "./types.ts";

/** `2024-01-01 00:00` (UTC; windows are whole seconds, usually whole hours). */
function time(ms: number | null): string {
  if (ms === null) return "none";
  const iso = new Date(ms).toISOString();
  return ms % 60_000 === 0 ? iso.slice(0, 16).replace("T", " ") : iso.slice(0, 19).replace("T", " ");
}

interface Line {
  readonly table: string;
  readonly start: string;
  readonly end: string;
  readonly hot: string;
  readonly cold: string;
  readonly checksums: string;
  readonly action: string;
}

/** Runs of re-checked windows that did not change are one line each, so a quiet pass stays short. */
function lines(windows: readonly WindowResult[]): Line[] {
  const out: Line[] = [];
  let run: WindowResult[] = [];
  const flush = (): void => {
    const first = run[0];
    const last = run[run.length - 1];
    if (first === undefined || last === undefined) return;
    out.push({
      table: first.table,
      start: time(first.window_start_ms),
      end: time(last.window_end_ms),
      hot: String(run.reduce((s, w) => s + w.rows_hot, 0)),
      cold: String(run.reduce((s, w) => s + w.rows_cold, 0)),
      checksums: "match",
      action: run.length === 1 ? "unchanged" : `unchanged (${run.length} windows)`,
    });
    run = [];
  };
  for (const w of windows) {
    if (w.action === "unchanged") {
      run.push(w);
      continue;
    }
    flush();
    out.push({
      table: w.table,
      start: time(w.window_start_ms),
      end: time(w.window_end_ms),
      hot: String(w.rows_hot),
      cold: String(w.rows_cold),
      checksums: w.match ? "match" : "DIFFER",
      action: w.action === "copied" ? `copied ${w.rows_copied}` : w.action,
    });
  }
  flush();
  return out;
}

/** The table the `tier` CLI prints: one line per window, then per-table and overall summaries. */
export function formatTierReport(report: TierReport): string {
  const header: Line = {
    table: "table",
    start: "window start (UTC)",
    end: "window end (UTC)",
    hot: "rows hot",
    cold: "rows cold",
    checksums: "checksums",
    action: "action",
  };
  const body = report.tables.flatMap((t) => lines(t.windows));
  const all = [header, ...body];
  const width = (key: keyof Line): number => Math.max(...all.map((l) => l[key].length));
  const w = { table: width("table"), start: width("start"), end: width("end"), hot: width("hot"), cold: width("cold"), checksums: width("checksums") };
  const row = (l: Line): string =>
    [
      l.table.padEnd(w.table),
      l.start.padEnd(w.start),
      l.end.padEnd(w.end),
      l.hot.padStart(w.hot),
      l.cold.padStart(w.cold),
      l.checksums.padEnd(w.checksums),
      l.action,
    ].join("  ");
  const out: string[] = [];
  if (report.dry_run) out.push("DRY RUN: nothing is copied, recorded or dropped.");
  if (report.filter_key !== "") out.push(`filter: ${report.filter_key} (its own watermark; the global one is not moved)`);
  out.push(`closed windows end at or before ${time(report.closed_until_ms)} UTC`);
  out.push(row(header));
  for (const l of body) out.push(row(l));
  for (const t of report.tables) {
    let line = `${t.table}: watermark ${time(t.watermark_before_ms)} -> ${time(t.watermark_after_ms)}, ${t.rows_copied} rows copied`;
    if (t.dropped_partitions.length > 0) {
      line += `, hot partitions ${report.dry_run ? "to drop" : "dropped"}: ${t.dropped_partitions.join(" ")}`;
    }
    if (t.error !== null) line += `; ERROR: ${t.error}`;
    out.push(line);
  }
  const failed = report.tables.reduce((n, t) => n + t.windows.filter((x) => x.action === "failed").length, 0);
  if (report.dry_run) {
    const pending = report.tables.reduce((n, t) => n + t.windows.filter((x) => x.action === "would-copy").length, 0);
    out.push(pending === 0 ? "nothing to copy: every closed window already matches cold" : `${pending} windows would be copied`);
  } else if (report.rows_copied === 0 && failed === 0) {
    out.push("nothing copied: every closed window was already verified in cold");
  } else {
    out.push(`${report.rows_copied} rows copied in ${report.windows_copied} windows${failed > 0 ? `; ${failed} windows FAILED verification` : ""}`);
  }
  return `${out.join("\n")}\n`;
}
