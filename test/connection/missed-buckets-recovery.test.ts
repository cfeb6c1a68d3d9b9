import { afterAll, beforeAll, expect, test } from "bun:test";
import { jetstream } from "@nats-io/jetstream";
import { StoreConsumer } from "../../src/bus/consumer.ts";
import { JetStreamPublisher } from "../../src/bus/publisher.ts";
import { configWith } from "../../src/config/load.ts";
import type { VenueKey } from "../../src/config/schema.ts";
import type { DataType, GapRecord, MarketRecord, RecordType } from "../../src/records/types.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { ensureSchema } from "../../src/storage/schema.ts";
import { TABLES } from "../../src/storage/types.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { natsForTests } from "../support/nats.ts";
import { waitFor } from "../support/wait.ts";
import { ingestRunner } from "./support.ts";
import { EngineDownGaps } from "../../src/pipeline/engine-down-gaps.ts";
import { planEngineDown } from "../../src/supervisor/engine-down.ts";
import { RestClient } from "../../src/venues/connection/rest-client.ts";
import { fetchInstruments } from "../../src/venues/instruments.ts";
import { getVenue } from "../../src/venues/registry.ts";

/**
 * A poll bucket missed while the venue's REST fails (simulator `rest_error` fault) is filled
 * from the venue's history at the next poll: stored once per bucket under FINAL, next to the live
 * rows, with a `poll_failed` gap whose recovered_records counts what came back.
 *
 * The poller is driven by hand (`poll(now_ms)`) on the real clock's buckets: the simulator
 * answers from the real clock, so the bucket the test calls "missed" is one before the real
 * current one, and every value in it is what the simulator served or would have served then.
 */

const config = configWith();
const client = testClickHouse();
const bus = natsForTests(config.nats);
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50 });
});
afterAll(async () => {
  expect(sim.violations.rules()).toEqual({});
  await sim.stop();
});

const P = 300_000;
const DELAY = 5_000;

/**
 * Publishes `records` to JetStream and stores them in chDB through the real consumers, in `hot`
 * (a database per test: each test's stream starts at sequence 1 again, so its insert tokens
 * would repeat another test's).
 */
async function store(hot: string, records: readonly MarketRecord[]): Promise<void> {
  const js = jetstream(bus.nc);
  const types = [...new Set(records.map((r) => r.data_type))] as RecordType[];
  for (const type of types) {
    const publisher = new JetStreamPublisher({ js, type, settings: config.nats.publish });
    await publisher.publish(records.filter((r) => r.data_type === type));
    await publisher.flush();
  }
  const sink = new ClickHouseSink(client, { database: hot, close_client: false });
  let inserted = 0;
  const counting = {
    insert: async (type: RecordType, batch: readonly MarketRecord[], token: string) => {
      const result = await sink.insert(type, batch, token);
      inserted += batch.length;
      return result;
    },
    close: async () => {},
  };
  const settings = { ...config.nats.consumer, durable_prefix: `missed_${Date.now()}` };
  const consumers = types.map(
    (type) => new StoreConsumer({ nc: bus.nc, js, jsm: bus.jsm, stream: config.nats.stream.name, type, settings, batching: { max_rows: 1000, max_bytes: 1 << 20, linger_ms: 1 }, sink: counting }),
  );
  for (const c of consumers) await c.start();
  await waitFor("records stored", () => inserted >= records.length, 20_000);
  for (const c of consumers) await c.stop();
}

async function rows<T>(query: string): Promise<T[]> {
  return (await client.query({ query, format: "JSONEachRow" })).json<T>();
}

interface Case {
  readonly venue: VenueKey;
  /** The polled types. */
  readonly types: DataType[];
  /** A socket type to wait for before polling: Binance open interest is priced with the socket's mark price. */
  readonly socket?: DataType;
  symbol(symbols: readonly string[]): string;
}

const CASES: Case[] = [
  { venue: "binance_derivatives", types: ["open_interest", "lsr_top_position", "lsr_all_account"], socket: "funding_rate", symbol: (s) => s[0] as string },
  { venue: "okx_derivatives", types: ["lsr_top_position", "lsr_all_account"], symbol: (s) => s.find((n) => n.endsWith("-SWAP")) as string },
];

for (const c of CASES) {
  test(`${c.venue}: a bucket missed while REST fails comes back from the history once, and its gap counts it`, async () => {
    const base = configWith(replayVenueOverrides(sim)).venues[c.venue];
    const native = c.symbol(base.symbols);
    const hot = uniqueDatabase("missed_hot");
    await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("missed_cold") });
    const { runner, records } = ingestRunner(c.venue, { ...base, symbols: [native], data_types: c.socket === undefined ? c.types : [...c.types, c.socket], poll_period: "5m" }, {
      first_poll_delay_ms: 3_600_000,
      poll_delay_ms: DELAY,
      poll_retry_ms: 100,
    });
    await runner.start();
    try {
      const poller = runner.poller;
      if (poller === undefined) throw new Error("no poller");
      if (c.socket !== undefined) await waitFor(`${c.venue} ${c.socket}`, () => records.some((r) => r.data_type === c.socket), 10_000);
      const now = Date.now();
      const Bn = Math.floor((now - DELAY) / P) * P;
      // 100 + 200 + 400 + 800 ms of retries: all inside the 4 s fault.
      sim.fault({ venue: c.venue, kind: "rest_error", seconds: 4 });
      await poller.poll(Bn - P + DELAY + 1);
      const missedGaps = records.filter((r): r is GapRecord => r.data_type === "gap");
      expect(missedGaps.map((g) => [g.data_type_affected, g.cause, g.recovered_records]).sort()).toEqual([...c.types].sort().map((t) => [t, "poll_failed", 0]));
      expect(records.filter((r) => c.types.includes(r.data_type as DataType))).toEqual([]);
      await waitFor("fault over", () => sim.faults().length === 0, 10_000);

      await poller.poll(now);
      expect(poller.missed.size).toBe(0);
      expect(poller.history_filled).toBe(c.types.length);
    } finally {
      await runner.stop();
    }
    await store(hot, records.filter((r) => r.data_type === "gap" || c.types.includes(r.data_type as DataType)));

    const symbol = records.find((r) => r.data_type === c.types[0])?.symbol as string;
    for (const type of c.types) {
      const stamps = await rows<{ ts: string; n: string }>(
        `SELECT toString(toUnixTimestamp64Milli(timestamp)) AS ts, toString(count()) AS n FROM \`${hot}\`.\`${TABLES[type]}\` FINAL
         WHERE exchange = '${records[0]?.exchange}' AND symbol = '${symbol}' GROUP BY ts ORDER BY ts`,
      );
      const emitted = records.filter((r) => r.data_type === type).map((r) => String(r.ts_ms)).sort();
      // The missed bucket's row and the live one, each stored once.
      expect(stamps.map((s) => s.ts)).toEqual(emitted);
      expect(stamps.every((s) => s.n === "1")).toBe(true);
      expect(stamps.length).toBe(2);
    }
    const gaps = await rows<{ type: string; cause: string; start: string; end: string; recovered: string; at: string }>(
      `SELECT data_type_affected AS type, cause, toString(toUnixTimestamp64Milli(start_ts_ms)) AS start, toString(toUnixTimestamp64Milli(end_ts_ms)) AS end,
              toString(recovered_records) AS recovered, toString(toUnixTimestamp64Milli(recovered_at)) AS at
       FROM \`${hot}\`.gaps FINAL WHERE exchange = '${records[0]?.exchange}' AND symbol = '${symbol}' ORDER BY type`,
    );
    expect(gaps.map((g) => [g.type, g.cause, g.recovered])).toEqual([...c.types].sort().map((t) => [t, "poll_failed", "1"]));
    for (const g of gaps) {
      expect(Number(g.at)).toBeGreaterThan(0);
      // Each gap spans one bucket, and the row that came back lies inside it.
      expect(Number(g.end) - Number(g.start)).toBe(P);
      const inside = records.filter((r) => r.data_type === g.type && r.ts_ms >= Number(g.start) && r.ts_ms < Number(g.end));
      expect(inside.length).toBe(1);
    }
  }, 60_000);
}

test("after an unclean stop, the ratio buckets the engine missed come back from the history and its engine_down gap counts them", async () => {
  const venue = "binance_derivatives";
  const base = configWith(replayVenueOverrides(sim)).venues[venue];
  const native = base.symbols[0] as string;
  const rest = new RestClient({ base_url: base.rest_url, limits: getVenue(venue).rest_limits, timeout_ms: 5000 });
  const inst = (await fetchInstruments(venue, rest, base.rest_url)).get(native);
  rest.stop();
  if (inst === undefined) throw new Error(`no instrument ${native}`);
  const hot = uniqueDatabase("missed_down_hot");
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("missed_down_cold") });
  // The last record kept before the stop: four periods before the bucket boundary the first poll
  // sees (the clock less the poll delay), so at least two closed buckets lie between it and the
  // first poll's, wherever the clock stands inside a period.
  const kept_ms = (Math.floor((Date.now() - DELAY) / P) - 4) * P + 1000;
  const key = `lsr_top_position.binance.${inst.market_type}.${inst.symbol}`;
  const down = new EngineDownGaps(planEngineDown([new Map([[key, { ts_ms: kept_ms, recv_ts_ms: Date.now() }]])], 0), (gap) => records.push(gap));
  const records: MarketRecord[] = [];
  const { runner } = ingestRunner(venue, { ...base, symbols: [native], data_types: ["lsr_top_position"], poll_period: "5m" }, {
    first_poll_delay_ms: 100,
    poll_delay_ms: DELAY,
    engine_down: down,
    emit: (r) => {
      down.seen(r);
      records.push(r);
    },
  });
  await runner.start();
  try {
    await waitFor("engine_down gap recovered", () => records.some((r) => r.data_type === "gap" && r.recovered_records > 0), 15_000);
  } finally {
    await runner.stop();
    down.stop();
  }
  await store(hot, records);
  const stamps = (
    await rows<{ ts: string }>(`SELECT toString(toUnixTimestamp64Milli(timestamp)) AS ts FROM \`${hot}\`.${TABLES.lsr_top_position} FINAL WHERE symbol = '${inst.symbol}' ORDER BY ts`)
  ).map((r) => Number(r.ts));
  // Every bucket from the one after the last kept record to the live one, once each.
  const first = Math.floor(kept_ms / P) * P + P;
  const live = stamps[stamps.length - 1] as number;
  expect(stamps.length).toBeGreaterThanOrEqual(3);
  expect(stamps).toEqual(Array.from({ length: (live - first) / P + 1 }, (_, i) => first + i * P));
  const gaps = await rows<{ cause: string; start: string; end: string; recovered: string }>(
    `SELECT cause, toString(toUnixTimestamp64Milli(start_ts_ms)) AS start, toString(toUnixTimestamp64Milli(end_ts_ms)) AS end, toString(recovered_records) AS recovered
     FROM \`${hot}\`.gaps FINAL WHERE symbol = '${inst.symbol}'`,
  );
  expect(gaps).toEqual([{ cause: "engine_down", start: String(kept_ms), end: String(live), recovered: String(stamps.length - 1) }]);
}, 60_000);
