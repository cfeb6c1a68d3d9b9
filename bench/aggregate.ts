/**
 * Folds several rounds of one suite into one result: every numeric leaf becomes the median of
 * its rounds, with min/max/rounds kept beside it as the spread; other leaves (flags, messages,
 * per-thread lists) come from the last round.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Spread {
  min: number;
  max: number;
  rounds: number;
}

export interface Aggregate {
  /** The suite's own result shape, numbers replaced by their medians. */
  readonly figures: Json;
  /** Dotted leaf path (`binance_spot.spectra_msgs_per_s`) -> spread over rounds. */
  readonly spread: Record<string, Spread>;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return Number.isInteger(values[0]) ? Math.round(m) : m;
}

/** Every numeric leaf of `value` by dotted path (arrays are not descended into). */
export function numericLeaves(value: Json, prefix = "", out = new Map<string, number>()): Map<string, number> {
  if (typeof value === "number") out.set(prefix, value);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) numericLeaves(v, prefix === "" ? k : `${prefix}.${k}`, out);
  return out;
}

function replaceNumbers(value: Json, prefix: string, medians: Map<string, number>): Json {
  if (typeof value === "number") return medians.get(prefix) ?? value;
  if (!isObject(value)) return value;
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(value)) out[k] = replaceNumbers(v, prefix === "" ? k : `${prefix}.${k}`, medians);
  return out;
}

export function aggregate(rounds: readonly Json[]): Aggregate {
  const last = rounds[rounds.length - 1];
  if (last === undefined) throw new Error("aggregate: no rounds");
  const byPath = new Map<string, number[]>();
  for (const round of rounds) for (const [path, v] of numericLeaves(round)) byPath.set(path, [...(byPath.get(path) ?? []), v]);
  const medians = new Map<string, number>();
  const spread: Record<string, Spread> = {};
  for (const [path, values] of byPath) {
    medians.set(path, median(values));
    spread[path] = { min: Math.min(...values), max: Math.max(...values), rounds: values.length };
  }
  return { figures: replaceNumbers(last, "", medians), spread };
}
