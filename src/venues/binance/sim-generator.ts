import {
  ACTIVITY,
  ASK,
  BID,
  decimalText,
  GENERATED_STEPS,
  GENERATED_T0_MS,
  hashText,
  LiveBook,
  LotTexts,
  mix,
  priceDecimals,
  quantityDecimals,
  sortByTick,
  stepAt,
  stepTime,
  TradeTape,
  MAX_TRADES_PER_STEP,
  type LevelChange,
  type SimAsset,
} from "../../replay/generated-book.ts";
import { tradeSeqsBefore, tradeSeqsFrom, tradeStep } from "../../replay/generated-trades.ts";
import type { FrameSink, GeneratedFeed, LiveStream } from "../../replay/live-feed.ts";
import { generatedExchangeInfo } from "./sim-exchange-info.ts";
import type { BinanceBooks } from "./sim-rest.ts";
import type { RecordedLine } from "../../replay/recording.ts";
import type { SimGenerator } from "../../replay/sim-venue.ts";
import * as synth from "./sim-synthetic.ts";

/**
 * Generated Binance spot and USDⓈ-M markets for the simulator, rendered per step on demand
 * (src/replay/generated-book.ts, src/replay/live-feed.ts), in the shapes of today's docs:
 * - diff depth `<symbol>@depth@100ms` and the REST snapshot it bridges to (spot: U = previous
 *   u + 1, bids descending; USDⓈ-M: ids with gaps chained by `pu`, `E` and `T`, both sides
 *   ascending as recorded; the snapshot's lastUpdateId is the next diff's U):
 *   https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#diff-depth-stream,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Diff-Book-Depth-Streams,
 *   https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#order-book,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Order-Book
 * - spot `<symbol>@trade` and `@aggTrade`, USDⓈ-M `<symbol>@aggTrade`, ids rising with the step:
 *   https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#trade-streams,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Aggregate-Trade-Streams
 * - at the live rate, USDⓈ-M `<symbol>@markPrice@1s` every second and `<symbol>@markPrice` every
 *   3 s (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Mark-Price-Stream),
 *   and `<symbol>@forceOrder` / `!forceOrder@arr`, at most one liquidation per symbol a second
 *   (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Liquidation-Order-Streams);
 *   the same values as the REST premium index and open interest of that second (sim-synthetic.ts).
 * - exchangeInfo listing exactly the generated symbols (sim-exchange-info.ts);
 * - the trade history of spot `historicalTrades` and USDⓈ-M `aggTrades` (tradeHistory);
 * - the 24 h tickers, deterministic, hot symbols the top by quote volume:
 *   https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#24hr-ticker-price-change-statistics,
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/24hr-Ticker-Price-Change-Statistics
 */

const QUOTE = "USDT";
const MAX_LOTS = 2000;
const MAX_TRADE_LOTS = 50;
/** Update ids a step spans: u of step k is in [base + 32k, base + 32k + 16). */
const IDS_PER_STEP = 32;
/** USDⓈ-M quote volume against spot's. */
const FUTURES_VOLUME = 3;
const DAY_STEPS = 864_000;

interface Instrument {
  readonly symbol: string;
  readonly asset: SimAsset;
  readonly seed: number;
  readonly pd: number;
  readonly qd: number;
  /** Size texts: spot with 8 decimals, USDⓈ-M with the symbol's precision. */
  readonly sizes: LotTexts;
  readonly book: LiveBook;
  readonly tape: TradeTape;
  readonly id_base: number;
  readonly trade_base: number;
  readonly liquidation_p: number;
  readonly depth: LiveStream;
  readonly trade: LiveStream;
  readonly agg: LiveStream;
  readonly mark1s: LiveStream;
  readonly mark3s: LiveStream;
  readonly force: LiveStream;
  /** `{"stream":"<s>@depth@100ms","data":{"e":"depthUpdate","E":` */
  readonly depth_head: string;
  readonly trade_head: string;
  readonly agg_head: string;
}

/** Scratch space for one step's level changes and levels (one thread renders). */
const CHANGES: LevelChange[] = [];
const LEVELS: LevelChange[] = [];

/** One generated trade, as both the stream and the REST history render it. */
interface GeneratedTrade {
  p: string;
  q: string;
  /** Aggregate id (`a`). */
  agg: number;
  /** First trade id (`f`; spot `t` and `historicalTrades` `id`). */
  first: number;
  fills: number;
  T: number;
  /** Buyer is the maker (`m`). */
  maker: boolean;
}

/** Scratch trade (one thread renders): no object per generated trade. */
const TRADE: GeneratedTrade = { p: "", q: "", agg: 0, first: 0, fills: 1, T: 0, maker: false };
/** Trade ids start this far above aggregate ids. */
const TRADE_ID_OFFSET = 4_000_000;

export class BinanceGeneratedMarket implements GeneratedFeed, BinanceBooks {
  readonly venues: readonly ("binance_spot" | "binance_derivatives")[];
  readonly size: number;
  readonly phases: Float64Array;
  readonly passed: Float64Array;
  readonly symbols: string[];
  readonly prices = new Map<string, number>();
  private readonly instruments: Instrument[];
  private readonly index = new Map<string, number>();
  private readonly forceAll: LiveStream = { key: "!forceorder@arr", symbol: "", snapshot: false };

  constructor(
    assets: readonly SimAsset[],
    readonly futures: boolean,
  ) {
    this.venues = [futures ? "binance_derivatives" : "binance_spot"];
    this.instruments = assets.map((a, i) => this.instrument(a, i));
    this.size = this.instruments.length;
    this.symbols = this.instruments.map((m) => m.symbol);
    this.phases = new Float64Array(this.size);
    this.passed = new Float64Array(this.size);
    this.instruments.forEach((m, i) => {
      this.phases[i] = m.seed % 100;
      this.prices.set(m.symbol, m.asset.price);
    });
  }

  private instrument(asset: SimAsset, i: number): Instrument {
    const symbol = `${asset.base}${QUOTE}`;
    const lower = symbol.toLowerCase();
    const seed = hashText(`binance:${this.futures ? "usdm" : "spot"}:${symbol}`);
    const pd = priceDecimals(asset.price);
    const qd = quantityDecimals(asset.price);
    const activity = asset.hot ? ACTIVITY.hot : ACTIVITY.normal;
    const stream = (name: string): LiveStream => ({ key: name.toLowerCase(), symbol, snapshot: false });
    this.index.set(symbol, i);
    return {
      symbol, asset, seed, pd, qd, sizes: this.futures ? LotTexts.of(qd) : LotTexts.of(8, 10 ** (8 - qd)),
      book: new LiveBook(seed, Math.round(asset.price * 10 ** pd), MAX_LOTS, activity.top_levels),
      tape: new TradeTape(seed, activity.trades_per_s, activity.burst_p, activity.burst_scale),
      id_base: 1_000_000_000 + (seed % 100_000_000),
      trade_base: 10_000_000 + (mix(seed, 0, 9) % 1_000_000),
      liquidation_p: activity.liquidation_p,
      depth: stream(`${lower}@depth@100ms`),
      trade: stream(`${lower}@trade`),
      agg: stream(`${lower}@aggTrade`),
      mark1s: stream(`${lower}@markPrice@1s`),
      mark3s: stream(`${lower}@markPrice`),
      force: stream(`${lower}@forceOrder`),
      depth_head: `{"stream":"${lower}@depth@100ms","data":{"e":"depthUpdate","E":`,
      trade_head: `{"stream":"${lower}@trade","data":{"e":"trade","E":`,
      agg_head: `{"stream":"${lower}@aggTrade","data":{"e":"aggTrade","E":`,
    };
  }

  /** Spot writes prices and quantities with 8 decimals ("0.35130000"), USDⓈ-M with the symbol's precision. */
  private price(m: Instrument, tick: number): string {
    return this.futures ? decimalText(tick, m.pd) : decimalText(tick * 10 ** (8 - m.pd), 8);
  }

  private qty(m: Instrument, lots: number): string {
    return m.sizes.text(lots);
  }

  /** Last update id of step `k`. */
  private lastId(m: Instrument, k: number): number {
    return m.id_base + k * IDS_PER_STEP + (mix(m.seed, k, 3) % 16);
  }

  /** First update id of step `k`: spot the previous u + 1, USDⓈ-M a gap of up to 15 after it. */
  private firstId(m: Instrument, k: number): number {
    return this.lastId(m, k - 1) + 1 + (this.futures ? mix(m.seed, k, 4) % 15 : 0);
  }

  step(i: number, k: number, sink: FrameSink): void {
    const m = this.instruments[i];
    if (m === undefined) return;
    const E = stepTime(k, this.phases[i] ?? 0);
    const trades = sink.wants(m.trade) || sink.wants(m.agg) ? m.tape.count(k) : 0;
    for (let j = 0; j < trades; j++) this.trade(m, k, j, E, sink);
    if (sink.wants(m.depth)) sink.emit(m.depth, this.depthText(m, k, E), k);
  }

  private depthText(m: Instrument, k: number, E: number): string {
    const n = m.book.diff(k, CHANGES);
    let bids = "";
    let asks = "";
    sortByTick(CHANGES, n);
    for (let j = 0; j < n; j++) {
      // Spot bids descending (prepended), USDⓈ-M both sides ascending, as the venues send them.
      const c = CHANGES[j] as LevelChange;
      const level = `["${this.price(m, c.tick)}","${this.qty(m, c.lots)}"]`;
      if (c.side === ASK) asks += asks === "" ? level : `,${level}`;
      else if (this.futures) bids += bids === "" ? level : `,${level}`;
      else bids = bids === "" ? level : `${level},${bids}`;
    }
    const U = this.firstId(m, k);
    const u = this.lastId(m, k);
    const head = `${m.depth_head}${E}`;
    if (!this.futures) return `${head},"s":"${m.symbol}","U":${U},"u":${u},"b":[${bids}],"a":[${asks}]}}`;
    const T = E - (mix(m.seed, k, 5) % 5);
    return `${head},"T":${T},"s":"${m.symbol}","U":${U},"u":${u},"pu":${this.lastId(m, k - 1)},"b":[${bids}],"a":[${asks}]}}`;
  }

  /**
   * Trade `j` of step `k` into TRADE: at the top of the book, a taker buy lifts the best ask, a
   * sell hits the best bid. The stream's frames and the REST history render it from here.
   */
  private tradeAt(m: Instrument, k: number, j: number, E: number): GeneratedTrade {
    const packed = m.tape.trade(k, j, MAX_TRADE_LOTS);
    const buy = (packed & 1) === 1;
    const c = m.book.centre(k);
    const seq = k * MAX_TRADES_PER_STEP + j;
    TRADE.p = this.price(m, buy ? c + 1 : c - 1);
    TRADE.q = this.qty(m, packed >> 1);
    TRADE.agg = m.trade_base + seq;
    // Trade ids run ahead of aggregate ids, as on the venue (NKNUSDT: a 15683430, f 19862790); an aggregate holds up to 4.
    TRADE.first = m.trade_base + TRADE_ID_OFFSET + seq * 4;
    TRADE.fills = this.futures ? 1 + (mix(m.seed, k, 64 + j) % 3) : 1;
    TRADE.T = E - 1;
    TRADE.maker = !buy;
    return TRADE;
  }

  private trade(m: Instrument, k: number, j: number, E: number, sink: FrameSink): void {
    const t = this.tradeAt(m, k, j, E);
    if (sink.wants(m.agg)) {
      const tail = this.futures ? "" : `,"M":true`;
      const body = `"a":${t.agg},"s":"${m.symbol}","p":"${t.p}","q":"${t.q}","f":${t.first},"l":${t.first + t.fills - 1},"T":${t.T},"m":${t.maker}${tail}}}`;
      sink.emit(m.agg, `${m.agg_head}${E},${body}`, k);
    }
    if (!this.futures && sink.wants(m.trade)) {
      sink.emit(m.trade, `${m.trade_head}${E},"s":"${m.symbol}","t":${t.first},"p":"${t.p}","q":"${t.q}","T":${t.T},"m":${t.maker},"M":true}}`, k);
    }
  }

  /**
   * `GET /api/v3/historicalTrades` (spot: the `<s>@trade` ids) or `GET /fapi/v1/aggTrades`
   * (USDⓈ-M: the `<s>@aggTrade` ids) from `fromId` (inclusive; without it the newest), at most
   * `limit` (max 1000) oldest first, up to the step the stream has passed (generated-trades.ts):
   * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#old-trade-lookup,
   * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Compressed-Aggregate-Trades-List
   */
  private tradeHistory(query: URLSearchParams): string | undefined {
    const i = this.index.get(query.get("symbol") ?? "");
    const m = i === undefined ? undefined : this.instruments[i];
    if (i === undefined || m === undefined) return undefined;
    const limit = Math.min(1000, Math.max(1, Number(query.get("limit") ?? 500) || 500));
    const last_k = this.passed[i] ?? 0;
    const from = query.get("fromId");
    let seqs: number[];
    if (from === null) seqs = tradeSeqsBefore(m.tape, undefined, last_k, limit).reverse();
    else {
      // Spot trade ids step by 4 (see tradeAt): the first trade at or after `fromId`.
      const id = Number(from) - m.trade_base - (this.futures ? 0 : TRADE_ID_OFFSET);
      seqs = tradeSeqsFrom(m.tape, Math.max(0, this.futures ? id : Math.ceil(id / 4)), last_k, limit);
    }
    const phase = this.phases[i] ?? 0;
    const rows = seqs.map((seq) => {
      const { k, j } = tradeStep(seq);
      const t = this.tradeAt(m, k, j, stepTime(k, phase));
      if (this.futures) return `{"a":${t.agg},"p":"${t.p}","q":"${t.q}","f":${t.first},"l":${t.first + t.fills - 1},"T":${t.T},"m":${t.maker}}`;
      const quote = (Number(t.p) * Number(t.q)).toFixed(8);
      return `{"id":${t.first},"price":"${t.p}","qty":"${t.q}","quoteQty":"${quote}","time":${t.T},"isBuyerMaker":${t.maker},"isBestMatch":true}`;
    });
    return `[${rows.join(",")}]`;
  }

  second(second_ms: number, sink: FrameSink): void {
    if (!this.futures) return;
    const n = Math.floor(second_ms / 1000);
    const envelope = (stream: string, data: string): string => `{"stream":"${stream}","data":${data}}`;
    for (const m of this.instruments) {
      const lower = m.depth.key.slice(0, m.depth.key.indexOf("@"));
      if (sink.wants(m.mark1s)) sink.emit(m.mark1s, envelope(`${lower}@markPrice@1s`, synth.binanceMarkPrice(m.symbol, m.asset.price, second_ms, n)), 0);
      if (n % 3 === 0 && sink.wants(m.mark3s)) sink.emit(m.mark3s, envelope(`${lower}@markPrice`, synth.binanceMarkPrice(m.symbol, m.asset.price, second_ms, n)), 0);
      if (mix(m.seed, n, 11) / 4294967296 >= m.liquidation_p) continue;
      const order = synth.binanceForceOrder(m.symbol, m.asset.price, second_ms, n);
      if (sink.wants(m.force)) sink.emit(m.force, envelope(`${lower}@forceOrder`, order), 0);
      if (sink.wants(this.forceAll)) sink.emit(this.forceAll, envelope("!forceOrder@arr", order), 0);
    }
  }

  depthBody(symbol: string, limit: number, now_ms: number): string | undefined {
    const i = this.index.get(symbol);
    const m = i === undefined ? undefined : this.instruments[i];
    if (i === undefined || m === undefined) return undefined;
    return this.snapshotBody(m, this.passed[i] ?? 0, limit, now_ms);
  }

  /**
   * The book after step `k`: spot lastUpdateId = u of step k (the next diff has U = it + 1);
   * USDⓈ-M lastUpdateId = U of step k + 1 (U <= lastUpdateId <= u, the documented bridge).
   */
  private snapshotBody(m: Instrument, k: number, limit: number, now_ms: number): string {
    const side = (s: number): string => {
      const n = m.book.levels(s, k, limit, LEVELS);
      let out = "";
      for (let j = 0; j < n; j++) {
        const l = LEVELS[j] as LevelChange;
        out += `${j === 0 ? "" : ","}["${this.price(m, l.tick)}","${this.qty(m, l.lots)}"]`;
      }
      return `[${out}]`;
    };
    if (!this.futures) return `{"lastUpdateId":${this.lastId(m, k)},"bids":${side(BID)},"asks":${side(ASK)}}`;
    return `{"lastUpdateId":${this.firstId(m, k + 1)},"E":${now_ms},"T":${now_ms},"bids":${side(BID)},"asks":${side(ASK)}}`;
  }

  /**
   * `GET /api/v3/ticker/24hr` or `/fapi/v1/ticker/24hr` (`symbol`, spot also `symbols=["A","B"]`)
   * and the trade history (tradeHistory), or undefined for other paths.
   */
  rest(path: string, query: URLSearchParams, now_ms: number, unlisted: ReadonlySet<string>): Response | undefined {
    const json = (body: string, status = 200): Response => new Response(body, { status, headers: { "content-type": "application/json" } });
    if (path === (this.futures ? "/fapi/v1/aggTrades" : "/api/v3/historicalTrades")) {
      const body = this.tradeHistory(query);
      return body === undefined ? json(JSON.stringify({ code: -1121, msg: "Invalid symbol." }), 400) : json(body);
    }
    if (path !== (this.futures ? "/fapi/v1/ticker/24hr" : "/api/v3/ticker/24hr")) return undefined;
    const one = query.get("symbol");
    const many = this.futures ? null : query.get("symbols");
    let wanted: string[];
    try {
      wanted = one !== null ? [one] : many !== null ? (JSON.parse(many) as unknown[]).map(String) : this.symbols.filter((s) => !unlisted.has(s));
    } catch {
      return json(JSON.stringify({ code: -1100, msg: "Illegal characters found in parameter 'symbols'." }), 400);
    }
    const rows: string[] = [];
    for (const s of wanted) {
      const i = this.index.get(s);
      const m = i === undefined || unlisted.has(s) ? undefined : this.instruments[i];
      if (m === undefined) return json(JSON.stringify({ code: -1121, msg: "Invalid symbol." }), 400);
      rows.push(this.ticker(m, now_ms));
    }
    return json(one !== null ? (rows[0] ?? "{}") : `[${rows.join(",")}]`);
  }

  /** The rolling 24 h statistics of `m` at `now_ms`, a function of the time alone. */
  private ticker(m: Instrument, now_ms: number): string {
    const k = stepAt(now_ms, 0);
    const last = m.book.centre(k);
    const open = m.book.centre(k - DAY_STEPS);
    const quote = m.asset.quote_volume_24h * (this.futures ? FUTURES_VOLUME : 1);
    const count = Math.round(quote / (m.asset.price * 25));
    const px = (tick: number): string => this.price(m, tick);
    const change = last - open;
    const body: Record<string, unknown> = {
      symbol: m.symbol,
      priceChange: change < 0 ? `-${px(-change)}` : px(change),
      priceChangePercent: ((change / open) * 100).toFixed(3),
      weightedAvgPrice: px(Math.round((last + open) / 2)),
    };
    if (!this.futures) body.prevClosePrice = px(open);
    Object.assign(body, { lastPrice: px(last), lastQty: this.qty(m, 1 + (mix(m.seed, k, 12) % MAX_TRADE_LOTS)) });
    if (!this.futures) Object.assign(body, { bidPrice: px(last - 1), bidQty: this.qty(m, 1), askPrice: px(last + 1), askQty: this.qty(m, 1) });
    const firstId = m.trade_base + (k - DAY_STEPS) * MAX_TRADES_PER_STEP;
    Object.assign(body, {
      openPrice: px(open), highPrice: px(Math.max(open, last) + 40), lowPrice: px(Math.min(open, last) - 40),
      volume: (quote / m.asset.price).toFixed(m.qd), quoteVolume: quote.toFixed(2),
      openTime: now_ms - 86_400_000, closeTime: now_ms, firstId, lastId: firstId + count - 1, count,
    });
    return JSON.stringify(body);
  }

  /** The recording of steps 1..GENERATED_STEPS: a REST snapshot after step 0, then every trade and diff. */
  recordingLines(): RecordedLine[] {
    const out: RecordedLine[] = [];
    const rest = this.futures ? "https://fapi.binance.com/fapi/v1/depth" : "https://api.binance.com/api/v3/depth";
    const wsDepth = this.futures ? "wss://fstream.binance.com/public/stream" : "wss://stream.binance.com:9443/stream";
    const wsTrade = this.futures ? "wss://fstream.binance.com/market/stream" : wsDepth;
    const all: LiveStream[] = [];
    const sink: FrameSink = {
      wants: (s) => s === all[0] || s === all[1] || s === all[2],
      emit: (s, text, k) => out.push({ source: "ws", url: s.key.includes("@depth") ? wsDepth : wsTrade, recv_ts: stepTime(k, 0) / 1000, raw: text }),
    };
    this.instruments.forEach((m, i) => {
      this.phases[i] = 0;
      out.push({ source: "http", url: `${rest}?symbol=${m.symbol}&limit=1000`, recv_ts: GENERATED_T0_MS / 1000, raw: this.snapshotBody(m, 0, 1000, GENERATED_T0_MS) });
      all.length = 0;
      all.push(m.depth, this.futures ? m.agg : m.trade);
      for (let k = 1; k <= GENERATED_STEPS; k++) this.step(i, k, sink);
    });
    // Stable: one symbol's lines keep their order, symbols interleave by time as on one connection.
    return out.sort((x, y) => x.recv_ts - y.recv_ts);
  }

  /** exchangeInfo listing exactly the generated symbols (sim-exchange-info.ts). */
  exchangeInfo(): RecordedLine {
    return generatedExchangeInfo(this.futures, this.instruments.map((m) => ({ symbol: m.symbol, base: m.asset.base, quote: QUOTE, pd: m.pd, qd: m.qd })));
  }
}

/** Binance's part of the built-in generator: the fixture files its recordings and reference bodies would be. */
export const binanceGenerator: SimGenerator = {
  files(assets) {
    const spot = (): BinanceGeneratedMarket => new BinanceGeneratedMarket(assets, false);
    const futures = (): BinanceGeneratedMarket => new BinanceGeneratedMarket(assets, true);
    return new Map([
      ["binance_spot.jsonl", () => spot().recordingLines()],
      ["binance_derivatives.jsonl", () => futures().recordingLines()],
      ["reference/binance_spot_exchangeInfo.jsonl", () => [spot().exchangeInfo()]],
      ["reference/binance_derivatives_exchangeInfo.jsonl", () => [futures().exchangeInfo()]],
    ]);
  },
};
