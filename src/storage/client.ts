import { join } from "node:path";
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from "@clickhouse/client";
import { createChdbConnection } from "chdb/connection";
import type { Config } from "../config/schema.ts";

type ClientConnection = NonNullable<ClickHouseClientConfigOptions["connection"]>;

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
export function createChdbClient(path: string): ClickHouseClient {
  const connection = createChdbConnection({ path }) as unknown as ClientConnection;
  return createClient({ connection });
}

/**
 * The engine's ClickHouse: embedded chDB under `data_dir/clickhouse` when `cfg.url` is empty,
 * otherwise a ClickHouse server over HTTP. Both speak through the same client API.
 */
export function createClickHouse(cfg: Config["clickhouse"], data_dir: string): ClickHouseClient {
  if (cfg.url === "") return createChdbClient(embeddedPath(data_dir));
  return createClient({
    url: cfg.url,
    username: cfg.user,
    password: cfg.password,
    request_timeout: cfg.request_timeout_ms,
  });
}

/** Where embedded chDB keeps its data inside the engine's data directory. */
export function embeddedPath(data_dir: string): string {
  return join(data_dir, "clickhouse");
}
