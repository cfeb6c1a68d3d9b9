import { afterAll, beforeAll, expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import type { VenueConfig } from "../../src/config/schema.ts";
import type { MarketRecord } from "../../src/records/types.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import type { VenueErrorEvent } from "../../src/venues/connection/venue-connection.ts";
import { OKX_SUBSCRIBE_REFUSED_NEXT } from "../../src/venues/okx/error-events.ts";
import type { IngestRunner } from "../../src/venues/ingest.ts";
import type { Instrument } from "../../src/venues/types.ts";
import { ingestRunner, runnerFor } from "./support.ts";
import { waitFor } from "../support/wait.ts";

/**
 * One symbol failing on its own on OKX and Deribit, against the real IngestRunner: a
 * subscription the venue refuses (the simulator's `subscribe_refused` fault) and an OKX book
 * that breaks after every resubscription are listed per symbol in the runner's report (what
 * `/stats` `failing_symbols` shows), cost no reconnect, and leave the other symbols' data alone.
 */

let sim: Simulator;
const runners: IngestRunner[] = [];
beforeAll(async () => {
  sim = await startSimulator({ source: generatorSource(3), rate: 300, synthetic_interval_ms: 50 });
});
afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  expect(sim.violations.rules()).toEqual({});
  await sim.stop();
});

const TUNING = { backoff: { initial_ms: 10, max_ms: 50 } };

const report = (runner: IngestRunner) => runner.syncReport(runner.normalizer?.bookHealth() ?? []);
const liveBooks = (runner: IngestRunner): string[] => (runner.normalizer?.bookHealth() ?? []).filter((b) => b.state === "live").map((b) => b.native).sort();
const symbolsOf = (records: readonly MarketRecord[], type: MarketRecord["data_type"]): Set<string> => new Set(records.filter((r) => r.data_type === type).map((r) => r.symbol));

test("OKX refuses one instrument's subscribe (60018): it alone is listed as subscribe_refused, asked for again 1 s then 2 s later without a reconnect, and syncs once the venue serves it", async () => {
  sim.fault({ venue: "okx_spot", kind: "subscribe_refused", symbol: "ETH-USDT", seconds: 2.5 });
  const errors: VenueErrorEvent[] = [];
  const stats = { messagesIn() {}, reconnect() {}, error() {}, venueError: (e: VenueErrorEvent) => errors.push(e) };
  const { runner, records } = runnerFor(sim, "okx_spot", { tuning: TUNING, stats });
  runners.push(runner);
  await runner.start();
  await waitFor("ETH-USDT listed", () => report(runner).failures.length === 1, 10_000);
  const [failure] = report(runner).failures;
  expect(failure).toMatchObject({ native: "ETH-USDT", kind: "subscribe_refused", attempts: 1 });
  expect(failure?.detail).toBe(
    "books:ETH-USDT, trades:ETH-USDT: 60018 Wrong URL or channel:trades,instId:ETH-USDT doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
  );
  await waitFor("the other books live", () => liveBooks(runner).join() === "BTC-USDT,SOL-USDT", 10_000);
  // The venue error is counted, and its incident says what happens next.
  expect(errors[0]).toMatchObject({ code: "60018", first: true, next: OKX_SUBSCRIBE_REFUSED_NEXT });
  expect(symbolsOf(records, "orderbook").has("ETH-USDT")).toBe(false);

  await waitFor("the fault ends", () => sim.faults().length === 0, 5000);
  await waitFor("ETH-USDT live and no longer listed", () => liveBooks(runner).length === 3 && report(runner).failures.length === 0, 10_000);
  expect(symbolsOf(records, "orderbook")).toEqual(new Set(["BTC-USDT", "ETH-USDT", "SOL-USDT"]));
  expect(runner.connection?.reconnects).toBe(0);
  // Its two args were refused at the subscribe and at the first round (1 s); the second round
  // (2 s after) was served: one subscribe request and two retry requests of the hour's 480.
  expect(sim.faultEffects("okx_spot", "subscribe_refused")).toBe(4);
  expect(480 - (runner.connection as unknown as { requestsLeft: number }).requestsLeft).toBe(3);
  await runner.stop();
}, 30_000);

test("Deribit leaves one currency's channel out of the public/subscribe result: it alone is listed as subscribe_refused, the other index goes on, and it is collected once subscribed", async () => {
  sim.fault({ venue: "deribit_derivatives", kind: "subscribe_refused", symbol: "ETH", seconds: 2.5 });
  const { runner, records } = runnerFor(sim, "deribit_derivatives", { tuning: TUNING });
  runners.push(runner);
  await runner.start();
  await waitFor("ETH listed", () => report(runner).failures.length === 1, 10_000);
  expect(report(runner).failures).toEqual([
    {
      native: "ETH",
      kind: "subscribe_refused",
      detail: "deribit_volatility_index.eth_usd: not in the public/subscribe result (1 of 2 channels subscribed)",
      attempts: 1,
      since_ms: expect.any(Number),
    },
  ]);
  const from = records.length;
  await waitFor("BTC index values while ETH is refused", () => records.slice(from).filter((r) => r.data_type === "volatility_index").length >= 3, 10_000);
  expect(symbolsOf(records, "volatility_index")).toEqual(new Set(["BTC"]));

  await waitFor("the fault ends", () => sim.faults().length === 0, 5000);
  await waitFor("ETH index values and nothing listed", () => symbolsOf(records, "volatility_index").has("ETH") && report(runner).failures.length === 0, 10_000);
  expect(runner.connection?.reconnects).toBe(0);
  await runner.stop();
}, 30_000);

test("an OKX book that breaks after every resubscription backs off (1 s, 1 s, then 2 s) and is listed as a resync_loop; the other book stays live, no reconnect", async () => {
  const subscribed: number[] = [];
  let seq = 10;
  const book = (instId: string, action: "snapshot" | "update", prev: number, id: number, bid: string): string =>
    JSON.stringify({ arg: { channel: "books", instId }, action, data: [{ asks: [["2.0", "1", "0", "1"]], bids: [[bid, "1", "0", "1"]], ts: String(Date.now()), checksum: 0, seqId: id, prevSeqId: prev }] });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("no", { status: 404 })),
    websocket: {
      message(ws, text) {
        if (text === "ping") return void ws.send("pong");
        const msg = JSON.parse(String(text)) as { op: string; args: { channel: string; instId: string }[] };
        for (const arg of msg.args) {
          ws.send(JSON.stringify({ event: msg.op, arg, connId: "t" }));
          if (msg.op !== "subscribe") continue;
          seq += 10;
          ws.send(book(arg.instId, "snapshot", -1, seq, "1.0"));
          if (arg.instId !== "AAA-USDT") continue;
          subscribed.push(performance.now());
          // An update that does not follow the snapshot's seqId: the chain breaks at once.
          ws.send(book(arg.instId, "update", seq + 5, seq + 6, "1.1"));
        }
      },
    },
  });
  const inst = (native: string): Instrument => ({ native, base: native.split("-")[0] ?? "", quote: "USDT", market_type: "spot", symbol: native });
  const config: VenueConfig = { ...configWith().venues.okx_spot, symbols: ["AAA-USDT", "BBB-USDT"], data_types: ["orderbook"], ws_url: `ws://127.0.0.1:${server.port}`, rest_url: `http://127.0.0.1:${server.port}` };
  const { runner } = ingestRunner("okx_spot", config, { instruments: config.symbols.map(inst), tuning: TUNING });
  runners.push(runner);
  try {
    await runner.start();
    await waitFor("AAA-USDT listed as a resync loop", () => report(runner).failures.length === 1, 15_000);
    const [failure] = report(runner).failures;
    expect(failure).toMatchObject({ native: "AAA-USDT", kind: "resync_loop", attempts: 3 });
    expect(failure?.detail).toBe("its chain broke within a minute of each of its last 3 resubscriptions; each waits 2 s after the one before");
    await waitFor("the 2 s wait served", () => subscribed.length >= 5, 10_000);
    // The subscribe, a resubscription at once, then 1 s (the round interval), 1 s, 2 s: not one a second forever.
    const gaps = subscribed.slice(1).map((t, i) => t - (subscribed[i] ?? 0));
    expect(gaps[1]).toBeGreaterThanOrEqual(950);
    expect(gaps[2]).toBeGreaterThanOrEqual(950);
    expect(gaps[3]).toBeGreaterThanOrEqual(1950);
    expect(liveBooks(runner)).toEqual(["BBB-USDT"]);
    expect(runner.connection?.reconnects).toBe(0);
  } finally {
    await runner.stop();
    server.stop(true);
  }
}, 30_000);
