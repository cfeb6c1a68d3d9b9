/**
 * Quoting for SQL text that Spectra builds. Identifiers come from validated config and system
 * tables, string values from validated input; both are still quoted, never spliced.
 */

/** A backquoted ClickHouse identifier. */
export function ident(name: string): string {
  return `\`${name.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``;
}

/** `database`.`table`. */
export function qualified(database: string, table: string): string {
  return `${ident(database)}.${ident(table)}`;
}

/** A ClickHouse string literal. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
