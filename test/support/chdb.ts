import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client";
import { createChdbClient, embeddedPath } from "../../src/storage/client.ts";

/**
 * One embedded ClickHouse (chDB) for the whole test process.
 *
 * libchdb binds ONE data directory per process and `bun test` runs every test file in one
 * process, so every test that touches ClickHouse shares this path and isolates itself by
 * database name (`uniqueDatabase`). Never open a different path.
 *
 * Two chDB traps (chdb 3.4.0, measured):
 * - a Worker thread may open a client on `testChdbPath()`, but if it is terminated or crashes
 *   before `close()` has finished, every later query of the process hangs; workers should
 *   insert through `PortSink` + `serveInserts` (src/storage) instead;
 * - `clickhouse_settings` become `SET`s that stay on the client's connection: never pass them
 *   on the shared client (put `SETTINGS …` in the SQL instead).
 */

let path: string | undefined;
let client: ClickHouseClient | undefined;
let sequence = 0;

let dataDir: string | undefined;

/**
 * An engine data directory whose embedded ClickHouse is the process-wide chDB path, so an
 * `Engine` started in a test (`engine.data_dir` = this) shares the one allowed chDB path.
 */
export function testDataDir(): string {
  dataDir ??= mkdtempSync(join(tmpdir(), "spectra-test-"));
  return dataDir;
}

/**
 * Empties the embedded NATS store of `testDataDir()`, so an engine test starts with no stream
 * and no durable consumers left by an earlier test in this process. Call it while no engine runs.
 */
export function freshNatsStore(): void {
  rmSync(join(testDataDir(), "nats"), { recursive: true, force: true });
}

/** The process-wide chDB data directory (`<testDataDir()>/clickhouse`, as the engine lays it out). */
export function testChdbPath(): string {
  path ??= embeddedPath(testDataDir());
  return path;
}

/** The shared client on `testChdbPath()`. Do not close it; it lives as long as the process. */
export function testClickHouse(): ClickHouseClient {
  client ??= createChdbClient(testChdbPath());
  return client;
}

/** Rows of a read on the shared client, as JSON objects. */
export async function testRows<T>(sql: string): Promise<T[]> {
  return (await testClickHouse().query({ query: sql, format: "JSONEachRow" })).json<T>();
}

/** A database name no other test in this process uses, e.g. `tiering_3_k2j9`. */
export function uniqueDatabase(prefix: string): string {
  sequence += 1;
  const clean = prefix.replace(/[^A-Za-z0-9_]/g, "_");
  return `${clean}_${sequence}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
