import { afterEach, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import type { VenueKey } from "../../src/config/schema.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import type { IngestRunner, IngestStats } from "../../src/venues/ingest.ts";
import type { BookHealth, RawFrame } from "../../src/venues/types.ts";
import { waitFor } from "../support/wait.ts";
import { ingestRunner } from "./support.ts";

/**
 * A normalizer that throws (a bug in a venue's code: on bad input it only counts) costs the
 * frame, not the shard: the runner reports it, resyncs the shard's books at most once per
 * THROW_RESYNC_MS (Binance from REST snapshots, OKX by resubscribing), and its connections and
 * records carry on. Without the catch the throw reaches the thread and restarts it, with every
 * venue it runs.
 */

const sims: Simulator[] = [];
const runners: IngestRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

interface Threw {
  readonly message: string;
  readonly url: string;
  readonly resynced: boolean;
}

async function booksAndTrades(venue: VenueKey): Promise<{ runner: IngestRunner; trades: () => number; threw: Threw[] }> {
  const sim = await startSimulator({ source: generatorSource(3), rate: 200 });
  sims.push(sim);
  const config = { ...configWith(replayVenueOverrides(sim)).venues[venue], data_types: ["trade" as const, "orderbook" as const] };
  const threw: Threw[] = [];
  const stats: IngestStats = {
    messagesIn: () => {},
    reconnect: () => {},
    error: () => {},
    normalizerThrew: (error, url, resynced) => threw.push({ message: error.message, url, resynced }),
  };
  const { runner, records } = ingestRunner(venue, config, { stats });
  runners.push(runner);
  await runner.start();
  await waitFor(`${venue}: 3 books live`, () => books(runner).filter((b) => b.state === "live").length === 3, 30_000);
  return { runner, trades: () => records.filter((r) => r.data_type === "trade").length, threw };
}

function books(runner: IngestRunner): BookHealth[] {
  return runner.normalizer?.bookHealth() ?? [];
}

/** Makes the runner's normalizer throw on the next `n` book frames of the socket. */
function throwOnBookFrames(runner: IngestRunner, n: number, marker: string): void {
  const normalizer = runner.normalizer;
  if (normalizer === undefined) throw new Error("not started");
  const push = normalizer.push.bind(normalizer);
  let left = n;
  normalizer.push = (frame: RawFrame) => {
    if (left > 0 && frame.source === "ws" && frame.raw.includes(marker)) {
      left--;
      throw new TypeError("Cannot read properties of undefined (reading '0')");
    }
    push(frame);
  };
}

for (const [venue, marker] of [
  ["binance_spot", "depthUpdate"],
  ["okx_spot", '"books'],
] as const) {
  test(`${venue}: a throw drops one frame, resyncs every book once, and the connection and the records carry on`, async () => {
    const { runner, trades, threw } = await booksAndTrades(venue);
    const resyncs = () => books(runner).map((b) => b.resyncs);
    const before = resyncs();
    const reconnects = runner.connection?.reconnects;
    throwOnBookFrames(runner, 1, marker);
    await waitFor("the throw reported", () => threw.length === 1);
    expect(threw[0]).toMatchObject({ message: "Cannot read properties of undefined (reading '0')", resynced: true });
    expect(threw[0]?.url).toStartWith("ws://127.0.0.1:");
    // Every book restarted once, and syncs again on the open connection.
    expect(resyncs()).toEqual(before.map((n) => n + 1));
    await waitFor(`${venue}: 3 books live again`, () => books(runner).filter((b) => b.state === "live").length === 3, 30_000);
    const tradesAfter = trades();
    await waitFor("trades still arriving", () => trades() > tradesAfter + 10, 30_000);
    // A second throw within THROW_RESYNC_MS is reported but resyncs nothing.
    throwOnBookFrames(runner, 1, marker);
    await waitFor("the second throw reported", () => threw.length === 2);
    expect(threw[1]?.resynced).toBe(false);
    expect(resyncs()).toEqual(before.map((n) => n + 1));
    expect(books(runner).every((b) => b.state === "live")).toBe(true);
    expect(runner.connection?.reconnects).toBe(reconnects);
  }, 90_000);
}
