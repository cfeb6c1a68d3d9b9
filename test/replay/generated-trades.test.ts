import { describe, expect, test } from "bun:test";
import type { VenueKey } from "../../src/config/schema.ts";
import type { MarketRecord, TradeRecord } from "../../src/records/types.ts";
import { generatedAssets } from "../../src/replay/generator.ts";
import { TRADE_HISTORY_STEPS } from "../../src/replay/generated-trades.ts";
import type { FrameSink, GeneratedFeed, LiveStream } from "../../src/replay/live-feed.ts";
import { BinanceGeneratedMarket } from "../../src/venues/binance/sim-generator.ts";
import { parseInstrumentBodies } from "../../src/venues/instruments.ts";
import { OkxGeneratedMarket } from "../../src/venues/okx/sim-generator.ts";
import { getVenue } from "../../src/venues/registry.ts";

/**
 * The generated venues' REST trade history (src/replay/generated-trades.ts) serves the trades
 * the stream sent, with the stream's ids and values, paged as the venues page: Binance from
 * `fromId` up (1,000 a page), OKX below `after` down, newest first (100 a page). Each side goes
 * through the engine's normalizer, so "the same trade" means the same stored record (the
 * timestamp aside: Binance pages carry the trade time, the stream the event time).
 */

const FIRST_STEP = 90_000_000;
const STEPS = 300;

interface Market extends GeneratedFeed {
  rest(path: string, query: URLSearchParams, now_ms: number, unlisted: ReadonlySet<string>): Response | undefined;
}

/** Every trade frame of `steps` steps of instrument `i`, then the feed stands at the last one. */
function streamed(market: Market, i: number, wanted: (s: LiveStream) => boolean): string[] {
  const frames: string[] = [];
  const sink: FrameSink = { wants: wanted, emit: (_s, text) => void frames.push(text) };
  for (let k = FIRST_STEP + 1; k <= FIRST_STEP + STEPS; k++) market.step(i, k, sink);
  market.passed[i] = FIRST_STEP + STEPS;
  return frames;
}

function normalize(venue: VenueKey, instrumentBodies: string[], native: string, frames: { source: "ws" | "http"; url: string; raw: string }[]): TradeRecord[] {
  const records: MarketRecord[] = [];
  const instruments = parseInstrumentBodies(venue, instrumentBodies);
  const normalizer = getVenue(venue).createNormalizer({ symbols: [native], data_types: ["trade"], depth: 10, snapshot_interval_ms: 0, instruments, emit: (r) => records.push(r) });
  for (const f of frames) normalizer.push({ ...f, recv_ts_ms: 1 });
  expect(normalizer.stats.errors).toBe(0);
  return records.filter((r): r is TradeRecord => r.data_type === "trade");
}

const essentials = (t: TradeRecord) => [t.symbol, t.trade_id, t.price, t.quantity, t.side, t.is_maker, t.trade_time];

async function body(market: Market, path: string): Promise<string> {
  const url = new URL(`http://sim${path}`);
  const res = market.rest(url.pathname, url.searchParams, Date.now(), new Set());
  expect(res?.status).toBe(200);
  return (await res?.text()) ?? "";
}

describe("Binance generated trade history", () => {
  for (const futures of [false, true]) {
    const venue: VenueKey = futures ? "binance_derivatives" : "binance_spot";
    test(`${venue}: pages from fromId up, 1,000 a page, equal the stream's trades; a fromId past the newest gets []`, async () => {
      const market = new BinanceGeneratedMarket(generatedAssets(2), futures);
      const native = market.symbols[0] as string;
      const info = [market.exchangeInfo().raw];
      const frames = streamed(market, 0, (s) => s.key === `${native}@${futures ? "aggTrade" : "trade"}`.toLowerCase());
      const stream = normalize(venue, info, native, frames.map((raw) => ({ source: "ws", url: "wss://x/stream", raw })));
      expect(stream.length).toBeGreaterThan(1000);
      const path = futures ? "/fapi/v1/aggTrades" : "/api/v3/historicalTrades";
      const pages: string[] = [];
      let from = Number(stream[0]?.trade_id);
      const rest: TradeRecord[] = [];
      for (;;) {
        const p = `${path}?symbol=${native}&limit=1000&fromId=${from}`;
        const page = normalize(venue, info, native, [{ source: "http", url: `https://x${p}`, raw: await body(market, p) }]);
        pages.push(p);
        rest.push(...page);
        if (page.length < 1000) break;
        expect(page.length).toBe(1000);
        from = Number(page.at(-1)?.trade_id) + 1;
      }
      expect(pages.length).toBe(Math.ceil(stream.length / 1000));
      expect(rest.map(essentials)).toEqual(stream.map(essentials));
      // Spot trade ids step by 4: a fromId between two ids starts at the next one.
      if (!futures) {
        const between = `${path}?symbol=${native}&limit=2&fromId=${Number(stream[0]?.trade_id) + 1}`;
        const next = normalize(venue, info, native, [{ source: "http", url: `https://x${between}`, raw: await body(market, between) }]);
        expect(next.map((t) => t.trade_id)).toEqual(stream.slice(1, 3).map((t) => t.trade_id));
      }
      const last = Number(stream.at(-1)?.trade_id);
      expect(await body(market, `${path}?symbol=${native}&fromId=${last + 1}`)).toBe("[]");
      const unknown = market.rest(path, new URLSearchParams({ symbol: "NOPEUSDT" }), Date.now(), new Set());
      expect(unknown?.status).toBe(400);
    });
  }
});

test("OKX generated trade history: pages below `after`, newest first, 100 a page, equal the stream's trades; older than an hour is gone", async () => {
  const market = new OkxGeneratedMarket(generatedAssets(2));
  const native = market.instruments[1] as string;
  const i = market.instruments.indexOf(native);
  const info = market.instrumentsLines().map((l) => l.raw);
  const frames = streamed(market, i, (s) => s.key === `trades:${native}`);
  const stream = normalize("okx_derivatives", info, native, frames.map((raw) => ({ source: "ws", url: "wss://x/ws/v5/public", raw })));
  expect(stream.length).toBeGreaterThan(100);
  const rest: TradeRecord[] = [];
  let after: string | undefined;
  let pages = 0;
  const oldest = Number(stream[0]?.trade_id);
  for (;;) {
    const p = `/api/v5/market/history-trades?instId=${native}&type=1&limit=100${after === undefined ? "" : `&after=${after}`}`;
    const page = normalize("okx_derivatives", info, native, [{ source: "http", url: `https://x${p}`, raw: await body(market, p) }]);
    pages++;
    const ids = page.map((t) => Number(t.trade_id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    rest.push(...page);
    if (Math.min(...ids) <= oldest) break;
    expect(page.length).toBe(100);
    after = page.at(-1)?.trade_id;
  }
  expect(pages).toBe(Math.ceil(stream.length / 100));
  const kept = rest.filter((t) => Number(t.trade_id) >= oldest).reverse();
  expect(kept.map(essentials)).toEqual(stream.map(essentials));
  expect(kept.map((t) => t.ts_ms)).toEqual(stream.map((t) => t.ts_ms));
  // An hour on, the first streamed step is past the retained history.
  market.passed[i] = FIRST_STEP + STEPS + TRADE_HISTORY_STEPS;
  const late = JSON.parse(await body(market, `/api/v5/market/history-trades?instId=${native}&after=${Number(stream[1]?.trade_id)}`)) as { data: unknown[] };
  expect(late.data).toEqual([]);
  const bad = market.rest("/api/v5/market/history-trades", new URLSearchParams({ instId: native, type: "2" }), Date.now(), new Set());
  expect(bad?.status).toBe(400);
});
