import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { RecordCodec } from "../../src/codec/record-codec.ts";
import { SyntheticSource } from "../../src/pipeline/synthetic-source.ts";
import { waitFor } from "../support/wait.ts";

const ROOT = join(import.meta.dir, "../..");
const ENTRY = join(import.meta.dir, "synthetic-engine.ts");
/** Sequence numbers of the run after the crash start here; the crashed run never reaches them. */
const SECOND_RUN = 10_000_000;
const SECOND_RECORDS = 3000;

const dir = mkdtempSync(join(tmpdir(), "spectra-crash-"));
const children: Bun.Subprocess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** One ingest worker on one venue: each symbol's trades reach JetStream in sequence order. */
function writeConfig(): string {
  const off = { enabled: false };
  const file = join(dir, "config.yaml");
  const config = {
    engine: { data_dir: join(dir, "data"), shutdown_deadline_ms: 20000, restart_initial_ms: 50, restart_max_ms: 200 },
    log: { level: "warn" },
    http: { port: 0, clickhouse_port: 0 },
    tiering: { enabled: false },
    ring: { capacity_bytes: 1 << 20 },
    nats: { embedded: { port: 0 }, consumer: { ack_wait_ms: 2000 } },
    venues: { binance_spot: { enabled: true, symbols: ["A"], workers: 1, data_types: ["trade"] }, binance_derivatives: off, okx_spot: off, okx_derivatives: off, deribit_derivatives: off },
    batch_workers: { trade: 1, orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0, gap: 1 },
    batching: { trade: { max_rows: 20000, linger_ms: 200 }, gap: { linger_ms: 200 } },
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

interface Started {
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  readonly http: string;
  readonly nats: string;
  readonly nats_pid: number;
}

function spawnEngine(config: string, records: number, rate: number, offset: number): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  const env: Record<string, string | undefined> = { ...process.env, SPECTRA_HTTP_PORT: undefined, SPECTRA_DATA_DIR: undefined, NATS_URL: undefined, CLICKHOUSE_URL: undefined };
  const proc = Bun.spawn([process.execPath, ENTRY, config, String(records), String(rate), String(offset)], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  children.push(proc);
  return proc;
}

async function started(proc: Bun.Subprocess<"ignore", "pipe", "pipe">): Promise<Started> {
  const reader = proc.stdout.getReader();
  let out = "";
  for (;;) {
    const line = out.split("\n").find((l) => l.startsWith('{"child":"started"'));
    if (line !== undefined) {
      reader.releaseLock();
      const info = JSON.parse(line) as { http: string; nats: string; nats_pid: number };
      return { proc, ...info };
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`engine exited before it started: ${out}${await new Response(proc.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
}

async function query<T>(http: string, sql: string): Promise<T[]> {
  const res = await fetch(`${http}/query`, { method: "POST", body: `${sql} FORMAT JSONEachRow` });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${res.status} ${text}`);
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as T);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Trade ids of every record the stream holds. */
async function idsInStream(url: string): Promise<Set<string>> {
  const nc = await connect({ servers: url });
  try {
    const consumer = await jetstream(nc).consumers.get("MARKET_DATA");
    const codec = new RecordCodec();
    const ids = new Set<string>();
    let pending = (await consumer.info()).num_pending;
    while (pending > 0) {
      for await (const m of await consumer.fetch({ max_messages: 1000, expires: 2000 })) {
        pending = m.info.pending;
        const frame = codec.tryDecodeFrame(m.data);
        if (!frame.ok) throw new Error(frame.error);
        for (const r of frame.value) if (r.data_type === "trade") ids.add(r.trade_id);
      }
    }
    return ids;
  } finally {
    await nc.close();
  }
}

describe("an engine killed with SIGKILL", () => {
  test("leaves a record: the restart writes an engine_down gap per kind from the last kept record to the first after it, and stores what JetStream held once", async () => {
    const config = writeConfig();
    const marker = join(dir, "data", "run.json");
    const first = await started(spawnEngine(config, 1_000_000, 5000, 0));
    await waitFor("some trades stored by the first run", async () => {
      const [row] = await query<{ n: string }>(first.http, "SELECT toString(count()) AS n FROM marketprism_hot.trades");
      return Number(row?.n) >= 4000;
    }, 60000, 200);
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    expect(JSON.parse(readFileSync(marker, "utf8"))).toMatchObject({ pid: first.proc.pid, role: "all", nats_pid: first.nats_pid });
    // Its nats-server runs in its own session and outlives it.
    expect(alive(first.nats_pid)).toBe(true);

    const second = await started(spawnEngine(config, SECOND_RECORDS, 3000, SECOND_RUN));
    expect(alive(first.nats_pid)).toBe(false);

    const h = second.http;
    await waitFor("the second run's trades and the 4 engine_down gaps stored", async () => {
      const [row] = await query<{ n: string; g: string }>(
        h,
        `SELECT toString(countIf(toUInt64(trade_id) >= ${SECOND_RUN})) AS n, toString((SELECT count() FROM marketprism_hot.gaps WHERE cause = 'engine_down')) AS g FROM marketprism_hot.trades`,
      );
      return Number(row?.n) === SECOND_RECORDS && Number(row?.g) === 4;
    }, 30000, 1000);
    const inStream = await idsInStream(second.nats);
    await waitFor("everything JetStream holds stored", async () => {
      const [row] = await query<{ n: string }>(h, "SELECT toString(uniqExact(trade_id)) AS n FROM marketprism_hot.trades");
      return Number(row?.n) === inStream.size;
    }, 60000, 200);
    const stored = await query<{ id: string }>(h, "SELECT trade_id AS id FROM marketprism_hot.trades FINAL");
    expect(stored.length).toBe(inStream.size);
    expect(new Set(stored.map((r) => r.id))).toEqual(inStream);

    // Each gap runs from the newest trade of its symbol kept before the kill to its first after the restart.
    const expected = await query<{ symbol: string; start: string; end: string }>(
      h,
      `SELECT symbol, toString(toUnixTimestamp64Milli(maxIf(timestamp, toUInt64(trade_id) < ${SECOND_RUN}))) AS start,
              toString(toUnixTimestamp64Milli(minIf(timestamp, toUInt64(trade_id) >= ${SECOND_RUN}))) AS end
       FROM marketprism_hot.trades FINAL GROUP BY symbol ORDER BY symbol`,
    );
    const gaps = await query<{ symbol: string; exchange: string; market_type: string; data_type_affected: string; start: string; end: string }>(
      h,
      `SELECT symbol, exchange, market_type, data_type_affected, toString(toUnixTimestamp64Milli(start_ts_ms)) AS start, toString(toUnixTimestamp64Milli(end_ts_ms)) AS end
       FROM marketprism_hot.gaps FINAL WHERE cause = 'engine_down' ORDER BY symbol`,
    );
    expect(gaps.map((g) => g.symbol)).toEqual([...SyntheticSource.SYMBOLS].sort());
    expect(gaps.every((g) => g.exchange === "binance" && g.market_type === "spot" && g.data_type_affected === "trade")).toBe(true);
    expect(gaps.map(({ symbol, start, end }) => ({ symbol, start, end }))).toEqual(expected);
    const base = SyntheticSource.baseMs();
    for (const g of gaps) expect(Number(g.start)).toBeGreaterThan(base + 4000);
    for (const g of gaps) expect(Number(g.end)).toBeGreaterThanOrEqual(base + SECOND_RUN);

    // A clean stop removes the marker: the next start records nothing.
    second.proc.kill("SIGTERM");
    expect(await second.proc.exited).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });
});
