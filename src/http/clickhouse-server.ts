import { hostname } from "node:os";
import type { Server } from "bun";
import type { ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "../log/logger.ts";
import { createClickHouseHttpHandler } from "./clickhouse-http.ts";
import { isLoopbackHost } from "./security.ts";

/**
 * The second listener: ClickHouse's HTTP interface on `http.clickhouse_port`
 * (src/http/clickhouse-http.ts), beside the engine's own endpoints on `http.port`.
 */
export interface ClickHouseServerInput {
  readonly host: string;
  /** 0 disables it. */
  readonly port: number;
  readonly auth_token: string;
  /** Names besides localhost and loopback addresses it answers when bound to loopback (security.ts `systemLoopbackAliases`). */
  readonly loopback_aliases: ReadonlySet<string>;
  readonly max_body_bytes: number;
  readonly timeout_ms: number;
  /** Two clients of its own on the embedded store: readonly = 1 and readonly = 2 stay on them. */
  readonly guard_client: ClickHouseClient;
  readonly run_client: ClickHouseClient;
  readonly log: Logger;
}

/**
 * Reads the engine's version and time zone (sent in headers and error texts), then listens.
 * A port already taken (a ClickHouse server on 8123, a second engine) is logged as a warning
 * and the engine runs without this listener: nothing else depends on it. Null when disabled or
 * not bound.
 */
export async function startClickHouseServer(input: ClickHouseServerInput): Promise<Server<undefined> | null> {
  if (input.port === 0) return null;
  const rs = await input.guard_client.query({ query: "SELECT version() AS v, timezone() AS tz", format: "JSONEachRow", clickhouse_settings: { readonly: "1" } });
  const [row] = await rs.json<{ v: string; tz: string }>();
  const handler = createClickHouseHttpHandler({
    guard_client: input.guard_client,
    run_client: input.run_client,
    auth_token: input.auth_token,
    loopback_only: isLoopbackHost(input.host),
    loopback_aliases: input.loopback_aliases,
    max_body_bytes: input.max_body_bytes,
    timeout_ms: input.timeout_ms,
    version: row?.v ?? "unknown",
    timezone: row?.tz ?? "UTC",
    display_name: hostname(),
  });
  try {
    return Bun.serve({ hostname: input.host, port: input.port, fetch: handler });
  } catch (cause) {
    input.log.warn(
      { err: cause },
      `ClickHouse HTTP interface not started: cannot listen on http://${input.host}:${input.port} (set http.clickhouse_port, 0 disables it)`,
    );
    return null;
  }
}
