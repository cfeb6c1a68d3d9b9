import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client";
import { createChdbClient } from "../../src/storage/client.ts";

/**
 * One embedded ClickHouse (chDB) for the whole test process.
 *
 * libchdb binds ONE data directory per process and `bun test` runs every test file in one
 * process, so every test that touches ClickHouse shares this path and isolates itself by
 * database name (`uniqueDatabase`). Worker threads of this process may open their own
 * connection on `testChdbPath()` (same path: allowed); never open a different path.
 */

let path: string | undefined;
let client: ClickHouseClient | undefined;
let sequence = 0;

/** The process-wide chDB data directory (a fresh temp dir, created on first use). */
export function testChdbPath(): string {
  path ??= mkdtempSync(join(tmpdir(), "spectra-chdb-test-"));
  return path;
}

/** The shared client on `testChdbPath()`. Do not close it; it lives as long as the process. */
export function testClickHouse(): ClickHouseClient {
  client ??= createChdbClient(testChdbPath());
  return client;
}

/** A database name no other test in this process uses, e.g. `tiering_3_k2j9`. */
export function uniqueDatabase(prefix: string): string {
  sequence += 1;
  const clean = prefix.replace(/[^A-Za-z0-9_]/g, "_");
  return `${clean}_${sequence}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
