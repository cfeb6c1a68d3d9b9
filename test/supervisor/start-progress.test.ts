import { expect, test } from "bun:test";
import type { StatsSnapshot } from "../../src/http/stats-types.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { buildStats } from "../../src/supervisor/stats.ts";
import { StartProgress, startProgress, type StartProgressLine } from "../../src/supervisor/start-progress.ts";
import { idleStatsInputs } from "../support/stats-inputs.ts";
import { waitFor } from "../support/wait.ts";

type VenuePart = { state: "connected" | "disconnected"; live: number; total: number; waiting?: number; eta_s?: number };

/** Real /stats of an idle engine, with the venues' connection and book figures set as given. */
function snapshot(venues: Record<string, VenuePart>): StatsSnapshot {
  const s = buildStats(idleStatsInputs(new Counters(counterNames())));
  const out: StatsSnapshot["venues"] = {};
  for (const [name, v] of Object.entries(s.venues)) {
    const part = venues[name];
    out[name] =
      part === undefined
        ? { ...v, enabled: false, state: "disabled" }
        : { ...v, enabled: true, state: part.state, book_sync: { total: part.total, live: part.live, syncing: part.total - part.live - (part.waiting ?? 0), waiting: part.waiting ?? 0, eta_s: part.eta_s ?? 0 } };
  }
  return { ...s, venues: out };
}

test("names each venue still connecting or syncing books, then says it is collecting", () => {
  const starting = startProgress(snapshot({ binance_spot: { state: "connected", live: 120, total: 500, waiting: 300, eta_s: 84 }, okx_spot: { state: "disconnected", live: 0, total: 4 }, deribit_derivatives: { state: "connected", live: 2, total: 2 } }));
  expect(starting.done).toBe(false);
  expect(starting.line?.message).toBe("starting: waiting for binance_spot (books 120/500 live, 300 waiting for REST weight, ETA 84 s), okx_spot (connecting)");
  expect(starting.line?.fields).toEqual({ venues_connected: 2, venues: 3, books_live: 122, books: 506 });
  const done = startProgress(snapshot({ binance_spot: { state: "connected", live: 500, total: 500 }, okx_spot: { state: "connected", live: 4, total: 4 } }));
  expect(done).toEqual({ done: true, line: { message: "collecting: 2 venues connected, 504 books live", fields: { venues_connected: 2, venues: 2, books_live: 504, books: 504 } } });
});

test("a storer, with no venues, has nothing to wait for", () => {
  expect(startProgress(snapshot({}))).toEqual({ line: null, done: true });
});

test("logs a line when it changes, not every tick, and stops after the collecting line", async () => {
  const states: Record<string, VenuePart>[] = [
    { binance_spot: { state: "disconnected", live: 0, total: 3 } },
    { binance_spot: { state: "disconnected", live: 0, total: 3 } },
    { binance_spot: { state: "connected", live: 1, total: 3 } },
    { binance_spot: { state: "connected", live: 3, total: 3 } },
  ];
  let reads = 0;
  const lines: StartProgressLine[] = [];
  // The start-up is over (done) once, when the collecting line is logged, and not before.
  const done: number[] = [];
  const progress = new StartProgress(
    () => snapshot(states[Math.min(reads++, states.length - 1)] as Record<string, VenuePart>),
    (l) => lines.push(l),
    () => done.push(lines.length),
    10,
  );
  progress.start();
  expect(done).toEqual([]);
  await waitFor("the collecting line", () => lines.length === 3, 2_000);
  await Bun.sleep(50);
  expect(reads).toBe(4);
  expect(done).toEqual([3]);
  expect(lines.map((l) => l.message)).toEqual([
    "starting: waiting for binance_spot (connecting)",
    "starting: waiting for binance_spot (books 1/3 live)",
    "collecting: 1 venue connected, 3 books live",
  ]);
});
