import { existsSync } from "node:fs";
import type { ClickHouseClient } from "@clickhouse/client";
import { drainPending } from "chdb";
import { createChdbClient, embeddedPath } from "../storage/client.ts";
import { DEFAULT_FORMAT, runReadOnlyQuery } from "../storage/read-only-query.ts";
import { helpText, usageLine, wantsHelp, type CommandHelp } from "./help.ts";

/**
 * `bun run query --data-dir DIR [--format FMT] "SQL"`: read-only SQL against the embedded
 * ClickHouse under DIR/clickhouse while the engine is stopped (libchdb locks its data
 * directory to one process). Prints the result text; on error prints ClickHouse's message to
 * stderr and exits 1; a statement the query guard refuses (anything but one read statement,
 * src/storage/query-guard.ts) is not run, and the command exits 2 saying what and why.
 */

export const QUERY_HELP: CommandHelp = {
  usage: 'bun run query --data-dir DIR [--format FORMAT] "SQL"',
  about: "Runs one read-only statement (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS) against the embedded ClickHouse under DIR/clickhouse while the engine is stopped (chDB locks its data to one process; a running engine answers POST /query and the ClickHouse HTTP port instead) and prints the result.",
  flags: [
    ["--data-dir DIR", "the engine's data directory (engine.data_dir)"],
    ["--format FORMAT", `ClickHouse output format when the SQL has no FORMAT clause (default ${DEFAULT_FORMAT})`],
    ["--help, -h", "this text"],
  ],
  exits: [
    [0, "the result was printed"],
    [1, "ClickHouse refused or failed the query, or no data under DIR"],
    [2, "bad arguments, or a statement the query guard refuses (anything but one read)"],
  ],
};

interface QueryArgs {
  readonly data_dir: string;
  readonly format: string;
  readonly sql: string;
}

function parseArgs(argv: readonly string[]): QueryArgs | string {
  let data_dir: string | undefined;
  let format = DEFAULT_FORMAT;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--data-dir" || arg === "--format") {
      const value = argv[i + 1];
      if (value === undefined) return `${arg} needs a value`;
      if (arg === "--data-dir") data_dir = value;
      else format = value;
      i++;
    } else if (arg.startsWith("--data-dir=")) data_dir = arg.slice("--data-dir=".length);
    else if (arg.startsWith("--format=")) format = arg.slice("--format=".length);
    else rest.push(arg);
  }
  if (data_dir === undefined) return "--data-dir is required";
  if (rest.length !== 1 || rest[0] === undefined || rest[0].trim() === "") return "exactly one SQL argument is required";
  return { data_dir, format, sql: rest[0] };
}

/** What the command touches outside itself; tests give an open client and capture the output. */
export interface QueryCommandIo {
  /** A client on the embedded ClickHouse at `path`, and how to let it go. */
  open(path: string): { readonly client: ClickHouseClient; close(): Promise<void> };
  stdout(bytes: Uint8Array): void;
  stderr(text: string): void;
}

/** The command: its exit code (0 rows printed, 1 query error, 2 usage or refused statement). */
export async function runQueryCommand(argv: readonly string[], io: QueryCommandIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(new TextEncoder().encode(helpText(QUERY_HELP)));
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === "string") {
    io.stderr(`${args}\n${usageLine(QUERY_HELP)}\n`);
    return 2;
  }
  const path = embeddedPath(args.data_dir);
  if (!existsSync(path)) {
    io.stderr(`no embedded ClickHouse data at ${path}\n`);
    return 1;
  }
  const { client, close } = io.open(path);
  try {
    const outcome = await runReadOnlyQuery(client, args.sql, { default_format: args.format, timeout_ms: 600_000 });
    if (!outcome.ok) {
      io.stderr(`${outcome.message}\n`);
      return outcome.refused ? 2 : 1;
    }
    io.stdout(outcome.body);
    return 0;
  } finally {
    await close();
  }
}

const PROCESS_IO: QueryCommandIo = {
  open(path) {
    const client = createChdbClient(path);
    return {
      client,
      async close() {
        await client.close();
        await drainPending();
      },
    };
  },
  stdout: (bytes) => process.stdout.write(bytes),
  stderr: (text) => process.stderr.write(text),
};

if (import.meta.main) process.exitCode = await runQueryCommand(process.argv.slice(2), PROCESS_IO);
