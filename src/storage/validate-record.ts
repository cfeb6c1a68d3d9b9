import { LevelsText } from "../codec/levels-text.ts";
import { DECIMAL_38_18 } from "../records/decimal.ts";
import type { RecordType } from "../records/types.ts";
import { insertedColumns, type ColumnKind, type ColumnSpec } from "./schema.ts";

/**
 * What a ClickHouse column needs from a record field. A record that fails is poison for the
 * insert (one bad value fails the whole batch), so the storage consumer checks each record
 * first and dead-letters the ones that fail, with this message.
 */

function fieldProblem(kind: ColumnKind, v: unknown): string | null {
  switch (kind) {
    case "time":
      return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? null : "an integer ms UTC >= 0";
    case "decimal":
      return typeof v === "string" && DECIMAL_38_18.test(v) ? null : "a decimal string fitting Decimal(38,18)";
    case "string":
      return typeof v === "string" && v.length > 0 ? null : "a non-empty string";
    case "string_or_empty":
      return typeof v === "string" ? null : "a string";
    case "uint":
      return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? null : "a non-negative safe integer";
    case "bool":
      return typeof v === "boolean" ? null : "a boolean";
    case "levels":
      return isLevels(v) ? null : 'an array of ["price","qty"] decimal-string pairs';
    case "source":
      return null;
  }
}

function isLevels(v: unknown): boolean {
  // Its every price and quantity was checked against the same pattern as it was built.
  if (v instanceof LevelsText) return true;
  if (!Array.isArray(v)) return false;
  for (const level of v) {
    if (!Array.isArray(level) || level.length !== 2) return false;
    const [price, qty] = level as unknown[];
    if (typeof price !== "string" || !DECIMAL_38_18.test(price)) return false;
    if (typeof qty !== "string" || !DECIMAL_38_18.test(qty)) return false;
  }
  return true;
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  const text = JSON.stringify(v);
  return `got ${text === undefined ? typeof v : text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

const checkedColumns = (type: RecordType): readonly ColumnSpec[] => insertedColumns(type);

/**
 * `null` when `r` is a `type` record every column of `type`'s table accepts exactly, otherwise
 * a message naming the first bad field, e.g. `trade.price: expected a decimal string fitting
 * Decimal(38,18), got "1e-7"`.
 */
export function validateRecord(type: RecordType, r: unknown): string | null {
  if (typeof r !== "object" || r === null) return `${type}: expected a record object, ${describe(r)}`;
  const fields = r as Record<string, unknown>;
  if (fields.data_type !== type) return `${type}.data_type: expected "${type}", ${describe(fields.data_type)}`;
  for (const c of checkedColumns(type)) {
    const v = fields[c.field];
    const problem = fieldProblem(c.kind, v);
    if (problem !== null) return `${type}.${c.field}: expected ${problem}, ${describe(v)}`;
  }
  return null;
}
