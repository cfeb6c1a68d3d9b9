import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startEmbeddedNats, type EmbeddedNats } from "../src/bus/embedded-nats.ts";
import { JetStreamPublisher } from "../src/bus/publisher.ts";
import { ensureStream } from "../src/bus/stream.ts";
import { configWith } from "../src/config/load.ts";
import type { RecordOf } from "../src/records/types.ts";

/**
 * One question: how many records per second reach JetStream as msgpack frames (many records per
 * message) versus one JSON record per message, through the same JetStreamPublisher with the
 * default in-flight window? Each run publishes to a fresh stream and checks the stream's stored
 * message count equals the messages the publisher sent before reporting a rate.
 */

export interface NatsBenchResult {
  frames_records_per_s: number;
  single_records_per_s: number;
  records: number;
  stream_count_checked: boolean;
}

/**
 * Its own stream name, so only the bench's stream is ever deleted. On an external server that
 * already holds MARKET_DATA the subjects overlap and ensureStream fails with that message.
 */
const BENCH_STREAM = "SPECTRA_BENCH";
const SYMBOLS = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"];

function trades(n: number): RecordOf<"trade">[] {
  const t0 = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    data_type: "trade" as const,
    exchange: "binance" as const,
    market_type: "spot" as const,
    symbol: SYMBOLS[i % SYMBOLS.length]!,
    ts_ms: t0 + i,
    recv_ts_ms: t0 + i + 2,
    trade_id: String(5_000_000 + i),
    price: "91234.56000000",
    quantity: "0.00120000",
    side: i % 2 === 0 ? ("buy" as const) : ("sell" as const),
    is_maker: i % 3 === 0,
    trade_time: t0 + i,
  }));
}

async function publishRate(url: string, mode: "frames" | "json", records: RecordOf<"trade">[], batch: number): Promise<{ rate: number; checked: boolean }> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const config = configWith({ nats: { publish: { mode }, stream: { name: BENCH_STREAM } } });
    const existing = await jsm.streams.names().next();
    if (existing.includes(BENCH_STREAM)) await jsm.streams.delete(BENCH_STREAM);
    await ensureStream(jsm, config.nats.stream);
    const publisher = new JetStreamPublisher({ js: jetstream(nc), type: "trade", settings: config.nats.publish });
    const started = performance.now();
    // The batch worker hands the publisher one ring drain at a time; `batch` records per call.
    for (let i = 0; i < records.length; i += batch) await publisher.publish(records.slice(i, i + batch));
    await publisher.flush();
    const seconds = (performance.now() - started) / 1000;
    const stats = publisher.stats();
    const stored = (await jsm.streams.info(config.nats.stream.name)).state.messages;
    const checked = stored === stats.published_frames && stats.published_records === records.length && stats.duplicate_frames === 0;
    if (!checked) {
      throw new Error(`${mode}: stream holds ${stored} messages, publisher acked ${stats.published_frames} frames / ${stats.published_records} of ${records.length} records`);
    }
    await jsm.streams.delete(BENCH_STREAM);
    return { rate: records.length / seconds, checked };
  } finally {
    await nc.close();
  }
}

export async function runNatsBench(opts: { quick: boolean; url?: string }): Promise<NatsBenchResult> {
  const count = opts.quick ? 20_000 : 200_000;
  const singleCount = opts.quick ? 5_000 : 50_000;
  let server: EmbeddedNats | null = null;
  let storeDir: string | null = null;
  let url = opts.url;
  if (url === undefined) {
    storeDir = mkdtempSync(join(tmpdir(), "spectra-nats-bench-"));
    const embedded = configWith().nats.embedded;
    server = await startEmbeddedNats({ binary: embedded.binary, host: "127.0.0.1", port: 0, store_dir: storeDir });
    url = server.url;
  }
  try {
    const frames = await publishRate(url, "frames", trades(count), 2000);
    const single = await publishRate(url, "json", trades(singleCount), 2000);
    return {
      frames_records_per_s: Math.round(frames.rate),
      single_records_per_s: Math.round(single.rate),
      records: count + singleCount,
      stream_count_checked: frames.checked && single.checked,
    };
  } finally {
    await server?.stop();
    if (storeDir !== null) rmSync(storeDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const quick = process.argv.includes("--quick");
  const result = await runNatsBench({ quick, url: process.env.NATS_URL });
  console.table([
    { path: "msgpack frames (≤500 records/msg)", records_per_s: result.frames_records_per_s },
    { path: "JSON, one record/msg", records_per_s: result.single_records_per_s },
  ]);
  console.log(JSON.stringify(result));
}
