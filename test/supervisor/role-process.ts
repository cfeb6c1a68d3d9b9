import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { waitFor } from "../support/wait.ts";

/**
 * The engine as the deployment runs it, one role per process: `bun src/cli/start.ts --role …`
 * with a config file, a data directory of its own (so each storer has its own embedded
 * ClickHouse) and JSON log lines on stdout, read as they come.
 */

const ROOT = join(import.meta.dir, "../..");

export type Role = "collect" | "store" | "all";

export interface RoleProcess {
  readonly role: Role;
  readonly dir: string;
  readonly proc: ReturnType<typeof Bun.spawn>;
  /** Every JSON log line so far. */
  lines(): Record<string, unknown>[];
  /** Waits for the first line with message `msg` and returns it. */
  line(msg: string, timeout_ms?: number): Promise<Record<string, unknown>>;
  /** The HTTP URL from the `engine started` line. */
  http(): Promise<string>;
  /** One read statement through the process's POST /query, rows as JSON objects. */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** SIGTERM and the `engine stopped` line (exit code 0 expected). */
  stop(): Promise<Record<string, unknown>>;
  stderr(): string;
}

export interface RoleConfig {
  readonly servers: readonly string[];
  readonly replicas?: number;
  readonly hot_database?: string;
  /** Batch workers of the trade type. */
  readonly trade_workers?: number;
  readonly nats?: Record<string, unknown>;
}

const OFF = { enabled: false };

/** A config file for one role process: trades only, from two ingest workers, on external NATS. */
export function roleConfigFile(cfg: RoleConfig): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "spectra-role-"));
  const file = join(dir, "config.yaml");
  const zero = { orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0 };
  const config = {
    log: { level: "info" },
    engine: { shutdown_deadline_ms: 20_000, restart_initial_ms: 50, restart_max_ms: 500 },
    http: { port: 0, clickhouse_port: 0 },
    tiering: { enabled: false },
    ring: { capacity_bytes: 1 << 20 },
    nats: {
      servers: [...cfg.servers],
      stream: { replicas: cfg.replicas ?? 1 },
      // Messages whose acks a killed node lost come back after ack_wait: 2 s keeps tests short.
      consumer: { ack_wait_ms: 2000 },
      ...cfg.nats,
    },
    clickhouse: { hot_database: cfg.hot_database ?? "marketprism_hot" },
    venues: {
      binance_spot: { enabled: true, symbols: ["A", "B"], workers: 2, data_types: ["trade"] },
      binance_derivatives: OFF,
      okx_spot: OFF,
      okx_derivatives: OFF,
      deribit_derivatives: OFF,
    },
    batch_workers: { trade: cfg.trade_workers ?? 2, ...zero },
    batching: { trade: { max_rows: 5000, linger_ms: 100 } },
  };
  writeFileSync(file, stringify(config));
  return { dir, file };
}

export function startRole(role: Role, file: string, dir: string, extra: readonly string[] = []): RoleProcess {
  const proc = Bun.spawn([process.execPath, join(ROOT, "src/cli/start.ts"), "--role", role, "--config", file, "--data-dir", join(dir, "data"), ...extra], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, SPECTRA_HTTP_PORT: undefined, NATS_URL: undefined, SPECTRA_LOG_LEVEL: undefined },
  });
  const parsed: Record<string, unknown>[] = [];
  let err = "";
  /** Every line of stdout read: the process has ended and no more lines come. */
  let outClosed = false;
  void (async () => {
    let pending = "";
    for await (const chunk of proc.stdout) {
      pending += new TextDecoder().decode(chunk);
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
        try {
          parsed.push(JSON.parse(text) as Record<string, unknown>);
        } catch {
          // Not a log line.
        }
      }
    }
    outClosed = true;
  })();
  void (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk);
  })();
  const line = async (msg: string, timeout_ms = 60_000): Promise<Record<string, unknown>> => {
    let found: Record<string, unknown> | undefined;
    await waitFor(`${role}: log line '${msg}'`, () => {
      found = parsed.find((l) => l.msg === msg);
      if (found === undefined && outClosed) throw new Error(`${role} exited with ${proc.exitCode} before '${msg}': ${err.slice(-2000)}`);
      return found !== undefined;
    }, timeout_ms, 20);
    return found as Record<string, unknown>;
  };
  const http = async (): Promise<string> => String((await line("engine started")).http);
  return {
    role,
    dir,
    proc,
    lines: () => parsed,
    line,
    http,
    async query<T>(sql: string): Promise<T[]> {
      const res = await fetch(`${await http()}/query`, { method: "POST", body: `${sql} FORMAT JSONEachRow` });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${role} /query ${res.status}: ${text}`);
      return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as T);
    },
    async stop() {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      if (code !== 0) throw new Error(`${role} exited with ${code}: ${err.slice(-2000)}`);
      return line("engine stopped", 5000);
    },
    stderr: () => err,
  };
}

/** Row count, distinct trade ids and their range in a storer's trades table. */
export async function storedTrades(storer: RoleProcess, db: string): Promise<{ rows: number; unique: number; min: number; max: number }> {
  const [row] = await storer.query<Record<string, string | number>>(
    `SELECT count() AS rows, uniqExact(trade_id) AS unique, min(toUInt64(trade_id)) AS min, max(toUInt64(trade_id)) AS max FROM ${db}.trades`,
  );
  return { rows: Number(row?.rows), unique: Number(row?.unique), min: Number(row?.min), max: Number(row?.max) };
}
