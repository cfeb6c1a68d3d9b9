import type { ClickHouseClient } from "@clickhouse/client";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Config } from "../config/schema.ts";
import { VENUE_KEYS } from "../config/venue-keys.ts";
import { decodeFrameForStorage, JSON_CONTENT_TYPE } from "../bus/frame-codec.ts";
import { isDataType, type DataType, type Exchange, type MarketType } from "../records/types.ts";
import { TABLES } from "../storage/types.ts";
import type { Logger } from "../log/logger.ts";
import type { RunInfo, RunMarker } from "./run-marker.ts";
import { getVenue } from "../venues/registry.ts";
import { laneCount } from "../config/batch-lanes.ts";
import type { EngineDownGap, EngineDownPlan } from "./messages.ts";

/**
 * Where `engine_down` gaps start: the newest record of each kind (data type, exchange, market
 * type, symbol) that survived the unclean stop, i.e. that JetStream or ClickHouse kept.
 *
 * JetStream first: it acknowledged every record that survived (rings and publish windows died
 * with the process), so the last message on a kind's subject holds the last record kept, also
 * in the `collect` role, which has no ClickHouse, and it is found by one request per subject
 * (`last_by_subj`). What JetStream no longer holds (older than `nats.stream.max_age_s`, or a
 * `workqueue` stream) ClickHouse may: the roles that store also ask it for max(timestamp) per
 * kind. Without NATS (`nats.enabled: false`) ClickHouse is the only source. The `store` role
 * collects nothing and writes no such gaps: what JetStream held is delivered again to its
 * durable consumers.
 *
 * Only kinds the crashed run collected count: their newest record was received (`recv_ts_ms`,
 * `received_at`) after that run started (`since_ms`), and this run collects their data type on
 * their exchange. A kind of which nothing survived has no start and gets no gap. A frame
 * retried after a timeout can land behind later ones (publisher.ts), so a subject's last
 * message may not hold its newest record: the gap then starts a little early, never late.
 */

/** How long after the start a kind's gap waits for its first record before it ends at the wall clock. */
export const ENGINE_DOWN_DEADLINE_MS = 10 * 60_000;

interface Kept {
  readonly ts_ms: number;
  readonly recv_ts_ms: number;
}

/** The data types this run collects, per exchange (venues enabled with workers, not in the `store` role). */
export function collectedTypes(config: Config): Map<Exchange, Set<DataType>> {
  const out = new Map<Exchange, Set<DataType>>();
  if (config.engine.role === "store") return out;
  for (const venue of VENUE_KEYS) {
    const cfg = config.venues[venue];
    if (!cfg.enabled || cfg.workers === 0 || cfg.symbols.length === 0) continue;
    const exchange = getVenue(venue).exchange;
    const types = out.get(exchange) ?? new Set<DataType>();
    for (const t of cfg.data_types) if (laneCount(config, t) > 0) types.add(t);
    out.set(exchange, types);
  }
  return out;
}

function keyOf(data_type: string, exchange: string, market_type: string, symbol: string): string {
  return `${data_type}.${exchange}.${market_type}.${symbol}`;
}

/** The newest `ts_ms` and `recv_ts_ms` among the records of one stored message. */
function keptIn(data: Uint8Array, content_type: string | undefined, type: DataType): Kept | null {
  let records: readonly unknown[];
  if (content_type === JSON_CONTENT_TYPE) {
    try {
      records = [JSON.parse(new TextDecoder().decode(data)) as unknown];
    } catch {
      return null;
    }
  } else {
    const frame = decodeFrameForStorage(data, type);
    if (!frame.ok) return null;
    records = frame.value;
  }
  let ts_ms = -1;
  let recv_ts_ms = -1;
  for (const r of records) {
    if (typeof r !== "object" || r === null) continue;
    const { ts_ms: ts, recv_ts_ms: recv } = r as { ts_ms?: unknown; recv_ts_ms?: unknown };
    if (typeof ts === "number" && ts > ts_ms) ts_ms = ts;
    if (typeof recv === "number" && recv > recv_ts_ms) recv_ts_ms = recv;
  }
  return ts_ms < 0 ? null : { ts_ms, recv_ts_ms };
}

/** The last record JetStream holds of each subject of a collected kind. */
export async function lastKeptInStream(jsm: JetStreamManager, stream: string, collected: Map<Exchange, Set<DataType>>): Promise<Map<string, Kept>> {
  const out = new Map<string, Kept>();
  const info = await jsm.streams.info(stream, { subjects_filter: ">" });
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const [type, exchange] = subject.split(".");
    if (!isDataType(type) || collected.get(exchange as Exchange)?.has(type) !== true) continue;
    const msg = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    if (msg === null) continue;
    const kept = keptIn(msg.data, msg.header?.get("Content-Type"), type);
    if (kept !== null) out.set(subject, kept);
  }
  return out;
}

/** max(timestamp) per kind in the hot tables, over rows received since `since_ms`. */
export async function lastKeptInClickHouse(
  client: ClickHouseClient,
  database: string,
  collected: Map<Exchange, Set<DataType>>,
  since_ms: number,
): Promise<Map<string, Kept>> {
  const out = new Map<string, Kept>();
  const types = new Set<DataType>();
  for (const set of collected.values()) for (const t of set) types.add(t);
  for (const type of types) {
    const rs = await client.query({
      query: `SELECT exchange, market_type, symbol, toString(toUnixTimestamp64Milli(max(timestamp))) AS ts, toString(toUnixTimestamp64Milli(max(received_at))) AS recv
              FROM \`${database}\`.\`${TABLES[type]}\`
              WHERE received_at >= fromUnixTimestamp64Milli(toInt64(${Math.trunc(since_ms)}), 'UTC')
              GROUP BY exchange, market_type, symbol`,
      format: "JSONEachRow",
    });
    for (const row of (await rs.json()) as { exchange: string; market_type: string; symbol: string; ts: string; recv: string }[]) {
      if (collected.get(row.exchange as Exchange)?.has(type) !== true) continue;
      out.set(keyOf(type, row.exchange, row.market_type, row.symbol), { ts_ms: Number(row.ts), recv_ts_ms: Number(row.recv) });
    }
  }
  return out;
}

/**
 * One gap per kind the crashed run collected, starting at its newest kept record (the later of
 * what the sources say), with a claim slot each and the deadline.
 */
export function planEngineDown(sources: readonly Map<string, Kept>[], since_ms: number, now_ms = Date.now()): EngineDownPlan {
  const newest = new Map<string, Kept>();
  for (const source of sources) {
    for (const [key, kept] of source) {
      const had = newest.get(key);
      if (had === undefined || kept.ts_ms > had.ts_ms) newest.set(key, { ts_ms: kept.ts_ms, recv_ts_ms: Math.max(kept.recv_ts_ms, had?.recv_ts_ms ?? -1) });
    }
  }
  const gaps: EngineDownGap[] = [];
  for (const [key, kept] of [...newest].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (kept.recv_ts_ms < since_ms) continue;
    const [data_type, exchange, market_type, ...symbol] = key.split(".");
    if (!isDataType(data_type)) continue;
    gaps.push({ data_type, exchange: exchange as Exchange, market_type: market_type as MarketType, symbol: symbol.join("."), start_ts_ms: kept.ts_ms });
  }
  return { gaps, claims: new SharedArrayBuffer(Math.max(1, gaps.length) * Int32Array.BYTES_PER_ELEMENT), deadline_at_ms: now_ms + ENGINE_DOWN_DEADLINE_MS };
}

/** Whether every gap of `plan` has been written by an ingest worker. */
export function allClaimed(plan: EngineDownPlan): boolean {
  const claims = new Int32Array(plan.claims);
  for (let i = 0; i < plan.gaps.length; i++) if (Atomics.load(claims, i) === 0) return false;
  return true;
}

export interface EngineDownInputs {
  readonly config: Config;
  /** The marker the unclean stop left. */
  readonly previous: RunInfo;
  /** Start of the earliest run whose end is not recorded (RunMarker.since_ms). */
  readonly since_ms: number;
  /** JetStream, when this role publishes to NATS. */
  readonly jsm: JetStreamManager | null;
  /** The hot database's client, when this role stores. */
  readonly clickhouse: ClickHouseClient | null;
  readonly log: Logger;
}

/** The gaps to write after an unclean stop; null when this role collects nothing. */
export async function engineDownPlan(i: EngineDownInputs): Promise<EngineDownPlan | null> {
  const collected = collectedTypes(i.config);
  const stopped = { previous_pid: i.previous.pid, previous_started: new Date(i.previous.started_ms).toISOString() };
  if (collected.size === 0) {
    i.log.warn(stopped, "the previous run on this data directory stopped uncleanly; this role collects nothing, so no engine_down gaps (JetStream delivers what it held again)");
    return null;
  }
  const sources: Map<string, Kept>[] = [];
  if (i.jsm !== null) sources.push(await lastKeptInStream(i.jsm, i.config.nats.stream.name, collected));
  if (i.clickhouse !== null) sources.push(await lastKeptInClickHouse(i.clickhouse, i.config.clickhouse.hot_database, collected, i.since_ms));
  const plan = planEngineDown(sources, i.since_ms);
  i.log.warn(
    { ...stopped, gaps: plan.gaps.length, deadline: new Date(plan.deadline_at_ms).toISOString() },
    "the previous run on this data directory stopped uncleanly; writing an engine_down gap per kind it collected, from the last record kept to the first after this start (or the deadline)",
  );
  return plan;
}

/**
 * The supervisor's part: works out the plan after an unclean stop (a failure is logged and the
 * engine runs on) and says whether the stop it records is fully written, i.e. whether the run
 * marker may go at a clean stop.
 */
export class EngineDownRecorder {
  plan: EngineDownPlan | null = null;
  private planned = false;

  constructor(private readonly marker: RunMarker) {}

  async prepare(i: Omit<EngineDownInputs, "previous" | "since_ms">): Promise<void> {
    const previous = this.marker.previous;
    if (previous === null) return;
    try {
      this.plan = await engineDownPlan({ ...i, previous, since_ms: this.marker.since_ms });
      this.planned = true;
    } catch (err) {
      i.log.error({ err }, "cannot work out the engine_down gaps of the unclean stop; the next start tries again");
    }
  }

  /** No unclean stop to record, or every gap of it written (ingest workers claim them). */
  get finished(): boolean {
    return this.marker.previous === null || (this.planned && (this.plan === null || allClaimed(this.plan)));
  }
}
