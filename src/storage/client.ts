import { dlopen, FFIType } from "bun:ffi";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from "@clickhouse/client";
import { createChdbConnection } from "chdb/connection";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";

type ClientConnection = NonNullable<ClickHouseClientConfigOptions["connection"]>;
type ClientLog = NonNullable<ClickHouseClientConfigOptions["log"]>;
type ClientLogger = InstanceType<NonNullable<ClientLog["LoggerClass"]>>;
type LogParams = Parameters<ClientLogger["warn"]>[0];

/**
 * The client's own log lines (connection errors, retries, warnings) into `log` as pino lines
 * with `module` and the client's arguments, instead of the client's default writer on stderr.
 */
export function clientLog(log: Logger): ClientLog {
  const fields = (p: LogParams) => ({ module: p.module, ...p.args, ...(p.err === undefined ? {} : { err: p.err }) });
  class PinoClientLogger implements ClientLogger {
    trace(p: LogParams) {
      log.trace(fields(p), p.message);
    }
    debug(p: LogParams) {
      log.debug(fields(p), p.message);
    }
    info(p: LogParams) {
      log.info(fields(p), p.message);
    }
    warn(p: LogParams) {
      log.warn(fields(p), p.message);
    }
    error(p: LogParams & { err: Error }) {
      log.error(fields(p), p.message);
    }
  }
  return { LoggerClass: PinoClientLogger, level: ClickHouseLogLevel.WARN };
}

/**
 * A `@clickhouse/client` over embedded chDB at `path`.
 *
 * chdb 3.4.0 declares its connection against `@clickhouse/client-common` 1.23.0 while
 * `@clickhouse/client` 1.23.1 bundles its own copy of the same contract; the shapes match at
 * runtime but TypeScript sees two nominally distinct `ClickHouseSettings` types, hence the
 * one narrowing cast here (and nowhere else).
 *
 * libchdb binds one data directory per process: a second client on the same path shares it,
 * a different path while one is open is rejected.
 */
export function createChdbClient(path: string, log?: Logger): ClickHouseClient {
  keepRuntimeSignalHandlers();
  const chdb = createChdbConnection({ path });
  const client = createClient({ connection: chdb as unknown as ClientConnection, ...(log === undefined ? {} : { log: clientLog(log) }) });
  rawInserts.set(client, (p) => chdb.chdb.rawInsert({ ...p, columns: [...p.columns] }));
  return client;
}

/**
 * An INSERT of a document in a text format handed to embedded chDB as bytes (chdb's raw
 * insert: the bytes go to the engine as they are, never a JS string). Its failures carry the
 * ClickHouse code in `clickhouseCode` (insert-errors.ts reads it).
 */
export type RawInsert = (params: {
  /** `database.table`. */
  readonly table: string;
  readonly columns: readonly string[];
  readonly values: Uint8Array;
  readonly format: "JSONCompactEachRow";
  /** Go into the statement's own SETTINGS clause (never a session SET). */
  readonly settings: Readonly<Record<string, string>>;
}) => Promise<unknown>;

const rawInserts = new WeakMap<ClickHouseClient, RawInsert>();

/** The raw insert of a client `createChdbClient` made; undefined for a ClickHouse server's client. */
export function rawInsertOf(client: ClickHouseClient): RawInsert | undefined {
  return rawInserts.get(client);
}

let runtimeHandlersKept = false;

/**
 * Stops libchdb from installing ClickHouse's handlers for SIGSEGV, SIGBUS, SIGILL and the other
 * fault signals over Bun's; runs once, before the process's first chDB connection (chDB installs
 * them then). Bun (JavaScriptCore) stops a worker thread that is running JavaScript, as
 * `Worker.terminate()` does, by trapping it with one of those signals and handling that itself.
 * With chDB's handlers in place chDB took the trap for a crash of its own and failed every later
 * query of the process with "Code: 236 ... The server is shutting down due to a fatal error": a
 * supervisor terminating a busy worker (a stop past its deadline, the engine tests' killed
 * workers) left the engine without ClickHouse. libchdb exports the switch; chdb's Node binding
 * does not, hence the FFI call. Bun's own crash handler still reports real faults.
 */
function keepRuntimeSignalHandlers(): void {
  if (runtimeHandlersKept) return;
  const pkg = `@chdb/lib-${process.platform}-${process.arch}${process.platform === "linux" ? "-gnu" : ""}`;
  const dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  const file = ["libchdb.so", "libchdb.dylib"].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (file === undefined) throw new Error(`libchdb not found in ${dir}: cannot keep chDB from taking over the runtime's signal handlers`);
  const lib = dlopen(file, { chdb_set_signal_handlers_enabled: { args: [FFIType.i32], returns: FFIType.void } });
  lib.symbols.chdb_set_signal_handlers_enabled(0);
  runtimeHandlersKept = true;
}

/**
 * The engine's ClickHouse: embedded chDB under `data_dir/clickhouse` when `cfg.url` is empty,
 * otherwise a ClickHouse server over HTTP. Both speak through the same client API.
 */
export function createClickHouse(cfg: Config["clickhouse"], data_dir: string, log: Logger): ClickHouseClient {
  if (cfg.url === "") return createChdbClient(embeddedPath(data_dir), log);
  return createClient({
    url: cfg.url,
    username: cfg.user,
    password: cfg.password,
    request_timeout: cfg.request_timeout_ms,
    log: clientLog(log),
  });
}

/** Where embedded chDB keeps its data inside the engine's data directory. */
export function embeddedPath(data_dir: string): string {
  return join(data_dir, "clickhouse");
}
