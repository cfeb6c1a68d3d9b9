import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { DATA_TYPES } from "../../src/records/types.ts";
import { startReplay, type Replay } from "../../src/replay/replay-mode.ts";
import { recordingsSource } from "../../src/replay/source.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { VENUES } from "../../src/venues/registry.ts";
import { freshNatsStore, testClickHouse, testDataDir, uniqueDatabase } from "../support/chdb.ts";

const log = createLogger("silent");
let engine: Engine | null = null;
let replay: Replay | null = null;
const capture = mkdtempSync(join(tmpdir(), "spectra-capture-"));
afterEach(async () => {
  await engine?.stop();
  await replay?.stop();
  engine = null;
  replay = null;
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const rs = await testClickHouse().query({ query: sql, format: "JSONEachRow" });
  return (await rs.json()) as Record<string, unknown>[];
}

/** One engine run against the generator for `ms`, recording to `record`; returns its hot database. */
async function run(ms: number, record: string): Promise<string> {
  const base = {
    engine: { data_dir: testDataDir() },
    http: { enabled: false },
    tiering: { enabled: false },
    nats: { embedded: { port: 0 } },
    replay: { rate: 400 },
    clickhouse: { hot_database: uniqueDatabase("capture_hot"), cold_database: uniqueDatabase("capture_cold") },
    batching: Object.fromEntries(DATA_TYPES.map((t) => [t, { linger_ms: 200 }])),
  };
  freshNatsStore();
  replay = await startReplay(configWith(base), null, log, true);
  const config = configWith(mergeConfig(base, replay.overrides));
  engine = new Engine(config, { log, record_dir: record });
  await engine.start();
  await Bun.sleep(ms);
  await engine.stop();
  engine = null;
  await replay.stop();
  replay = null;
  return config.clickhouse.hot_database;
}

test("a 30 s --record capture of the generator reads back as a capture: every line claimed, every venue's recording and metadata present", async () => {
  try {
    const db = await run(30_000, capture);
    const [stored] = await rows(`SELECT count() AS n FROM ${db}.trades`);
    expect(Number(stored?.n)).toBeGreaterThan(0);
    const source = recordingsSource(capture);
    expect(source.unclaimed).toEqual([]);
    for (const venue of Object.values(VENUES)) {
      expect({ file: venue.recording_file, ws: source.read(venue.recording_file).some((l) => l.source === "ws") }).toEqual({ file: venue.recording_file, ws: true });
      const reference = `reference/${venue.instruments.reference_file}`;
      expect({ reference, lines: source.read(reference).length > 0 }).toEqual({ reference, lines: true });
    }
    // Binance books sync from REST depth snapshots, which the capture holds beside the frames.
    expect(source.read("binance_spot.jsonl").some((l) => l.source === "http" && new URL(l.url).pathname.endsWith("/api/v3/depth"))).toBe(true);
  } finally {
    rmSync(capture, { recursive: true, force: true });
  }
}, 150_000);
