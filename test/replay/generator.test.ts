import { afterAll, beforeAll, expect, test } from "bun:test";
import type { VenueKey } from "../../src/config/schema.ts";
import type { MarketRecord } from "../../src/records/types.ts";
import { recordedFrame } from "../../src/replay/recorded-frame.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { parseInstrumentBodies } from "../../src/venues/instruments.ts";
import { getVenue } from "../../src/venues/registry.ts";

/**
 * The built-in generator (src/venues/<venue>/sim-generator.ts): its frames go through the
 * engine's own normalizers and books without a single error, gap or unchecked checksum, its
 * metadata lists exactly the generated symbols, and the simulator serves it over WS and REST.
 */

const SYMBOLS = 3;
const source = generatorSource(SYMBOLS);
type Data = Record<string, unknown>;

const FEEDS: [VenueKey, string, string, string[]][] = [
  ["binance_spot", "binance_spot.jsonl", "reference/binance_spot_exchangeInfo.jsonl", ["BTCUSDT", "ETHUSDT", "SOLUSDT"]],
  ["binance_derivatives", "binance_derivatives.jsonl", "reference/binance_derivatives_exchangeInfo.jsonl", ["BTCUSDT", "ETHUSDT", "SOLUSDT"]],
  ["okx_spot", "okx.jsonl", "reference/okx_instruments.jsonl", ["BTC-USDT", "ETH-USDT", "SOL-USDT"]],
  ["okx_derivatives", "okx.jsonl", "reference/okx_instruments.jsonl", ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"]],
];

for (const [venue, file, reference, natives] of FEEDS) {
  test(`${venue}: generated frames normalize with no error and no gap; every book stays live; trade ids rise`, () => {
    const instruments = parseInstrumentBodies(venue, source.read(reference).map((l) => l.raw));
    const ofVenue = [...instruments.values()].filter((i) => (venue.endsWith("spot") ? i.market_type === "spot" : i.market_type === "perpetual"));
    expect(ofVenue.map((i) => i.native)).toEqual(natives);
    const records: MarketRecord[] = [];
    const def = getVenue(venue);
    const normalizer = def.createNormalizer({ symbols: natives, data_types: def.data_types, depth: 10, snapshot_interval_ms: 0, instruments, emit: (r) => records.push(r) });
    for (const line of source.read(file)) normalizer.push(recordedFrame(line));
    expect([normalizer.stats.errors, normalizer.stats.unrecognized]).toEqual([0, 0]);
    expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
    expect(normalizer.bookHealth().map((b) => [b.native, b.state, b.resyncs, b.checksum_failures, b.sequence_gaps])).toEqual(
      natives.map((n) => [n, "live", 0, 0, 0]),
    );
    // One book record per diff (100 per symbol), plus OKX's snapshot push.
    const books = records.filter((r) => r.data_type === "orderbook");
    expect(books.length).toBe(natives.length * (venue.startsWith("okx") ? 101 : 100));
    for (const b of books) if (b.data_type === "orderbook") expect(Number(b.best_bid_price)).toBeLessThan(Number(b.best_ask_price));
    const trades = records.filter((r) => r.data_type === "trade");
    expect(trades.length).toBeGreaterThan(natives.length * 10);
    for (const symbol of new Set(trades.map((t) => t.symbol))) {
      const ids = trades.filter((t) => t.symbol === symbol).map((t) => (t.data_type === "trade" ? Number(t.trade_id) : 0));
      expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? 0))).toBe(true);
    }
  });
}

test("generated chains as the venues document them: spot U = u + 1, USDⓈ-M pu = u, OKX prevSeqId = seqId with a non-zero checksum", () => {
  for (const file of ["binance_spot.jsonl", "binance_derivatives.jsonl"]) {
    const last = new Map<string, number>();
    let snapshots = 0;
    for (const line of source.read(file)) {
      const msg = JSON.parse(line.raw) as Data & { data?: Data };
      if (line.source === "http") {
        const symbol = new URL(line.url).searchParams.get("symbol") ?? "";
        last.set(symbol, file.includes("spot") ? Number(msg.lastUpdateId) : -1);
        snapshots++;
        continue;
      }
      const d = msg.data;
      if (d?.e !== "depthUpdate") continue;
      const prev = last.get(String(d.s)) ?? NaN;
      if (file.includes("spot")) expect(d.U).toBe(prev + 1);
      else if (prev !== -1) expect(d.pu).toBe(prev);
      expect(Number(d.u)).toBeGreaterThanOrEqual(Number(d.U));
      last.set(String(d.s), Number(d.u));
    }
    expect(snapshots).toBe(SYMBOLS);
  }
  const seq = new Map<string, number>();
  for (const line of source.read("okx.jsonl")) {
    const msg = JSON.parse(line.raw) as { arg: { channel: string; instId: string }; action?: string; data: Data[] };
    if (msg.arg.channel !== "books") continue;
    const d = msg.data[0] ?? {};
    expect(d.checksum).not.toBe(0);
    expect(d.prevSeqId).toBe(msg.action === "snapshot" ? -1 : seq.get(msg.arg.instId));
    expect(Number(d.seqId)).toBeGreaterThan(seq.get(msg.arg.instId) ?? 0);
    seq.set(msg.arg.instId, Number(d.seqId));
  }
  expect(seq.size).toBe(SYMBOLS * 2);
});

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ source, rate: 200, synthetic_interval_ms: 1000, ping_interval_ms: 0 });
});
afterAll(() => sim.stop());

test("the simulator lists exactly the generated symbols in its metadata and answers depth at any limit", async () => {
  expect(sim.source).toBe(`generator (${SYMBOLS} symbols per venue)`);
  expect(sim.symbols).toEqual({
    binance_spot: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
    binance_derivatives: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
    okx_spot: ["BTC-USDT", "ETH-USDT", "SOL-USDT"],
    okx_derivatives: ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"],
    deribit_derivatives: ["BTC", "ETH"],
  });
  const get = async (path: string): Promise<unknown> => (await fetch(`${sim.url}${path}`)).json();
  const spotInfo = (await get("/binance_spot/api/v3/exchangeInfo")) as { symbols: { symbol: string }[] };
  expect(spotInfo.symbols.map((s) => s.symbol)).toEqual(sim.symbols.binance_spot);
  const usdm = (await get("/binance_derivatives/fapi/v1/exchangeInfo")) as { symbols: { symbol: string; contractType: string }[] };
  expect(usdm.symbols.map((s) => [s.symbol, s.contractType])).toEqual(sim.symbols.binance_derivatives.map((s) => [s, "PERPETUAL"]));
  const swaps = (await get("/okx_derivatives/api/v5/public/instruments?instType=SWAP")) as { data: { instId: string }[] };
  expect(swaps.data.map((d) => d.instId)).toEqual(sim.symbols.okx_derivatives);
  const spots = (await get("/okx_spot/api/v5/public/instruments?instType=SPOT")) as { data: { instId: string }[] };
  expect(spots.data.map((d) => d.instId)).toEqual(sim.symbols.okx_spot);
  const deribit = (await get("/deribit_derivatives/api/v2/public/get_instruments?currency=ETH&expired=false")) as { result: { base_currency: string }[] };
  expect(deribit.result.map((r) => r.base_currency)).toEqual(["ETH"]);
  // A generated side spans 120 ticks, some of them empty (generated-book.ts HOLE_PCT).
  for (const [path, limit, least, most] of [
    ["/binance_spot/api/v3/depth?symbol=ETHUSDT", 5, 5, 5],
    ["/binance_spot/api/v3/depth?symbol=ETHUSDT", 5000, 80, 120],
    ["/binance_derivatives/fapi/v1/depth?symbol=SOLUSDT", 50, 50, 50],
    ["/binance_derivatives/fapi/v1/depth?symbol=SOLUSDT", 1000, 80, 120],
  ] as const) {
    const body = (await get(`${path}&limit=${limit}`)) as { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
    for (const side of [body.bids, body.asks]) expect({ path, limit, within: side.length >= least && side.length <= most }).toEqual({ path, limit, within: true });
    expect(Number.isInteger(body.lastUpdateId)).toBe(true);
    expect(Number(body.bids[0]?.[0])).toBeLessThan(Number(body.asks[0]?.[0]));
    expect(body.bids.every((b, i) => i === 0 || Number(b[0]) < Number(body.bids[i - 1]?.[0]))).toBe(true);
  }
});
