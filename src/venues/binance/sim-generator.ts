import {
  decimalText,
  GENERATED_STEP_MS,
  GENERATED_STEPS,
  GENERATED_T0_MS,
  GeneratedBook,
  maybeTrade,
  priceDecimals,
  quantityDecimals,
  SeededRandom,
  type SimAsset,
  type TickLevel,
} from "../../replay/generated-book.ts";
import type { RecordedLine } from "../../replay/recording.ts";

/**
 * Generated Binance spot and USDⓈ-M recordings for the simulator, in the shapes of today's docs:
 * - diff depth `<symbol>@depth@100ms` and the REST snapshot it bridges to (spot: U = previous
 *   u + 1, no `pu`/`T`, bids descending; USDⓈ-M: ids with gaps chained by `pu`, `E` and `T`,
 *   both sides ascending as recorded): https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#diff-depth-stream,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Diff-Book-Depth-Streams,
 *   https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#order-book,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Order-Book
 * - `<symbol>@aggTrade` with increasing ids (spot `@trade` is derived from it by the replay):
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Aggregate-Trade-Streams
 * - exchangeInfo listing exactly the generated symbols:
 *   https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information
 * Mark price, liquidations, open interest and the long/short ratios come from the simulator's
 * documented-shape pushes and REST answers (src/replay/synthetic.ts), as with recordings.
 */

const QUOTE = "USDT";
const MAX_LOTS = 2000;
const MAX_TRADE_LOTS = 50;

interface Market {
  readonly futures: boolean;
  readonly symbol: string;
  readonly asset: SimAsset;
  readonly pd: number;
  readonly qd: number;
}

function market(asset: SimAsset, futures: boolean): Market {
  return { futures, symbol: `${asset.base}${QUOTE}`, asset, pd: priceDecimals(asset.price), qd: quantityDecimals(asset.price) };
}

/** Spot writes prices and quantities with 8 decimals ("0.35130000"), USDⓈ-M with the symbol's precision. */
function texts(m: Market): { price: (tick: number) => string; qty: (lots: number) => string } {
  if (!m.futures) return { price: (t) => decimalText(t * 10 ** (8 - m.pd), 8), qty: (l) => decimalText(l * 10 ** (8 - m.qd), 8) };
  return { price: (t) => decimalText(t, m.pd), qty: (l) => decimalText(l, m.qd) };
}

function symbolLines(m: Market): RecordedLine[] {
  const rng = new SeededRandom(`binance:${m.futures ? "usdm" : "spot"}:${m.symbol}`);
  const book = new GeneratedBook(rng, Math.round(m.asset.price * 10 ** m.pd), MAX_LOTS);
  const { price, qty } = texts(m);
  const levels = (side: readonly TickLevel[]): [string, string][] => side.map(([t, l]) => [price(t), qty(l)]);
  const lower = m.symbol.toLowerCase();
  const wsDepth = m.futures ? "wss://fstream.binance.com/public/stream" : "wss://stream.binance.com:9443/stream";
  const wsTrade = m.futures ? "wss://fstream.binance.com/market/stream" : wsDepth;
  const rest = m.futures ? "https://fapi.binance.com/fapi/v1/depth" : "https://api.binance.com/api/v3/depth";
  const out: RecordedLine[] = [];
  const line = (source: "ws" | "http", url: string, ts_ms: number, raw: object): void => {
    out.push({ source, url, recv_ts: ts_ms / 1000, raw: JSON.stringify(raw) });
  };

  const snapshot = { bids: levels(book.topBids(1000)), asks: levels(book.topAsks(1000)) };
  const start = 1_000_000_000 + rng.int(0, 100_000_000);
  let lastId = start;
  const stream: { E: number; raw: object }[] = [];
  let aggId = 10_000_000 + rng.int(0, 1_000_000);
  // Trade ids run a few million ahead of aggregate ids, as on the venue (NKNUSDT: a 15683430, f 19862790).
  let tradeId = aggId + 4_000_000;
  for (let k = 1; k <= GENERATED_STEPS; k++) {
    const E = GENERATED_T0_MS + k * GENERATED_STEP_MS;
    const trade = maybeTrade(rng, book, MAX_TRADE_LOTS);
    if (trade !== undefined) {
      const fills = m.futures ? rng.int(1, 3) : 1;
      const f = tradeId;
      tradeId += fills;
      const common = { p: price(trade.tick), q: qty(trade.lots), f, l: f + fills - 1, T: E - 1, m: !trade.buy };
      const data = m.futures
        ? { e: "aggTrade", E, a: aggId, s: m.symbol, ...common }
        : { e: "aggTrade", E, s: m.symbol, a: aggId, ...common, M: true };
      aggId++;
      stream.push({ E, raw: { stream: `${lower}@aggTrade`, data } });
    }
    const step = book.step();
    const bids = levels([...step.bids].sort((x, y) => (m.futures ? x[0] - y[0] : y[0] - x[0])));
    const asks = levels([...step.asks].sort((x, y) => x[0] - y[0]));
    const U = m.futures ? lastId + rng.int(1, 50) : lastId + 1;
    const u = U + rng.int(0, m.futures ? 20 : 5);
    const data = m.futures
      ? { e: "depthUpdate", E, T: E - rng.int(0, 5), s: m.symbol, U, u, pu: lastId, b: bids, a: asks }
      : { e: "depthUpdate", E, s: m.symbol, U, u, b: bids, a: asks };
    lastId = u;
    stream.push({ E, raw: { stream: `${lower}@depth@100ms`, data } });
  }
  // The snapshot holds the book before the first diff and bridges to it: spot U = lastUpdateId + 1;
  // USDⓈ-M U <= lastUpdateId <= u, taken as the first diff's U (its ids have gaps).
  const futuresFirst = stream.find((f) => "U" in (f.raw as { data: object }).data) as { raw: { data: { U: number } } } | undefined;
  const lastUpdateId = m.futures ? (futuresFirst?.raw.data.U ?? start) : start;
  line("http", `${rest}?symbol=${m.symbol}&limit=1000`, GENERATED_T0_MS,
    m.futures ? { lastUpdateId, E: GENERATED_T0_MS, T: GENERATED_T0_MS, ...snapshot } : { lastUpdateId, ...snapshot });
  for (const f of stream) line("ws", "U" in (f.raw as { data: object }).data ? wsDepth : wsTrade, f.E, f.raw);
  return out;
}

function recordingLines(assets: readonly SimAsset[], futures: boolean): RecordedLine[] {
  const lines = assets.flatMap((a) => symbolLines(market(a, futures)));
  // Stable: one symbol's lines keep their order, symbols interleave by time as on one connection.
  return lines.sort((x, y) => x.recv_ts - y.recv_ts);
}

function exchangeInfo(assets: readonly SimAsset[], futures: boolean): RecordedLine {
  const symbols = assets.map((a) => {
    const m = market(a, futures);
    const tick = decimalText(1, m.pd);
    const step = decimalText(1, m.qd);
    const filters = [
      { filterType: "PRICE_FILTER", minPrice: tick, maxPrice: "10000000", tickSize: tick },
      { filterType: "LOT_SIZE", minQty: step, maxQty: "9000000", stepSize: step },
    ];
    return futures
      ? {
          symbol: m.symbol, pair: m.symbol, contractType: "PERPETUAL", deliveryDate: 4133404800000, onboardDate: GENERATED_T0_MS,
          status: "TRADING", baseAsset: a.base, quoteAsset: QUOTE, marginAsset: QUOTE, pricePrecision: m.pd,
          quantityPrecision: m.qd, baseAssetPrecision: 8, quotePrecision: 8, underlyingType: "COIN", filters,
          orderTypes: ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
          timeInForce: ["GTC", "IOC", "FOK", "GTX"],
        }
      : {
          symbol: m.symbol, status: "TRADING", baseAsset: a.base, baseAssetPrecision: 8, quoteAsset: QUOTE, quotePrecision: 8,
          quoteAssetPrecision: 8, orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
          icebergAllowed: true, ocoAllowed: true, isSpotTradingAllowed: true, isMarginTradingAllowed: false, filters,
          permissions: ["SPOT"],
        };
  });
  const rateLimits = futures
    ? [{ rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 2400 }]
    : [{ rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 6000 }];
  const body = futures
    ? { timezone: "UTC", serverTime: GENERATED_T0_MS, futuresType: "U_MARGINED", rateLimits, exchangeFilters: [], symbols }
    : { timezone: "UTC", serverTime: GENERATED_T0_MS, rateLimits, exchangeFilters: [], symbols };
  const url = futures ? "https://fapi.binance.com/fapi/v1/exchangeInfo" : "https://api.binance.com/api/v3/exchangeInfo";
  return { source: "http", url, recv_ts: GENERATED_T0_MS / 1000, raw: JSON.stringify(body) };
}

/** The fixture files this venue's recordings and reference bodies would be, generated for `assets`. */
export function binanceGeneratedFiles(assets: readonly SimAsset[]): Map<string, () => RecordedLine[]> {
  return new Map([
    ["binance_spot.jsonl", () => recordingLines(assets, false)],
    ["binance_derivatives.jsonl", () => recordingLines(assets, true)],
    ["reference/binance_spot_exchangeInfo.jsonl", () => [exchangeInfo(assets, false)]],
    ["reference/binance_derivatives_exchangeInfo.jsonl", () => [exchangeInfo(assets, true)]],
  ]);
}
