import { expect, test } from "bun:test";
import { configWith } from "../../src/config/load.ts";
import type { MarketRecord, OrderbookRecord } from "../../src/records/types.ts";
import { ACTIVITY, decimalText, GENERATED_STEP_MS, GENERATED_T0_MS, TradeTape } from "../../src/replay/generated-book.ts";
import { generatedAssets } from "../../src/replay/generator.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { recordedFrame } from "../../src/replay/recorded-frame.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { okxOpenInterest } from "../../src/venues/okx/sim-synthetic.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { BinanceGeneratedMarket } from "../../src/venues/binance/sim-generator.ts";
import { parseInstrumentBodies } from "../../src/venues/instruments.ts";
import { getVenue } from "../../src/venues/registry.ts";
import { ingestRunner } from "../connection/support.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The generator at scale and at live rates (src/replay/live-feed.ts, src/venues/<venue>/sim-generator.ts):
 * thousands of symbols start at once and are listed exactly; each book moves ten times a second
 * with an unbroken id chain, and a REST snapshot taken at any moment bridges into the stream;
 * trades come in bursts, hot symbols busier; the 24 h tickers rank the hot symbols first and
 * cost the documented weights.
 */

type Level = [string, string];
interface Depth {
  readonly lastUpdateId: number;
  readonly bids: Level[];
  readonly asks: Level[];
}
interface Diff {
  readonly E: number;
  readonly U: number;
  readonly u: number;
  readonly pu?: number;
  readonly b: Level[];
  readonly a: Level[];
}

const get = async (sim: Simulator, path: string): Promise<{ body: unknown; weight: number }> => {
  const res = await fetch(`${sim.url}${path}`);
  return { body: await res.json(), weight: Number(res.headers.get("x-mbx-used-weight-1m") ?? NaN) };
};

test("2,000 symbols a venue start at once, metadata lists exactly them, and the 24 h tickers rank the hot ones first at the documented weights", async () => {
  const started = performance.now();
  const sim = await startSimulator({ source: generatorSource(2000), rate: "live", ping_interval_ms: 0 });
  const startup_ms = performance.now() - started;
  try {
    // Building the markets is O(1) per symbol and renders nothing ahead.
    expect(startup_ms).toBeLessThan(10_000);
    expect(sim.symbols.binance_spot.length).toBe(2000);
    const spotInfo = (await get(sim, "/binance_spot/api/v3/exchangeInfo")).body as { symbols: { symbol: string }[] };
    expect(spotInfo.symbols.map((s) => s.symbol)).toEqual(sim.symbols.binance_spot);
    const usdmInfo = (await get(sim, "/binance_derivatives/fapi/v1/exchangeInfo")).body as { symbols: { symbol: string }[] };
    expect(usdmInfo.symbols.map((s) => s.symbol)).toEqual(sim.symbols.binance_derivatives);
    const swaps = (await get(sim, "/okx_derivatives/api/v5/public/instruments?instType=SWAP")).body as { data: { instId: string }[] };
    expect(swaps.data.map((d) => d.instId)).toEqual(sim.symbols.okx_derivatives);
    expect(swaps.data.length).toBe(2000);

    const before = (await get(sim, "/binance_spot/api/v3/exchangeInfo")).weight;
    const all = await get(sim, "/binance_spot/api/v3/ticker/24hr");
    // Weight 80 for every symbol (and 20 for the exchangeInfo before it).
    expect(all.weight - before).toBe(80);
    const rows = all.body as { symbol: string; quoteVolume: string; lastPrice: string }[];
    expect(rows.length).toBe(2000);
    const top = [...rows].sort((x, y) => Number(y.quoteVolume) - Number(x.quoteVolume)).slice(0, 3).map((r) => r.symbol);
    expect(top).toEqual(["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
    const one = await get(sim, "/binance_spot/api/v3/ticker/24hr?symbol=ETHUSDT");
    expect(one.weight - all.weight).toBe(2);
    expect((one.body as { quoteVolume: string }).quoteVolume).toBe(rows.find((r) => r.symbol === "ETHUSDT")?.quoteVolume ?? "");
    const some = await get(sim, `/binance_spot/api/v3/ticker/24hr?symbols=${encodeURIComponent('["BTCUSDT","G99USDT"]')}`);
    expect(some.weight - one.weight).toBe(2);
    expect((some.body as { symbol: string }[]).map((r) => r.symbol)).toEqual(["BTCUSDT", "G99USDT"]);
    const unknown = await fetch(`${sim.url}/binance_spot/api/v3/ticker/24hr?symbol=NOPEUSDT`);
    expect([unknown.status, ((await unknown.json()) as { code: number }).code]).toEqual([400, -1121]);
    // A delisted symbol leaves the ticker list with the metadata.
    sim.listing.unlisted.add("ETHUSDT");
    const delisted = (await get(sim, "/binance_spot/api/v3/ticker/24hr")).body as { symbol: string }[];
    expect([delisted.length, delisted.some((r) => r.symbol === "ETHUSDT")]).toEqual([1999, false]);
    sim.listing.unlisted.delete("ETHUSDT");

    const usdmBefore = (await get(sim, "/binance_derivatives/fapi/v1/exchangeInfo")).weight;
    const usdmAll = await get(sim, "/binance_derivatives/fapi/v1/ticker/24hr");
    const usdmOne = await get(sim, "/binance_derivatives/fapi/v1/ticker/24hr?symbol=BTCUSDT");
    expect([usdmAll.weight - usdmBefore, usdmOne.weight - usdmAll.weight]).toEqual([40, 1]);
    const okx = (await get(sim, "/okx_derivatives/api/v5/market/tickers?instType=SWAP")).body as { data: { instId: string; volCcy24h: string; last: string }[] };
    const okxTop = [...okx.data].sort((x, y) => Number(y.volCcy24h) * Number(y.last) - Number(x.volCcy24h) * Number(x.last)).slice(0, 3);
    expect(okxTop.map((t) => t.instId)).toEqual(["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"]);
    expect(sim.violations.rules()).toEqual({});
  } finally {
    await sim.stop();
  }
}, 30_000);

/** Applies Binance levels to a side. */
function apply(side: Map<string, string>, levels: readonly Level[]): void {
  for (const [p, q] of levels) if (Number(q) === 0) side.delete(p); else side.set(p, q);
}

const sorted = (side: Map<string, string>, descending: boolean): Level[] =>
  [...side].sort((x, y) => (descending ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0])));

for (const venue of ["binance_spot", "binance_derivatives"] as const) {
  test(`${venue} at the live rate: ten diffs a second per symbol, an unbroken chain, and REST snapshots that bridge into the stream at any time`, async () => {
    const futures = venue === "binance_derivatives";
    const sim = await startSimulator({ source: generatorSource(300), rate: "live", ping_interval_ms: 0 });
    const symbols = ["BTCUSDT", "G250USDT"];
    const diffs = new Map<string, Diff[]>(symbols.map((s) => [s, []]));
    const socket = new WebSocket(`${sim.url.replace("http", "ws")}/${venue}${futures ? "/public" : ""}/stream`);
    socket.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as { data?: Diff & { s: string } };
      if (msg.data !== undefined) diffs.get(msg.data.s)?.push(msg.data);
    };
    try {
      await new Promise((resolve) => (socket.onopen = resolve));
      socket.send(JSON.stringify({ method: "SUBSCRIBE", params: symbols.map((s) => `${s.toLowerCase()}@depth@100ms`), id: 1 }));
      await waitFor("a first diff of each symbol", () => [...diffs.values()].every((d) => d.length > 0), 5000);
      const path = futures ? "/fapi/v1/depth" : "/api/v3/depth";
      const first = new Map<string, Depth>();
      for (const s of symbols) first.set(s, (await get(sim, `/${venue}${path}?symbol=${s}&limit=1000`)).body as Depth);
      const t0 = performance.now();
      await waitFor("two seconds of diffs", () => performance.now() - t0 > 2000, 5000);
      const second = new Map<string, Depth>();
      for (const s of symbols) second.set(s, (await get(sim, `/${venue}${path}?symbol=${s}&limit=1000`)).body as Depth);
      // The diff the second snapshot bridges to: spot its u = lastUpdateId, USDⓈ-M U <= lastUpdateId <= u.
      const bridges = (d: Diff, id: number): boolean => (futures ? d.U <= id && id <= d.u : d.u === id);
      await waitFor("the diffs the second snapshots bridge to", () => symbols.every((s) => diffs.get(s)?.some((d) => bridges(d, second.get(s)?.lastUpdateId ?? -1))), 5000);
      for (const s of symbols) {
        const list = diffs.get(s) ?? [];
        for (let i = 1; i < list.length; i++) {
          const [prev, d] = [list[i - 1] as Diff, list[i] as Diff];
          expect({ s, chained: futures ? d.pu === prev.u : d.U === prev.u + 1, E: d.E - prev.E }).toEqual({ s, chained: true, E: GENERATED_STEP_MS });
        }
        // Ten a second: one diff per 100 ms of event time (above), and event time keeps up with the clock.
        expect(list.length).toBeGreaterThanOrEqual(15);
        expect(Math.abs((list.at(-1)?.E ?? 0) - Date.now())).toBeLessThan(1000);
        // The first snapshot plus the diffs after it is the second snapshot's book.
        const snap = first.get(s) as Depth;
        const bids = new Map(snap.bids);
        const asks = new Map(snap.asks);
        const id2 = (second.get(s) as Depth).lastUpdateId;
        for (const d of list) {
          if (futures ? d.u < snap.lastUpdateId : d.u <= snap.lastUpdateId) continue;
          if (futures ? d.U > id2 : d.u > id2) break;
          if (futures && bridges(d, id2)) break;
          apply(bids, d.b);
          apply(asks, d.a);
        }
        expect({ s, bids: sorted(bids, true), asks: sorted(asks, false) }).toEqual({ s, bids: (second.get(s) as Depth).bids, asks: (second.get(s) as Depth).asks });
      }
      expect(sim.violations.rules()).toEqual({});
    } finally {
      socket.close();
      await sim.stop();
    }
  }, 30_000);
}

test("okx at the live rate: snapshot then updates with valid checksums, rising trade ids, and open interest pushed as REST answers it", async () => {
  const sim = await startSimulator({ source: generatorSource(100), rate: "live" });
  const venue = "okx_derivatives";
  const natives = ["BTC-USDT-SWAP", "G80-USDT-SWAP"];
  const bodies = [(await get(sim, `/${venue}/api/v5/public/instruments?instType=SWAP`)).body];
  const instruments = parseInstrumentBodies(venue, bodies.map((b) => JSON.stringify(b)));
  const records: MarketRecord[] = [];
  const def = getVenue(venue);
  const normalizer = def.createNormalizer({ symbols: natives, data_types: ["orderbook", "trade"], depth: 10, snapshot_interval_ms: 0, instruments, emit: (r) => records.push(r) });
  const interest: { oi: string; ts: string }[] = [];
  const socket = new WebSocket(`${sim.url.replace("http", "ws")}/${venue}/ws/v5/public`);
  socket.onmessage = (e) => {
    const text = String(e.data);
    const msg = JSON.parse(text) as { arg?: { channel: string; instId?: string }; data?: { oi: string; ts: string }[] };
    if (msg.arg?.channel === "open-interest" && msg.arg.instId === natives[0]) interest.push(...(msg.data ?? []));
    normalizer.push(recordedFrame({ source: "ws", url: `${sim.url}/${venue}/ws/v5/public`, recv_ts: Date.now() / 1000, raw: text }));
  };
  try {
    await new Promise((resolve) => (socket.onopen = resolve));
    const args = natives.flatMap((instId) => [{ channel: "books", instId }, { channel: "trades", instId }, { channel: "open-interest", instId }]);
    socket.send(JSON.stringify({ op: "subscribe", args }));
    await waitFor("30 book records of each instrument and two open-interest pushes", () => {
      const books = records.filter((r) => r.data_type === "orderbook");
      return natives.every((n) => books.filter((b) => b.symbol === normalizer.bookHealth().find((h) => h.native === n)?.symbol).length >= 30) && interest.length >= 2;
    }, 10_000);
    expect(normalizer.bookHealth().map((b) => [b.native, b.state, b.checksum_failures, b.sequence_gaps, b.resyncs]).sort()).toEqual(
      natives.map((n) => [n, "live", 0, 0, 0]),
    );
    expect([normalizer.stats.errors, normalizer.stats.unrecognized]).toEqual([0, 0]);
    const btc = records.filter((r) => r.data_type === "trade" && r.symbol.startsWith("BTC")).map((r) => (r.data_type === "trade" ? Number(r.trade_id) : 0));
    expect(btc.length).toBeGreaterThan(10);
    expect(btc.every((id, i) => i === 0 || id > (btc[i - 1] ?? 0))).toBe(true);
    // Pushed and polled open interest are one function of the second (sim-synthetic.ts): the REST
    // answer of any second is the push of that second.
    const price = generatedAssets(1)[0]?.price ?? 0;
    const btcId = natives[0] as string;
    const oiAt = (ts: number): string => (okxOpenInterest(btcId, price, ts, Math.floor(ts / 1000)) as { oi: string }).oi;
    for (const p of interest) expect(p.oi).toBe(oiAt(Number(p.ts)));
    const polled = (await get(sim, `/${venue}/api/v5/public/open-interest?instType=SWAP&instId=${btcId}`)).body as { data: { oi: string; ts: string }[] };
    const at = Number(polled.data[0]?.ts);
    expect(polled.data[0]?.oi).toBe(oiAt(at));
    expect(sim.violations.rules()).toEqual({});
  } finally {
    socket.close();
    await sim.stop();
  }
}, 30_000);

test("trades come in bursts and hot symbols trade twenty times as often", () => {
  const perSecond = (tape: TradeTape, seconds: number): number[] => {
    const out: number[] = [];
    for (let s = 0; s < seconds; s++) {
      let n = 0;
      for (let k = s * 10; k < s * 10 + 10; k++) n += tape.count(k);
      out.push(n);
    }
    return out;
  };
  const stats = (xs: number[]): { mean: number; dispersion: number } => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    return { mean, dispersion: variance / mean };
  };
  const n = ACTIVITY.normal;
  const h = ACTIVITY.hot;
  const normal = stats(perSecond(new TradeTape(11, n.trades_per_s, n.burst_p, n.burst_scale), 20_000));
  const hot = stats(perSecond(new TradeTape(12, h.trades_per_s, h.burst_p, h.burst_scale), 20_000));
  // A Poisson stream has dispersion 1; bursts make it several times that.
  expect(normal.dispersion).toBeGreaterThan(3);
  expect(hot.dispersion).toBeGreaterThan(3);
  expect(normal.mean).toBeGreaterThan(n.trades_per_s);
  expect(hot.mean / normal.mean).toBeGreaterThan(10);
});

test("the engine's books over the generated USDⓈ-M stream equal the generator's own book at every stored step, with no resync", async () => {
  const sim = await startSimulator({ source: generatorSource(3), rate: "live", ping_interval_ms: 0 });
  const config = configWith(replayVenueOverrides(sim)).venues.binance_derivatives;
  const { runner, records } = ingestRunner("binance_derivatives", { ...config, data_types: ["orderbook"] });
  const market = new BinanceGeneratedMarket(generatedAssets(3), true);
  try {
    await runner.start();
    await waitFor("20 books of every symbol", () => {
      const bySymbol = new Map<string, number>();
      for (const r of records) bySymbol.set(r.symbol, (bySymbol.get(r.symbol) ?? 0) + 1);
      return bySymbol.size === 3 && [...bySymbol.values()].every((n) => n >= 20);
    }, 15_000);
    const natives = new Map((runner.normalizer?.bookHealth() ?? []).map((h) => [h.symbol, h.native]));
    expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
    for (const r of records) {
      const book = r as OrderbookRecord;
      const native = natives.get(book.symbol) ?? "";
      const i = market.symbols.indexOf(native);
      // Event time E of step k is GENERATED_T0_MS + k × 100 ms + the symbol's phase.
      market.passed[i] = (book.ts_ms - GENERATED_T0_MS - (market.phases[i] ?? 0)) / GENERATED_STEP_MS;
      const want = JSON.parse(market.depthBody(native, 10, 0) ?? "{}") as Depth;
      expect({ symbol: book.symbol, bids: book.bids, asks: book.asks }).toEqual({ symbol: book.symbol, bids: want.bids, asks: want.asks });
    }
    expect(sim.violations.rules()).toEqual({});
  } finally {
    await runner.stop();
    await sim.stop();
  }
}, 30_000);

test("spot and USDⓈ-M streams of the same name go only to their own venue's connections", async () => {
  const sim = await startSimulator({ source: generatorSource(2), rate: "live", ping_interval_ms: 0 });
  const ws = sim.url.replace("http", "ws");
  const frames = { spot: [] as string[], usdm: [] as string[] };
  const spot = new WebSocket(`${ws}/binance_spot/stream?streams=btcusdt@depth@100ms`);
  const usdm = new WebSocket(`${ws}/binance_derivatives/public/stream?streams=btcusdt@depth@100ms`);
  spot.onmessage = (e) => frames.spot.push(String(e.data));
  usdm.onmessage = (e) => frames.usdm.push(String(e.data));
  try {
    await waitFor("ten diffs on each", () => frames.spot.length >= 10 && frames.usdm.length >= 10, 5000);
    // USDⓈ-M diffs carry `pu` and the symbol's own precision; spot's neither.
    expect(frames.spot.filter((f) => f.includes('"pu":'))).toEqual([]);
    expect(frames.usdm.filter((f) => !f.includes('"pu":'))).toEqual([]);
  } finally {
    spot.close();
    usdm.close();
    await sim.stop();
  }
});

test("at the live rate a first subscriber after a quiet spell gets the current step, not a backlog", async () => {
  const sim = await startSimulator({ source: generatorSource(2), rate: "live", ping_interval_ms: 0 });
  const diffs: Diff[] = [];
  try {
    const before = (await get(sim, "/binance_spot/api/v3/depth?symbol=BTCUSDT&limit=5")).body as Depth;
    const t0 = performance.now();
    await waitFor("a second with no connection", () => performance.now() - t0 > 1000, 3000);
    const later = (await get(sim, "/binance_spot/api/v3/depth?symbol=BTCUSDT&limit=5")).body as Depth;
    // Ten steps a second move the snapshot on without any subscriber.
    expect(later.lastUpdateId).toBeGreaterThan(before.lastUpdateId);
    const socket = new WebSocket(`${sim.url.replace("http", "ws")}/binance_spot/stream?streams=btcusdt@depth@100ms`);
    socket.onmessage = (e) => diffs.push((JSON.parse(String(e.data)) as { data: Diff }).data);
    await waitFor("a first diff", () => diffs.length > 0, 3000);
    socket.close();
    expect(Math.abs((diffs[0]?.E ?? 0) - Date.now())).toBeLessThan(1000);
  } finally {
    await sim.stop();
  }
});

test("generated decimals keep every digit: leading zeros of the fraction, whole parts of any size", () => {
  expect([decimalText(5, 3), decimalText(1234, 2), decimalText(650001, 1), decimalText(0, 8), decimalText(6_500_000_000_001, 8), decimalText(42, 0)]).toEqual([
    "0.005", "12.34", "65000.1", "0.00000000", "65000.00000001", "42",
  ]);
});

test("at the live rate DVOL is pushed once a second with the value the REST candles give for that second", async () => {
  const sim = await startSimulator({ source: generatorSource(1), rate: "live" });
  const pushes: { volatility: number; timestamp: number }[] = [];
  const socket = new WebSocket(`${sim.url.replace("http", "ws")}/deribit_derivatives/ws/api/v2`);
  socket.onmessage = (e) => {
    const msg = JSON.parse(String(e.data)) as { method?: string; params?: { data: { volatility: number; timestamp: number } } };
    if (msg.method === "subscription" && msg.params !== undefined) pushes.push(msg.params.data);
  };
  try {
    await new Promise((resolve) => (socket.onopen = resolve));
    socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "public/subscribe", params: { channels: ["deribit_volatility_index.btc_usd"] } }));
    await waitFor("three DVOL pushes", () => pushes.length >= 3, 6000);
    for (let i = 1; i < pushes.length; i++) expect((pushes[i]?.timestamp ?? 0) - (pushes[i - 1]?.timestamp ?? 0)).toBe(1000);
    for (const p of pushes) {
      const q = `currency=BTC&start_timestamp=${p.timestamp}&end_timestamp=${p.timestamp}&resolution=1`;
      const body = (await get(sim, `/deribit_derivatives/api/v2/public/get_volatility_index_data?${q}`)).body as { result: { data: number[][] } };
      expect(body.result.data[0]?.[4]).toBe(p.volatility);
    }
  } finally {
    socket.close();
    await sim.stop();
  }
});
