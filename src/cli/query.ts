import { existsSync } from "node:fs";
import { drainPending } from "chdb";
import { createChdbClient, embeddedPath } from "../storage/client.ts";
import { DEFAULT_FORMAT, runReadOnlyQuery } from "../storage/read-only-query.ts";

/**
 * `bun run query --data-dir DIR [--format FMT] "SQL"`: read-only SQL against the embedded
 * ClickHouse under DIR/clickhouse while the engine is stopped (libchdb locks its data
 * directory to one process). Prints the result text; on error prints ClickHouse's message to
 * stderr and exits 1.
 */

const USAGE = 'usage: bun run query --data-dir DIR [--format FORMAT] "SQL"';

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

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === "string") {
    process.stderr.write(`${args}\n${USAGE}\n`);
    return 2;
  }
  const path = embeddedPath(args.data_dir);
  if (!existsSync(path)) {
    process.stderr.write(`no embedded ClickHouse data at ${path}\n`);
    return 1;
  }
  const client = createChdbClient(path);
  try {
    const outcome = await runReadOnlyQuery(client, args.sql, { default_format: args.format, timeout_ms: 600_000 });
    if (!outcome.ok) {
      process.stderr.write(`${outcome.message}\n`);
      return 1;
    }
    process.stdout.write(outcome.body);
    return 0;
  } finally {
    await client.close();
    await drainPending();
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
