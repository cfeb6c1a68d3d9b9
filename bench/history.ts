import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { type Json, numericLeaves } from "./aggregate.ts";
import { formatTable } from "./report.ts";

/**
 * bench/results/history.jsonl: one line per run (timestamp, git commit, quick flag, machine,
 * every suite's figures). A run is compared, suite by suite, with the latest earlier line that
 * ran the same suite with the same quick flag; a figure that moved the wrong way by more than
 * REGRESSION_PCT is flagged.
 */

export interface HistoryLine {
  readonly timestamp: string;
  readonly commit: string;
  readonly quick: boolean;
  readonly machine: Json;
  readonly suites: Record<string, Json>;
}

export const REGRESSION_PCT = 10;

function isHistoryLine(value: unknown): value is HistoryLine {
  return typeof value === "object" && value !== null && "timestamp" in value && "quick" in value && "suites" in value;
}

export function readHistory(path: string): HistoryLine[] {
  if (!existsSync(path)) return [];
  const out: HistoryLine[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const parsed: unknown = JSON.parse(line);
    if (isHistoryLine(parsed)) out.push(parsed);
  }
  return out;
}

export function appendHistory(path: string, line: HistoryLine): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify(line)}\n`);
}

/** +1 when a larger value is better, -1 when smaller is, 0 for figures that only describe the run. */
function direction(path: string): 1 | -1 | 0 {
  const leaf = path.slice(path.lastIndexOf(".") + 1);
  if (path.includes("threads") || path.startsWith("per_venue") || path.startsWith("stages")) return 0;
  if (leaf.endsWith("per_s") || leaf === "books_live") return 1;
  // The scale and ingest benches' CPU, sync time, venue rules broken and encode share: less is better.
  if (leaf === "cpu_pct" || leaf === "sync_s" || leaf === "rate_limited" || leaf === "encode_pct") return -1;
  if (/(^|_)(ms|mb|us)$/.test(leaf) || leaf.endsWith("_us_per_frame") || leaf === "lost" || leaf === "dropped") return leaf.startsWith("stop") || leaf.startsWith("duration") ? 0 : -1;
  return 0;
}

export interface Comparison {
  readonly text: string;
  readonly regressions: number;
  /**
   * Median change of the reference implementations' figures (tardis-dev, bare JSON.parse,
   * postMessage, JSONEachRow, one record per message), percent, or null when none compared.
   * Their code is the same in both runs, so this is how much the host's speed moved.
   */
  readonly reference_drift_pct: number | null;
}

/** A figure measured on a reference implementation, not on Spectra. */
const REFERENCE_FIGURE = /(^|\.)(tardis|json_parse|post_message|json_each_row|single)_[a-z_]*per_s$/;

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Compares `current` with the previous run of each suite (same quick flag) in `history`. */
export function compareWithHistory(history: readonly HistoryLine[], current: HistoryLine): Comparison {
  const rows: Record<string, string>[] = [];
  const notes: string[] = [];
  let regressions = 0;
  const referenceChanges: number[] = [];
  for (const [suite, figures] of Object.entries(current.suites)) {
    const previous = [...history].reverse().find((h) => h.quick === current.quick && h.suites[suite] !== undefined);
    if (previous === undefined) {
      notes.push(`${suite}: no earlier ${current.quick ? "quick" : "default"} run to compare with`);
      continue;
    }
    const before = numericLeaves(previous.suites[suite] ?? null);
    for (const [path, now] of numericLeaves(figures)) {
      const dir = direction(path);
      const was = before.get(path);
      if (dir === 0 || was === undefined) continue;
      const changePct = was === 0 ? (now === 0 ? 0 : 100 * Math.sign(now)) : ((now - was) / Math.abs(was)) * 100;
      const worse = dir * changePct < -REGRESSION_PCT;
      if (worse) regressions++;
      if (REFERENCE_FIGURE.test(path)) referenceChanges.push(changePct);
      rows.push({
        figure: `${suite}.${path}`,
        previous: String(was),
        now: String(now),
        change: `${changePct >= 0 ? "+" : ""}${changePct.toFixed(1)}%`,
        flag: worse ? `REGRESSION (>${REGRESSION_PCT}%)` : "",
      });
    }
    notes.push(`${suite}: compared with ${previous.timestamp} (commit ${previous.commit})`);
  }
  const drift = median(referenceChanges);
  if (drift !== null) {
    notes.push(
      `reference implementations (same code in both runs) moved by a median of ${drift >= 0 ? "+" : ""}${drift.toFixed(1)}% over ${referenceChanges.length} figures: the host's speed changed by about that much`,
    );
  }
  const text = [formatTable(rows, `== compared with the previous ${current.quick ? "quick" : "default"} run`), ...notes].join("\n");
  return { text, regressions, reference_drift_pct: drift };
}
