import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { drainPending } from "chdb";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { clientLog, createClickHouse } from "../storage/client.ts";
import { TieringUsageError } from "./errors.ts";
import type { TieringDatabases } from "./types.ts";

export interface TieringClients {
  readonly hot: ClickHouseClient;
  /** The hot client itself when cold lives on the same instance. */
  readonly cold: ClickHouseClient;
  readonly databases: TieringDatabases;
  close(): Promise<void>;
}

/**
 * The two clients a `TieringJob` needs, from config: hot is the engine's ClickHouse (embedded
 * chDB under `engine.data_dir/clickhouse` or `clickhouse.url`), cold is `tiering.cold_url` when
 * set, else the same instance. Refuses combinations the mode cannot work with. The clients log
 * through `log`.
 */
export function openTieringClients(cfg: Config, log: Logger): TieringClients {
  const t = cfg.tiering;
  if (t.mode === "same" && t.cold_url !== "") {
    throw new TieringUsageError(
      `tiering.mode 'same' copies inside one instance, but tiering.cold_url is '${t.cold_url}': use mode 'stream' or 'remote' for a separate cold server`,
    );
  }
  let hot_remote: TieringDatabases["hot_remote"];
  if (t.mode === "remote") {
    if (cfg.clickhouse.url === "" || t.cold_url === "") {
      throw new TieringUsageError(
        "tiering.mode 'remote' needs a hot server (clickhouse.url) and a cold server (tiering.cold_url); embedded ClickHouse cannot be reached by remote()",
      );
    }
    hot_remote = {
      // remote() speaks ClickHouse's native TCP protocol, not the HTTP of clickhouse.url.
      address: `${new URL(cfg.clickhouse.url).hostname}:${t.hot_native_port}`,
      user: cfg.clickhouse.user,
      password: cfg.clickhouse.password,
    };
  }
  const hot = createClickHouse(cfg.clickhouse, cfg.engine.data_dir, log);
  const cold =
    t.cold_url === ""
      ? hot
      : createClient({ url: t.cold_url, username: t.cold_user, password: t.cold_password, request_timeout: cfg.clickhouse.request_timeout_ms, log: clientLog(log) });
  const databases: TieringDatabases = {
    hot_database: cfg.clickhouse.hot_database,
    cold_database: cfg.clickhouse.cold_database,
    ...(hot_remote === undefined ? {} : { hot_remote }),
  };
  return {
    hot,
    cold,
    databases,
    async close() {
      if (cold !== hot) await cold.close();
      await hot.close();
      if (cfg.clickhouse.url === "") await drainPending();
    },
  };
}
