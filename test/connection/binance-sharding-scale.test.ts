import { expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import type { MarketRecord } from "../../src/records/types.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import type { BinanceConnection } from "../../src/venues/binance/connection.ts";
import { BINANCE_LIMITS, binanceStreams } from "../../src/venues/binance/routes.ts";
import { waitFor } from "../support/wait.ts";
import { ingestRunner } from "./support.ts";

/**
 * Issue 19 item 2: more than 2,000 symbols on one Binance venue against the simulator at live
 * rates. Every stream is subscribed, no connection carries more than the venue's 1024 streams,
 * SUBSCRIBE requests stay under USDⓈ-M's 10 incoming messages a second per connection and
 * connection attempts under 300 per 5 minutes: the simulator counts no violation, and every
 * symbol's mark price arrives. Books are off (their snapshot storm is the sync budget's matter):
 * the connection and subscription layer is what is tested.
 */

const SYMBOLS = 2100;
const VENUE = "binance_derivatives";
const MARKS = 3;

interface SimStats {
  readonly violations: Record<string, number>;
  readonly connections: Record<string, number>;
  readonly subscriptions: Record<string, number[]>;
  readonly binance_connects: Record<string, number>;
  readonly peak_incoming_per_s: Record<string, number>;
}

test(`${VENUE} with ${SYMBOLS} symbols: every stream subscribed within the venue's stream, message and connection limits`, async () => {
  const sim = await startSimulator({ source: generatorSource(SYMBOLS), rate: "live", binance_ping_interval_ms: 0 });
  const config = configWith(replayVenueOverrides(sim)).venues[VENUE];
  const data_types = ["trade", "funding_rate", "liquidation"] as const;
  const { runner, records } = ingestRunner(VENUE, { ...config, data_types: [...data_types] });
  const expected = binanceStreams(VENUE, config.symbols, [...data_types]).map((s) => s.stream.toLowerCase());
  const limits = BINANCE_LIMITS[VENUE];
  try {
    expect(config.symbols.length).toBe(SYMBOLS);
    const started = performance.now();
    await runner.start();
    // `@markPrice@1s` pushes a mark price a second (the premium-index poll gives one per period):
    // three of them per symbol show its stream subscribed and delivered.
    const marks = new Map<string, number>();
    let done = 0;
    const seen = (r: MarketRecord): void => {
      if (r.data_type !== "funding_rate") return;
      const n = (marks.get(r.symbol) ?? 0) + 1;
      marks.set(r.symbol, n);
      if (n === MARKS) done++;
    };
    let read = 0;
    await waitFor(`${MARKS} mark prices of every symbol`, () => {
      for (; read < records.length; read++) seen(records[read] as MarketRecord);
      return done === SYMBOLS;
    }, 40_000, 50);
    const elapsed_s = (performance.now() - started) / 1000;

    const stats = (await (await fetch(`${sim.url}/simulator/stats`)).json()) as SimStats;
    expect(stats.violations).toEqual({});
    // Each stream on exactly one connection, none over the cap, all of them delivered.
    const layout = (runner.connection as BinanceConnection).layout;
    const all = layout.flatMap((c) => c.streams.map((s) => s.toLowerCase()));
    expect(all.length).toBe(expected.length);
    expect(new Set(all)).toEqual(new Set(expected));
    for (const c of layout) expect(c.streams.length).toBeLessThanOrEqual(limits.max_streams);
    const served = stats.subscriptions[VENUE] ?? [];
    expect(served.length).toBe(layout.length);
    expect(served.reduce((n, s) => n + s, 0)).toBe(expected.length);
    for (const n of served) expect(n).toBeLessThanOrEqual(limits.max_streams);
    // Pacing as the simulator measured it: requests per second per connection and attempts.
    expect(stats.peak_incoming_per_s[VENUE] ?? 0).toBeLessThanOrEqual(limits.incoming_per_s);
    expect(stats.binance_connects[VENUE]).toBe(layout.length);
    expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
    process.stderr.write(`${SYMBOLS} symbols, ${expected.length} streams on ${layout.length} connections, three mark prices of every symbol in ${elapsed_s.toFixed(1)} s\n`);
  } finally {
    await runner.stop();
    await sim.stop();
  }
}, 60_000);
