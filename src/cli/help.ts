/**
 * `--help` for every command line tool: its usage, what it does, its flags (and environment
 * variables) and its exit codes, in one layout. Each tool declares a `CommandHelp` beside its
 * parser and prints `usageLine` after a usage error.
 */

export interface CommandHelp {
  /** The synopsis after `usage: `, e.g. `bun run query --data-dir DIR [--format FORMAT] "SQL"`. */
  readonly usage: string;
  /** What the command does, one short paragraph. */
  readonly about: string;
  /** Each flag as written in the synopsis, with what it does. */
  readonly flags: readonly (readonly [flag: string, text: string])[];
  readonly env?: readonly (readonly [name: string, text: string])[];
  readonly exits: readonly (readonly [code: number, text: string])[];
}

export function usageLine(help: CommandHelp): string {
  return `usage: ${help.usage}`;
}

function table(rows: readonly (readonly [string | number, string])[]): string {
  const width = Math.max(...rows.map(([k]) => String(k).length));
  return rows.map(([k, v]) => `  ${String(k).padEnd(width)}  ${v}`).join("\n");
}

export function helpText(help: CommandHelp): string {
  const parts = [usageLine(help), "", help.about];
  if (help.flags.length > 0) parts.push("", "Flags:", table(help.flags));
  if (help.env !== undefined && help.env.length > 0) parts.push("", "Environment:", table(help.env));
  parts.push("", "Exit codes:", table(help.exits));
  return `${parts.join("\n")}\n`;
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}
