import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { createLogger } from "../log/logger.ts";
import { embeddedPath } from "../storage/client.ts";
import { openTieringClients, type TieringClients } from "../tiering/clients.ts";
import { TieringSetupError, TieringUsageError } from "../tiering/errors.ts";
import { parseTierFilter, type TierFilter } from "../tiering/filter.ts";
import { formatTierReport } from "../tiering/format-report.ts";
import { TieringJob } from "../tiering/tiering-job.ts";
import { helpText, usageLine, wantsHelp, type CommandHelp } from "./help.ts";

/**
 * `bun run tier --once [--dry-run] [--table T]… [--exchange X] [--market-type M]
 *   [--symbol-prefix P] [--data-dir DIR] [--window SECONDS] [--lag SECONDS] [--config FILE]`
 *
 * One hot → cold tiering pass (or, without `--once`, a pass every `tiering.interval_s` until
 * SIGINT/SIGTERM), printing a table of the windows it looked at. `--data-dir` uses the embedded
 * ClickHouse under DIR/clickhouse, which only one process may open: stop the engine first.
 * Exit codes: 0 all verified; 1 a table could not be tiered or a window failed verification
 * (nothing was deleted from hot because of it); 2 usage or configuration error.
 */

export const TIER_HELP: CommandHelp = {
  usage: "bun run tier [--once] [--dry-run] [--table T]... [--exchange X] [--market-type M] [--symbol-prefix P] [--data-dir DIR] [--window SECONDS] [--lag SECONDS] [--config FILE]",
  about: "Copies closed windows from the hot to the cold database and verifies them (row count and checksum), printing a table of the windows it looked at. With --once: one pass; without: a pass every tiering.interval_s until SIGINT/SIGTERM. --data-dir uses the embedded ClickHouse under DIR/clickhouse, which only one process may open: stop the engine first.",
  flags: [
    ["--once", "one pass, then exit"],
    ["--dry-run", "report what a pass would do; nothing is copied, recorded or dropped"],
    ["--table T", "only table T (repeatable; default every table)"],
    ["--exchange X", "only rows of exchange X"],
    ["--market-type M", "only rows of market type M"],
    ["--symbol-prefix P", "only symbols starting with P"],
    ["--data-dir DIR", "embedded ClickHouse under DIR/clickhouse"],
    ["--window SECONDS", "tiering.window_s for this run"],
    ["--lag SECONDS", "tiering.lag_s for this run"],
    ["--config FILE", "YAML merged over config/default.yaml"],
    ["--help, -h", "this text"],
  ],
  exits: [
    [0, "every window verified"],
    [1, "a table could not be tiered or a window failed verification (nothing was deleted from hot because of it)"],
    [2, "bad arguments or configuration"],
  ],
};

export interface TierArgs {
  readonly once: boolean;
  readonly dry_run: boolean;
  readonly tables: readonly string[] | undefined;
  readonly filter: TierFilter;
  readonly data_dir: string | undefined;
  readonly window_s: number | undefined;
  readonly lag_s: number | undefined;
  readonly config: string | undefined;
}

function seconds(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new TieringUsageError(`--${flag} must be an integer number of seconds >= ${min}, got ${JSON.stringify(text)}`);
  }
  return n;
}

export function parseTierArgs(argv: readonly string[]): TierArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        once: { type: "boolean" },
        "dry-run": { type: "boolean" },
        table: { type: "string", multiple: true },
        exchange: { type: "string" },
        "market-type": { type: "string" },
        "symbol-prefix": { type: "string" },
        "data-dir": { type: "string" },
        window: { type: "string" },
        lag: { type: "string" },
        config: { type: "string" },
      },
    }));
  } catch (cause) {
    throw new TieringUsageError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
  return {
    once: values.once === true,
    dry_run: values["dry-run"] === true,
    tables: values.table?.flatMap((t) => t.split(",")).filter((t) => t !== ""),
    filter: parseTierFilter({ exchange: values.exchange, market_type: values["market-type"], symbol_prefix: values["symbol-prefix"] }),
    data_dir: values["data-dir"],
    window_s: seconds(values.window, "window", 1),
    lag_s: seconds(values.lag, "lag", 0),
    config: values.config,
  };
}

function configFor(args: TierArgs): Config {
  const tiering: Record<string, number> = {};
  if (args.window_s !== undefined) tiering.window_s = args.window_s;
  if (args.lag_s !== undefined) tiering.lag_s = args.lag_s;
  const overrides: Record<string, unknown> = { tiering };
  // --data-dir means the embedded ClickHouse under it, whatever the config's server URL says.
  if (args.data_dir !== undefined) {
    overrides.engine = { data_dir: args.data_dir };
    overrides.clickhouse = { url: "" };
  }
  return loadConfig({ ...(args.config === undefined ? {} : { file: args.config }), overrides });
}

function openChecked(cfg: Config): TieringClients {
  if (cfg.clickhouse.url === "") {
    const path = embeddedPath(cfg.engine.data_dir);
    if (!existsSync(path)) throw new TieringSetupError(`no embedded ClickHouse data at ${path}`);
  }
  return openTieringClients(cfg, createLogger(cfg.log.level, { component: "clickhouse-client" }));
}

export interface TierIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The CLI as a function (tests call it with their own clients); resolves to the exit code. */
export async function runTier(
  argv: readonly string[],
  io: TierIo,
  open: (cfg: Config) => TieringClients = openChecked,
  now_ms?: number,
): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(helpText(TIER_HELP));
    return 0;
  }
  let args: TierArgs;
  let cfg: Config;
  try {
    args = parseTierArgs(argv);
    cfg = configFor(args);
  } catch (err) {
    if (err instanceof TieringUsageError || err instanceof ConfigError) {
      io.stderr(`tier: ${err.message}\n${usageLine(TIER_HELP)}\n`);
      return 2;
    }
    throw err;
  }
  let clients: TieringClients | undefined;
  try {
    clients = open(cfg);
    const job = new TieringJob(clients.hot, clients.cold, cfg.tiering, clients.databases, createLogger(cfg.log.level));
    if (!args.once) return await runScheduled(job);
    const report = await job.runOnce({
      dry_run: args.dry_run,
      filter: args.filter,
      ...(args.tables === undefined ? {} : { tables: args.tables }),
      ...(now_ms === undefined ? {} : { now_ms }),
    });
    io.stdout(formatTierReport(report));
    const failed = report.tables.some((t) => t.error !== null || t.windows.some((w) => w.action === "failed"));
    return failed ? 1 : 0;
  } catch (err) {
    if (err instanceof TieringUsageError) {
      io.stderr(`tier: ${err.message}\n${usageLine(TIER_HELP)}\n`);
      return 2;
    }
    // Setup errors, an unreachable server, a data directory another process holds: say so, exit 1.
    io.stderr(`tier: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await clients?.close();
  }
}

/** Passes every `tiering.interval_s` until SIGINT/SIGTERM, then waits for the pass in hand. */
async function runScheduled(job: TieringJob): Promise<number> {
  const stopped = Promise.withResolvers<void>();
  process.once("SIGINT", () => stopped.resolve());
  process.once("SIGTERM", () => stopped.resolve());
  job.start();
  await stopped.promise;
  await job.stop();
  return 0;
}

if (import.meta.main) {
  process.exitCode = await runTier(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
