import { expect, test } from "bun:test";
import pino from "pino";
import { configWith } from "../../src/config/load.ts";
import { IngestObserver } from "../../src/pipeline/ingest-observer.ts";
import type { TradeRecord } from "../../src/records/types.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { ClockSkewWatch } from "../../src/supervisor/clock-skew.ts";

const RECV = 1_700_000_000_000;

function trade(ts_ms: number): TradeRecord {
  return {
    data_type: "trade",
    exchange: "binance",
    market_type: "perpetual",
    symbol: "BTC-USDT",
    ts_ms,
    recv_ts_ms: RECV,
    trade_id: String(ts_ms),
    price: "1",
    quantity: "1",
    side: "sell",
    is_maker: true,
    trade_time: ts_ms,
  };
}

test("a venue whose clock skew passes max_clock_skew_ms is warned about once per incident, counted, and the incident ends back under it", () => {
  const config = configWith({ venues: { binance_derivatives: { max_clock_skew_ms: 500 } } });
  const counters = new Counters(counterNames());
  const lines: { level: number; msg: string; venue?: string; skew_ms?: number; peak_skew_ms?: number }[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const watch = new ClockSkewWatch(config, counters, log);
  // Two ingest workers of the venue: the window holds the largest skew over both.
  const workers = [new IngestObserver(counters, "binance_derivatives"), new IngestObserver(counters, "binance_derivatives")];
  const second = (skews_ms: readonly number[]) => {
    skews_ms.forEach((skew, i) => workers[i % 2]?.observe(trade(RECV + skew)));
    for (const w of workers) w.flush();
    watch.check();
  };
  const warnings = () => lines.filter((l) => l.level === 40);
  const ends = () => lines.filter((l) => l.level === 30);

  second([-30, 200, 480]);
  expect(lines).toEqual([]);
  expect(watch.stats("binance_derivatives")).toEqual({ max_clock_skew_ms: 500, last_ms: 480, in_incident: false, incidents: 0 });
  // Past the limit on one worker: one warning.
  second([-30, 900]);
  expect(warnings()).toHaveLength(1);
  expect(warnings()[0]).toMatchObject({ venue: "binance_derivatives", skew_ms: 900 });
  // Still past it, higher, and a second without records: no new warning.
  second([1200, 40]);
  second([]);
  second([700]);
  expect(warnings()).toHaveLength(1);
  expect(watch.stats("binance_derivatives")).toEqual({ max_clock_skew_ms: 500, last_ms: 700, in_incident: true, incidents: 1 });
  // Back within the limit: the incident ends (one info line with its peak).
  second([100, -20]);
  expect(ends()).toHaveLength(1);
  expect(ends()[0]).toMatchObject({ venue: "binance_derivatives", skew_ms: 100, peak_skew_ms: 1200 });
  expect(watch.stats("binance_derivatives").in_incident).toBe(false);
  // A new incident warns again.
  second([600]);
  expect(warnings()).toHaveLength(2);
  expect(watch.stats("binance_derivatives").incidents).toBe(2);
  // Other venues saw nothing.
  expect(watch.stats("okx_spot")).toEqual({ max_clock_skew_ms: 1000, last_ms: null, in_incident: false, incidents: 0 });
});
