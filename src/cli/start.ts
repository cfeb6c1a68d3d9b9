import { parseArgs } from "node:util";
import { ConfigError, loadConfig, mergeConfig } from "../config/load.ts";
import { createLogger } from "../log/logger.ts";
import { redactSecrets } from "../log/redact.ts";
import { Engine } from "../supervisor/engine.ts";
import { startReplay, type Replay } from "../replay/replay-mode.ts";
import type { SyntheticSpec } from "../supervisor/messages.ts";
import { helpText, usageLine, wantsHelp, type CommandHelp } from "./help.ts";

/**
 * `bun run start [--config FILE] [--data-dir DIR] [--role all|collect|store] [--replay [DIR] [--generate]] [--record DIR] [--synthetic N[:RATE[:OFFSET]]]`
 *
 * `--replay` serves ../shared/fixtures/exchanges when it exists and the built-in generator
 * otherwise; `--replay DIR` serves DIR; `--replay --generate` the generator whatever exists.
 * `--role` overrides `engine.role`: `collect` (venues -> JetStream, no ClickHouse), `store`
 * (JetStream -> ClickHouse, no venues) or `all`. `--synthetic N[:RATE[:OFFSET]]` replaces the
 * venues with the sequenced trade source (src/pipeline/synthetic-source.ts): N trades per
 * ingest worker at RATE a second (0: as fast as the rings take them), trade ids from OFFSET,
 * for load runs and tests of a deployment without venues.
 *
 * Exit codes: 0 after a graceful stop, 2 for a configuration or start-up error (nothing is
 * left running), 1 when a second signal cut the shutdown short.
 */

export const START_HELP: CommandHelp = {
  usage: "bun run start [--config FILE] [--data-dir DIR] [--role all|collect|store] [--replay [DIR] [--generate]] [--record DIR] [--synthetic N[:RATE[:OFFSET]]]",
  about: "Runs the engine: venues -> rings -> NATS JetStream -> ClickHouse, with the HTTP endpoints (/, /health, /stats, /metrics, /query) on http.host:http.port. Without flags it runs on config/default.yaml: embedded nats-server and chDB, data under ./data. Stops gracefully on SIGINT/SIGTERM.",
  flags: [
    ["--config FILE", "YAML merged over config/default.yaml (objects key by key, lists replaced)"],
    ["--data-dir DIR", "engine.data_dir: the embedded NATS store, chDB data and the run marker"],
    ["--role all|collect|store", "engine.role: collect (venues -> JetStream), store (JetStream -> ClickHouse) or both"],
    ["--replay [DIR]", "start the venue simulator and collect from it: DIR, ../shared/fixtures/exchanges, or the generator"],
    ["--generate", "with --replay: the built-in generator whatever exists"],
    ["--record DIR", "write every frame and REST body received to DIR as a capture (--replay DIR reads it)"],
    ["--synthetic N[:RATE[:OFFSET]]", "sequenced trades instead of venues: N per ingest worker at RATE/s (0: unpaced), ids from OFFSET"],
    ["--help, -h", "this text"],
  ],
  env: [
    ["NATS_URL, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CREDS", "NATS servers (comma-separated) and credentials"],
    ["CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD", "a ClickHouse server instead of embedded chDB"],
    ["SPECTRA_HTTP_TOKEN, SPECTRA_HTTP_PORT, SPECTRA_LOG_LEVEL, SPECTRA_DATA_DIR", "http.auth_token, http.port, log.level, engine.data_dir"],
    ["SPECTRA__<SECTION>__<KEY>", "any config key path, e.g. SPECTRA__HTTP__HOST=0.0.0.0"],
  ],
  exits: [
    [0, "stopped gracefully"],
    [1, "a second signal cut the shutdown short"],
    [2, "bad arguments, configuration or start-up error (nothing left running)"],
  ],
};
const ROLES = ["all", "collect", "store"] as const;

/** `N[:RATE[:OFFSET]]` of --synthetic. */
function parseSynthetic(text: string): SyntheticSpec {
  const parts = text.split(":").map(Number);
  const [records, rate = 0, offset = 0] = parts;
  if (parts.length > 3 || records === undefined || !parts.every((n) => Number.isSafeInteger(n) && n >= 0) || records === 0) {
    return usageError(`--synthetic takes N[:RATE[:OFFSET]] (whole numbers, N > 0), not '${text}'`);
  }
  return { records, rate, offset };
}

function usageError(message: string): never {
  process.stderr.write(`spectra: ${message}\n${usageLine(START_HELP)}\n`);
  process.exit(2);
}

function parse(argv: string[]) {
  // `--replay` takes an optional directory: accept it bare or followed by a non-flag value.
  const args = [...argv];
  let replay: string | null = null;
  const at = args.indexOf("--replay");
  if (at >= 0) {
    const next = args[at + 1];
    replay = next !== undefined && !next.startsWith("--") ? next : "";
    args.splice(at, next !== undefined && !next.startsWith("--") ? 2 : 1);
  }
  try {
    const { values } = parseArgs({
      args,
      options: {
        config: { type: "string" },
        "data-dir": { type: "string" },
        record: { type: "string" },
        role: { type: "string" },
        synthetic: { type: "string" },
        generate: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.generate === true && replay === null) return usageError("--generate needs --replay");
    if (values.generate === true && replay !== "") return usageError("--replay DIR and --generate exclude each other");
    if (values.role !== undefined && !(ROLES as readonly string[]).includes(values.role)) return usageError(`--role takes ${ROLES.join(", ")}, not '${values.role}'`);
    if (values.synthetic !== undefined && replay !== null) return usageError("--synthetic and --replay exclude each other");
    return { ...values, replay, synthetic: values.synthetic === undefined ? null : parseSynthetic(values.synthetic) };
  } catch (error) {
    return usageError((error as Error).message);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(helpText(START_HELP));
    return;
  }
  const args = parse(argv);
  const cliOverrides = {
    engine: { ...(args["data-dir"] === undefined ? {} : { data_dir: args["data-dir"] }), ...(args.role === undefined ? {} : { role: args.role }) },
  };
  let config;
  try {
    config = loadConfig({ ...(args.config === undefined ? {} : { file: args.config }), overrides: cliOverrides });
  } catch (error) {
    if (error instanceof ConfigError) usageError(error.message);
    throw error;
  }
  const log = createLogger(config.log.level, { component: "supervisor" });

  let replay: Replay | null = null;
  if (args.replay !== null) {
    try {
      replay = await startReplay(config, args.replay === "" ? null : args.replay, log, args.generate === true);
    } catch (error) {
      usageError((error as Error).message);
    }
    config = loadConfig({
      ...(args.config === undefined ? {} : { file: args.config }),
      overrides: mergeConfig(cliOverrides, replay.overrides),
    });
  }

  const engine = new Engine(config, { log, record_dir: args.record ?? null, synthetic: args.synthetic });
  // Signal handlers go in before start: a signal during start-up stops the engine once it is up.
  const started = engine.start();
  let signals = 0;
  const onSignal = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    log.info({ signal }, "stopping: intake first, then drain rings, flush publishes and storage");
    const deadline = setTimeout(() => {
      log.error({ deadline_ms: config.engine.shutdown_deadline_ms }, "shutdown deadline passed; exiting");
      process.exit(1);
    }, config.engine.shutdown_deadline_ms + 5000);
    started
      .then(() => engine.stop())
      .then(() => replay?.stop())
      .then(() => {
        clearTimeout(deadline);
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  try {
    await started;
  } catch (error) {
    await replay?.stop();
    log.fatal({ err: error }, (error as Error).message);
    process.stderr.write(`spectra: ${redactSecrets((error as Error).message)}\n`);
    process.exit(2);
  }
}

await main();
