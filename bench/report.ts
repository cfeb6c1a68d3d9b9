import type { Json, Spread } from "./aggregate.ts";

/**
 * Plain-text tables for a bench run. A suite's result is printed generically: its scalar
 * leaves as a key/value table, each object of objects as a row x column table, each array of
 * objects (e2e per-thread CPU) as rows. A figure measured over several rounds prints as
 * `median [min – max]`.
 */

type Row = Record<string, string>;

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumSignificantDigits: 3 });
const plain = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

function formatNumber(n: number): string {
  return plain.format(n);
}

function cell(value: Json | undefined, spread: Spread | undefined): string {
  if (typeof value === "number") {
    if (spread === undefined || spread.rounds < 2) return formatNumber(value);
    const f = Math.abs(value) >= 10_000 ? (x: number) => compact.format(x) : formatNumber;
    return `${formatNumber(value)} [${f(spread.min)} – ${f(spread.max)}]`;
  }
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function formatTable(rows: readonly Row[], title: string): string {
  if (rows.length === 0) return "";
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const width = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (values: string[]) => values.map((v, i) => (i === 0 ? v.padEnd(width[i] ?? 0) : v.padStart(width[i] ?? 0))).join("  ");
  const rule = width.map((w) => "-".repeat(w)).join("  ");
  return [title, line(columns), rule, ...rows.map((r) => line(columns.map((c) => r[c] ?? "")))].join("\n") + "\n";
}

/** The tables of one suite's aggregated result. */
export function formatSuite(suite: string, figures: Json, spread: Record<string, Spread>): string {
  if (!isObject(figures)) return formatTable([{ [suite]: cell(figures, spread[""]) }], `== ${suite}`);
  // Suites whose top level is itself a table (normalize/book/clickhouse: venue or batch size ->
  // figures; scale: symbols -> figures), with any scalars beside it (scale's checks) below it.
  const tableEntries = Object.entries(figures).filter(([, v]) => isObject(v));
  if (tableEntries.length > 0 && tableEntries.every(([, v]) => Object.values(v as object).every((x) => !isObject(x as Json)))) {
    const rows = tableEntries.map(([name, cols]) => {
      const row: Row = { [suite]: name };
      if (isObject(cols)) for (const [col, v] of Object.entries(cols)) row[col] = cell(v, spread[`${name}.${col}`]);
      return row;
    });
    const beside = Object.entries(figures)
      .filter(([, v]) => !isObject(v) && !(Array.isArray(v) && v.length === 0))
      .map(([key, v]) => ({ figure: key, value: Array.isArray(v) ? v.map((x) => cell(x, undefined)).join("; ") : cell(v, spread[key]) }));
    return [formatTable(rows, `== ${suite}`), formatTable(beside, `-- ${suite}: checks`)].filter((p) => p !== "").join("\n");
  }
  const scalars: Row[] = [];
  const parts: string[] = [];
  for (const [key, value] of Object.entries(figures)) {
    if (isObject(value) && Object.values(value).every(isObject)) {
      const rows = Object.entries(value).map(([name, cols]) => {
        const row: Row = { [key === "" ? suite : key]: name };
        if (isObject(cols)) for (const [col, v] of Object.entries(cols)) row[col] = cell(v, spread[`${key}.${name}.${col}`]);
        return row;
      });
      parts.push(formatTable(rows, `-- ${suite}: ${key}`));
    } else if (isObject(value)) {
      scalars.push(...Object.entries(value).map(([col, v]) => ({ figure: `${key}.${col}`, value: cell(v, spread[`${key}.${col}`]) })));
    } else if (Array.isArray(value)) {
      if (value.every(isObject)) parts.push(formatTable(value.slice(0, 12).map((o) => Object.fromEntries(Object.entries(o as object).map(([k, v]) => [k, cell(v as Json, undefined)]))), `-- ${suite}: ${key}`));
      else if (value.length > 0) scalars.push({ figure: key, value: value.map((v) => cell(v, undefined)).join("; ") });
    } else {
      scalars.push({ figure: key, value: cell(value, spread[key]) });
    }
  }
  return [formatTable(scalars, `== ${suite}`), ...parts].filter((p) => p !== "").join("\n");
}
