import { afterAll, beforeAll, expect, test } from "bun:test";
import type { GapRecord, TradeRecord } from "../../src/records/types.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { runnerFor } from "./support.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The real IngestRunner against the simulator's generator at live rates: a backfill that passes
 * its page bound stops there, reports why and what it kept (counted and logged by the ingest
 * worker), and the gap row is written again with exactly what came back; nothing is emitted twice.
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ source: generatorSource(2), rate: "live" });
});
afterAll(() => sim.stop());

test("a backfill past its page bound keeps what it recovered, reports the failure, and the gap says what came back", async () => {
  const failures: { channel: string; detail: string }[] = [];
  const stats = { messagesIn() {}, reconnect() {}, error() {}, backfillFailed: (channel: string, detail: string) => void failures.push({ channel, detail }) };
  // One page of 100 trades cannot cover a hot OKX symbol's 5 s hole (about 30 trades a second).
  const tuning = { backoff: { initial_ms: 10, max_ms: 50 }, backfill_max_pages: 1 };
  const { runner, records } = runnerFor(sim, "okx_spot", { tuning, stats });
  await runner.start();
  try {
    const natives = sim.symbols.okx_spot;
    const trades = (): TradeRecord[] => records.filter((r): r is TradeRecord => r.data_type === "trade");
    await waitFor("trades of every symbol", () => new Set(trades().map((t) => t.symbol)).size === natives.length, 10_000);
    sim.fault({ venue: "okx_spot", kind: "disconnect", seconds: 5 });
    const recoveredGaps = (): GapRecord[] => records.filter((r): r is GapRecord => r.data_type === "gap" && r.data_type_affected === "trade" && r.recovered_at_ms > 0);
    await waitFor("every symbol's gap written again with its recovery", () => natives.every((n) => recoveredGaps().some((g) => g.symbol === n)), 30_000, 20);
    // Hot symbols trade about 30 times a second: at least one hole passes one page of 100.
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.map((f) => f.channel)).toEqual(failures.map(() => "history-trades"));
    for (const native of natives) {
      const gap = recoveredGaps().find((g) => g.symbol === native);
      expect(gap?.cause).toBe("reconnect");
      expect(gap?.recovered_records).toBeLessThanOrEqual(100);
      const failure = failures.find((f) => f.detail.startsWith(`${native}: `));
      if (failure !== undefined) {
        expect(failure.detail).toStartWith(`${native}: stopped after 1 pages; `);
        expect(gap?.recovered_records).toBe(Number(/; (\d+) trades recovered in 1 pages$/.exec(failure.detail)?.[1]));
        expect(gap?.recovered_records).toBeGreaterThan(0);
      }
      const ids = trades().filter((t) => t.symbol === native).map((t) => t.trade_id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  } finally {
    await runner.stop();
  }
}, 60_000);
