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
 * Issue 19 item 2: more than 2,000 symbols on one Binance venue (USDⓈ-M, then spot) against the
 * simulator at live rates. Every stream is subscribed, no connection carries more than the
 * venue's 1024 streams, SUBSCRIBE requests stay under the venue's incoming messages a second per
 * connection (spot 5, USDⓈ-M 10) and connection attempts under 300 per 5 minutes: the simulator
 * counts no violation, and every symbol's data arrives. Books are off (their snapshot storm is the
 * sync budget's matter): the connection and subscription layer is what is tested.
 */

const SYMBOLS = 2100;

/**
 * Per venue: the data types subscribed, the record type whose arrival for every symbol shows its
 * streams delivered, and how many of it each symbol needs. USDⓈ-M: `@markPrice@1s` pushes a mark
 * price a second while the premium-index poll gives one per period, so three per symbol come
 * from the stream. Spot: every symbol trades within seconds (1.5 trades/s plus bursts).
 */
const CASES = [
  { venue: "binance_derivatives", data_types: ["trade", "funding_rate", "liquidation"], evidence: "funding_rate", each: 3 },
  { venue: "binance_spot", data_types: ["trade"], evidence: "trade", each: 1 },
] as const;

interface SimStats {
  readonly violations: Record<string, number>;
  readonly connections: Record<string, number>;
  readonly subscriptions: Record<string, number[]>;
  readonly connects: Record<string, number>;
  readonly peak_incoming_per_s: Record<string, number>;
}

for (const { venue: VENUE, data_types, evidence, each: MARKS } of CASES) {
  test(`${VENUE} with ${SYMBOLS} symbols: every stream subscribed within the venue's stream, message and connection limits`, async () => {
    const sim = await startSimulator({ source: generatorSource(SYMBOLS), rate: "live", ping_interval_ms: 0 });
    const config = configWith(replayVenueOverrides(sim)).venues[VENUE];
    const { runner, records } = ingestRunner(VENUE, { ...config, data_types: [...data_types] });
    const expected = binanceStreams(VENUE, config.symbols, [...data_types]).map((s) => s.stream.toLowerCase());
    const limits = BINANCE_LIMITS[VENUE];
    try {
      expect(config.symbols.length).toBe(SYMBOLS);
      const started = performance.now();
      await runner.start();
      const marks = new Map<string, number>();
      let done = 0;
      const seen = (r: MarketRecord): void => {
        if (r.data_type !== evidence) return;
        const n = (marks.get(r.symbol) ?? 0) + 1;
        marks.set(r.symbol, n);
        if (n === MARKS) done++;
      };
      let read = 0;
      await waitFor(`${MARKS} ${evidence} records of every symbol`, () => {
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
      expect(stats.connects[VENUE]).toBe(layout.length);
      expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
      process.stderr.write(`${VENUE}: ${SYMBOLS} symbols, ${expected.length} streams on ${layout.length} connections, ${MARKS} ${evidence} of every symbol in ${elapsed_s.toFixed(1)} s\n`);
    } finally {
      await runner.stop();
      await sim.stop();
    }
  }, 60_000);
}
