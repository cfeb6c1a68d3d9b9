import { RecordCodec } from "../src/codec/record-codec.ts";
import { IngestObserver } from "../src/pipeline/ingest-observer.ts";
import type { TradeRecord } from "../src/records/types.ts";
import { Counters } from "../src/stats/counters.ts";
import { counterNames } from "../src/stats/layout.ts";
import { readHistogram } from "../src/stats/latency.ts";
import { rate } from "./rate.ts";

/**
 * Question: what does observing exchange -> receipt latency (IngestObserver.observe, on every
 * record an ingest worker emits) cost beside the work the emit path already does per record
 * (its ring encoding)? Both run over the same 100,000 trades with spread latencies, negatives
 * included; the observer is flushed every 25,000 records (about its 250 ms timer at 100k
 * records/s), and its shared histogram must hold every record before a rate is reported.
 */

const RECORDS = 100_000;
const FLUSH_EVERY = 25_000;
const ROUNDS = 3;

function trades(): TradeRecord[] {
  const out: TradeRecord[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const recv = 1_700_000_000_000 + i;
    out.push({
      data_type: "trade",
      exchange: "binance",
      market_type: "spot",
      symbol: "BTC-USDT",
      ts_ms: recv - ((i * 7919) % 3000) + 50,
      recv_ts_ms: recv,
      trade_id: String(i),
      price: "43250.12",
      quantity: "0.015",
      side: i % 2 === 0 ? "buy" : "sell",
      is_maker: i % 2 === 1,
      trade_time: recv,
    });
  }
  return out;
}

export function runLatencyObserveBench(min_ms = 1000): { encode_per_s: number; encode_observe_per_s: number; observe_ns: number } {
  const records = trades();
  const codec = new RecordCodec();
  const counters = new Counters(counterNames());
  const observer = new IngestObserver(counters, "binance_spot");
  let bytes = 0;
  const encodeOnly = () => {
    for (let i = 0; i < records.length; i++) bytes += codec.encodeRecord(records[i] as TradeRecord).length;
  };
  const encodeObserve = () => {
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as TradeRecord;
      observer.observe(r);
      bytes += codec.encodeRecord(r).length;
      if (i % FLUSH_EVERY === 0) observer.flush();
    }
    observer.flush();
  };
  encodeObserve();
  const seen = readHistogram(counters, "exchange_to_receive", "binance_spot", "trade").count;
  if (seen !== RECORDS) throw new Error(`histogram holds ${seen} of ${RECORDS} records`);
  if (bytes === 0) throw new Error("nothing encoded");
  let encode = 0;
  let both = 0;
  for (let round = 0; round < ROUNDS; round++) {
    encode = Math.max(encode, rate(RECORDS, min_ms, encodeOnly));
    both = Math.max(both, rate(RECORDS, min_ms, encodeObserve));
  }
  return { encode_per_s: encode, encode_observe_per_s: both, observe_ns: Math.round((1e9 / both - 1e9 / encode) * 10) / 10 };
}

if (import.meta.main) console.table(runLatencyObserveBench());
