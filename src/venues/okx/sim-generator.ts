import { crc32 } from "node:zlib";
import {
  ACTIVITY,
  ASK,
  BID,
  BOOK_LEVELS,
  decimalText,
  GENERATED_STEPS,
  GENERATED_T0_MS,
  hashText,
  LiveBook,
  LotTexts,
  MAX_TRADES_PER_STEP,
  mix,
  priceDecimals,
  quantityDecimals,
  sortByTick,
  stepAt,
  stepTime,
  TradeTape,
  type LevelChange,
  type SimAsset,
} from "../../replay/generated-book.ts";
import { tradeSeqsBefore, tradeStep } from "../../replay/generated-trades.ts";
import type { FrameSink, GeneratedFeed, LiveStream } from "../../replay/live-feed.ts";
import type { OkxMarkets } from "./sim-rest.ts";
import type { RecordedLine } from "../../replay/recording.ts";
import type { SimGenerator } from "../../replay/sim-venue.ts";
import * as synth from "./sim-synthetic.ts";

/**
 * Generated OKX v5 public markets for the simulator (SPOT `BASE-USDT` and SWAP
 * `BASE-USDT-SWAP` for every asset), rendered per step on demand (src/replay/generated-book.ts,
 * src/replay/live-feed.ts), in today's documented shapes:
 * - `books`: a `snapshot` push of the current step to each new subscriber, then an `update`
 *   every 100 ms, each with `seqId`, `prevSeqId` (-1 on the snapshot, the previous `seqId` after
 *   it) and the signed CRC32 of the top 25 levels after it is applied:
 *   https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 * - `trades`, one push per step carrying that step's trades ("every update may aggregate
 *   multiple trades"), with rising `tradeId`:
 *   https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
 * - at the live rate, `funding-rate` every 30 s (the docs: "pushed in 30s to 90s"),
 *   `open-interest` every 3 s, `mark-price` and `index-tickers` every second, and
 *   `liquidation-orders` (instType SWAP) at most one per instrument a second:
 *   https://www.okx.com/docs-v5/en/#public-data-websocket-funding-rate-channel,
 *   https://www.okx.com/docs-v5/en/#public-data-websocket-open-interest-channel,
 *   https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-channel,
 *   https://www.okx.com/docs-v5/en/#public-data-websocket-index-tickers-channel,
 *   https://www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel;
 *   the values of a second equal the REST open interest and funding rate of that second (sim-synthetic.ts).
 * - `GET /api/v5/public/instruments?instType=SPOT|SWAP` listing exactly those instruments:
 *   https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments
 * - `GET /api/v5/market/tickers?instType=` and `/api/v5/market/ticker?instId=` (20 requests per
 *   2 s per IP, okx/rest-weights.ts), deterministic, hot instruments the top by volume; SPOT
 *   `volCcy24h` is in the quote currency, SWAP `volCcy24h` in the base currency (`vol24h` in
 *   contracts): https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-tickers
 */

const QUOTE = "USDT";
const CHECKSUM_LEVELS = 25;
const WS_URL = "wss://ws.okx.com:8443/ws/v5/public";
/** Quote volume against the assets' reference (Binance spot) volume: spot, swap. */
const SPOT_VOLUME = 0.5;
const SWAP_VOLUME = 1.5;
const DAY_STEPS = 864_000;

interface Instrument {
  /** Position in the feed's instruments. */
  readonly pos: number;
  readonly instId: string;
  readonly swap: boolean;
  readonly asset: SimAsset;
  readonly seed: number;
  readonly pd: number;
  /** Spot: base-currency decimals; swap: sizes are whole contracts. */
  readonly qd: number;
  readonly sizes: LotTexts;
  readonly max_trade_lots: number;
  readonly book: LiveBook;
  readonly tape: TradeTape;
  readonly seq_base: number;
  readonly trade_base: number;
  readonly liquidation_p: number;
  readonly books: LiveStream;
  readonly trades: LiveStream;
  readonly funding: LiveStream;
  readonly mark: LiveStream;
  readonly index: LiveStream;
  readonly interest: LiveStream;
  /** `{"arg":{"channel":"books","instId":"…"},"action":"update","data":[{` */
  readonly books_head: string;
  readonly trades_head: string;
}

const CHANGES: LevelChange[] = [];
const LEVELS: LevelChange[] = [];

export class OkxGeneratedMarket implements GeneratedFeed, OkxMarkets {
  readonly venues = ["okx_spot", "okx_derivatives"] as const;
  readonly size: number;
  readonly phases: Float64Array;
  readonly passed: Float64Array;
  readonly instruments: string[];
  readonly prices = new Map<string, number>();
  private readonly insts: Instrument[];
  private readonly byId = new Map<string, Instrument>();
  private readonly liquidations: LiveStream = { key: "liquidation-orders:SWAP", symbol: "", snapshot: false };

  constructor(assets: readonly SimAsset[]) {
    this.insts = assets.flatMap((a, i) => [this.instrument(a, false, 2 * i), this.instrument(a, true, 2 * i + 1)]);
    this.size = this.insts.length;
    this.instruments = this.insts.map((i) => i.instId);
    this.phases = new Float64Array(this.size);
    this.passed = new Float64Array(this.size);
    this.insts.forEach((m, i) => {
      this.phases[i] = m.seed % 100;
      this.prices.set(m.instId, m.asset.price);
      this.byId.set(m.instId, m);
    });
  }

  private instrument(asset: SimAsset, swap: boolean, pos: number): Instrument {
    const spot = `${asset.base}-${QUOTE}`;
    const instId = swap ? `${spot}-SWAP` : spot;
    const seed = hashText(`okx:${instId}`);
    const pd = priceDecimals(asset.price);
    const qd = swap ? 0 : quantityDecimals(asset.price);
    const activity = asset.hot ? ACTIVITY.hot : ACTIVITY.normal;
    const stream = (channel: string, id = instId): LiveStream => ({ key: `${channel}:${id}`, symbol: instId, snapshot: false });
    const m: Instrument = {
      pos, instId, swap, asset, seed, pd, qd, sizes: LotTexts.of(qd), max_trade_lots: swap ? 20 : 50,
      book: new LiveBook(seed, Math.round(asset.price * 10 ** pd), swap ? 500 : 2000, activity.top_levels),
      tape: new TradeTape(seed, activity.trades_per_s, activity.burst_p, activity.burst_scale),
      seq_base: 10_000_000_000 + (seed % 1_000_000_000),
      trade_base: 100_000_000 + (mix(seed, 0, 9) % 100_000_000),
      liquidation_p: activity.liquidation_p,
      books: { key: `books:${instId}`, symbol: instId, snapshot: false, snapshotText: (k) => this.snapshotText(m, k) },
      trades: stream("trades"),
      funding: stream("funding-rate"),
      mark: stream("mark-price"),
      index: stream("index-tickers", spot),
      interest: stream("open-interest"),
      books_head: `{"arg":{"channel":"books","instId":"${instId}"},"action":"update","data":[{`,
      trades_head: `{"arg":{"channel":"trades","instId":"${instId}"},"data":[`,
    };
    return m;
  }

  private px(m: Instrument, tick: number): string {
    return decimalText(tick, m.pd);
  }

  private sz(m: Instrument, lots: number): string {
    return m.sizes.text(lots);
  }

  private seqId(m: Instrument, k: number): number {
    return m.seq_base + k * 32 + (mix(m.seed, k, 3) % 30);
  }

  /** Signed CRC32 of `bid1Px:bid1Sz:ask1Px:ask1Sz:…` over the top 25 levels of step `k` (the docs' "Checksum"). */
  private checksum(m: Instrument, k: number): number {
    const nb = m.book.levels(BID, k, CHECKSUM_LEVELS, LEVELS);
    const bids: string[] = [];
    for (let j = 0; j < nb; j++) bids.push(`${this.px(m, (LEVELS[j] as LevelChange).tick)}:${this.sz(m, (LEVELS[j] as LevelChange).lots)}`);
    const na = m.book.levels(ASK, k, CHECKSUM_LEVELS, LEVELS);
    let text = "";
    for (let j = 0; j < Math.max(nb, na); j++) {
      const b = bids[j];
      const a = j < na ? LEVELS[j] : undefined;
      if (b !== undefined) text += text === "" ? b : `:${b}`;
      if (a !== undefined) text += `${text === "" ? "" : ":"}${this.px(m, a.tick)}:${this.sz(m, a.lots)}`;
    }
    return crc32(text) | 0;
  }

  /** `[px, sz, "0", orders]`; size "0" deletes a level (the third field is deprecated and always "0"). */
  private level(m: Instrument, l: LevelChange): string {
    if (l.lots === 0) return `["${this.px(m, l.tick)}","0","0","0"]`;
    return `["${this.px(m, l.tick)}","${this.sz(m, l.lots)}","0","${1 + (mix(m.seed, l.tick, l.lots) % 12)}"]`;
  }

  step(i: number, k: number, sink: FrameSink): void {
    const m = this.insts[i];
    if (m === undefined) return;
    const ts = stepTime(k, this.phases[i] ?? 0);
    if (sink.wants(m.trades)) {
      const n = m.tape.count(k);
      if (n > 0) sink.emit(m.trades, this.tradesText(m, k, n, ts), k);
    }
    if (sink.wants(m.books)) sink.emit(m.books, this.updateText(m, k, ts), k);
  }

  private tradesText(m: Instrument, k: number, n: number, ts: number): string {
    const c = m.book.centre(k);
    let rows = "";
    for (let j = 0; j < n; j++) {
      const row = this.tradeRow(m, k, j, ts, c);
      rows += j === 0 ? row : `,${row}`;
    }
    return `${m.trades_head}${rows}]}`;
  }

  /** Trade `j` of step `k` (event time `ts`, book centre `c`), as the `trades` push and the REST history carry it. */
  private tradeRow(m: Instrument, k: number, j: number, ts: number, c: number): string {
    const packed = m.tape.trade(k, j, m.max_trade_lots);
    const buy = (packed & 1) === 1;
    return `{"instId":"${m.instId}","tradeId":"${m.trade_base + k * MAX_TRADES_PER_STEP + j}","px":"${this.px(m, buy ? c + 1 : c - 1)}","sz":"${this.sz(m, packed >> 1)}","side":"${buy ? "buy" : "sell"}","ts":"${ts - 1}","count":"1"}`;
  }

  /**
   * `GET /api/v5/market/history-trades?instId=&type=1&after=` : trades older than `after`
   * (without it the newest), newest first, at most `limit` (max 100), up to the step the stream
   * has passed (generated-trades.ts). Paging by timestamp (`type=2`) is not served.
   * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades-history
   */
  private tradeHistory(query: URLSearchParams): Response {
    const json = (body: object, status = 200): Response => Response.json(body, { status });
    const m = this.byId.get(query.get("instId") ?? "");
    if (m === undefined) return json({ code: "51001", data: [], msg: "Instrument ID does not exist." }, 400);
    if ((query.get("type") ?? "1") !== "1") return json({ code: "51000", data: [], msg: "Parameter type error" }, 400);
    const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 100) || 100));
    const after = query.get("after");
    const before_seq = after === null ? undefined : Number(after) - m.trade_base;
    const phase = this.phases[m.pos] ?? 0;
    const rows = tradeSeqsBefore(m.tape, before_seq, this.passed[m.pos] ?? 0, limit).map((seq) => {
      const { k, j } = tradeStep(seq);
      return this.tradeRow(m, k, j, stepTime(k, phase), m.book.centre(k));
    });
    return new Response(`{"code":"0","msg":"","data":[${rows.join(",")}]}`, { headers: { "content-type": "application/json" } });
  }

  private updateText(m: Instrument, k: number, ts: number): string {
    const n = m.book.diff(k, CHANGES);
    sortByTick(CHANGES, n);
    let asks = "";
    let bids = "";
    for (let j = 0; j < n; j++) {
      const c = CHANGES[j] as LevelChange;
      const level = this.level(m, c);
      // Asks ascending, bids descending (prepended).
      if (c.side === ASK) asks += asks === "" ? level : `,${level}`;
      else bids = bids === "" ? level : `${level},${bids}`;
    }
    return `${m.books_head}"asks":[${asks}],"bids":[${bids}],"ts":"${ts}","checksum":${this.checksum(m, k)},"prevSeqId":${this.seqId(m, k - 1)},"seqId":${this.seqId(m, k)}}]}`;
  }

  /** The full book after step `k` as the `snapshot` push a new subscriber gets first. */
  private snapshotText(m: Instrument, k: number): string {
    const side = (s: number): string => {
      const n = m.book.levels(s, k, BOOK_LEVELS, LEVELS);
      let out = "";
      for (let j = 0; j < n; j++) out += `${j === 0 ? "" : ","}${this.level(m, LEVELS[j] as LevelChange)}`;
      return `[${out}]`;
    };
    const asks = side(ASK);
    const bids = side(BID);
    const ts = stepTime(k, this.phases[m.pos] ?? 0);
    return `{"arg":{"channel":"books","instId":"${m.instId}"},"action":"snapshot","data":[{"asks":${asks},"bids":${bids},"ts":"${ts}","checksum":${this.checksum(m, k)},"prevSeqId":-1,"seqId":${this.seqId(m, k)}}]}`;
  }

  second(second_ms: number, sink: FrameSink): void {
    const n = Math.floor(second_ms / 1000);
    const push = (stream: LiveStream, arg: object, data: object): void => {
      sink.emit(stream, JSON.stringify({ arg, data: [data] }), 0);
    };
    for (const m of this.insts) {
      if (!m.swap) continue;
      const price = m.asset.price;
      if (n % 30 === 0 && sink.wants(m.funding)) push(m.funding, { channel: "funding-rate", instId: m.instId }, synth.okxFundingRate(m.instId, second_ms, n));
      if (sink.wants(m.mark)) push(m.mark, { channel: "mark-price", instId: m.instId }, synth.okxMarkPrice(m.instId, price, second_ms, n));
      const index = m.index.key.slice("index-tickers:".length);
      if (sink.wants(m.index)) push(m.index, { channel: "index-tickers", instId: index }, synth.okxIndexTicker(index, price, second_ms, n));
      if (n % 3 === 0 && sink.wants(m.interest)) push(m.interest, { channel: "open-interest", instId: m.instId }, synth.okxOpenInterest(m.instId, price, second_ms, n));
      if (sink.wants(this.liquidations) && mix(m.seed, n, 11) / 4294967296 < m.liquidation_p) {
        push(this.liquidations, { channel: "liquidation-orders", instType: "SWAP" }, synth.okxLiquidation(m.instId, price, second_ms, n));
      }
    }
  }

  /** `GET /api/v5/market/tickers?instType=SPOT|SWAP` and `/api/v5/market/ticker?instId=`, or undefined for other paths. */
  rest(path: string, query: URLSearchParams, now_ms: number, unlisted: ReadonlySet<string>): Response | undefined {
    const json = (body: object, status = 200): Response => Response.json(body, { status });
    if (path === "/api/v5/market/history-trades") return this.tradeHistory(query);
    if (path === "/api/v5/market/ticker") {
      const id = query.get("instId") ?? "";
      const m = unlisted.has(id) ? undefined : this.byId.get(id);
      if (m === undefined) return json({ code: "51001", data: [], msg: "Instrument ID does not exist." }, 400);
      return json({ code: "0", msg: "", data: [this.ticker(m, now_ms)] });
    }
    if (path !== "/api/v5/market/tickers") return undefined;
    const type = query.get("instType");
    if (type !== "SPOT" && type !== "SWAP") return json({ code: "51000", data: [], msg: "Parameter instType error" }, 400);
    const listed = this.insts.filter((m) => m.swap === (type === "SWAP") && !unlisted.has(m.instId));
    return json({ code: "0", msg: "", data: listed.map((m) => this.ticker(m, now_ms)) });
  }

  private ticker(m: Instrument, now_ms: number): object {
    const k = stepAt(now_ms, 0);
    const last = m.book.centre(k);
    const open = m.book.centre(k - DAY_STEPS);
    const lastPx = last * 10 ** -m.pd;
    const quote = m.asset.quote_volume_24h * (m.swap ? SWAP_VOLUME : SPOT_VOLUME);
    const base = quote / lastPx;
    const ctVal = 10 ** -quantityDecimals(m.asset.price);
    const px = (tick: number): string => this.px(m, tick);
    return {
      instType: m.swap ? "SWAP" : "SPOT", instId: m.instId, last: px(last), lastSz: this.sz(m, 1 + (mix(m.seed, k, 12) % m.max_trade_lots)),
      askPx: px(last + 1), askSz: this.sz(m, 1), bidPx: px(last - 1), bidSz: this.sz(m, 1),
      open24h: px(open), high24h: px(Math.max(open, last) + 40), low24h: px(Math.min(open, last) - 40),
      volCcy24h: m.swap ? base.toFixed(4) : quote.toFixed(2), vol24h: m.swap ? (base / ctVal).toFixed(0) : base.toFixed(m.qd),
      ts: String(now_ms), sodUtc0: px(open), sodUtc8: px(open),
    };
  }

  /** The recording of steps 1..GENERATED_STEPS: each book's snapshot after step 0, then every trade and update. */
  recordingLines(): RecordedLine[] {
    const out: RecordedLine[] = [];
    const wanted = new Set<LiveStream>();
    const sink: FrameSink = {
      wants: (s) => wanted.has(s),
      emit: (_s, text, k) => out.push({ source: "ws", url: WS_URL, recv_ts: stepTime(k, 0) / 1000, raw: text }),
    };
    this.insts.forEach((m, i) => {
      this.phases[i] = 0;
      out.push({ source: "ws", url: WS_URL, recv_ts: GENERATED_T0_MS / 1000, raw: this.snapshotText(m, 0) });
      wanted.clear();
      wanted.add(m.books).add(m.trades);
      for (let k = 1; k <= GENERATED_STEPS; k++) this.step(i, k, sink);
    });
    return out.sort((x, y) => x.recv_ts - y.recv_ts);
  }

  instrumentsLines(): RecordedLine[] {
    return [false, true].map((swap) => {
      const data = this.insts
        .filter((i) => i.swap === swap)
        .map((i) => {
          const family = `${i.asset.base}-${QUOTE}`;
          const common = {
            instType: swap ? "SWAP" : "SPOT", instId: i.instId, state: "live", tickSz: decimalText(1, i.pd), listTime: String(GENERATED_T0_MS),
            alias: "", expTime: "", optType: "", stk: "", lever: swap ? "100" : "10",
          };
          return swap
            ? { ...common, uly: family, instFamily: family, baseCcy: "", quoteCcy: "", settleCcy: QUOTE, ctType: "linear",
                ctVal: decimalText(1, quantityDecimals(i.asset.price)), ctValCcy: i.asset.base, ctMult: "1", lotSz: "1", minSz: "1" }
            : { ...common, uly: "", instFamily: "", baseCcy: i.asset.base, quoteCcy: QUOTE, settleCcy: "", ctType: "", ctVal: "",
                ctValCcy: "", ctMult: "", lotSz: decimalText(1, i.qd), minSz: decimalText(1, i.qd) };
        });
      return {
        source: "http" as const,
        url: `https://www.okx.com/api/v5/public/instruments?instType=${swap ? "SWAP" : "SPOT"}`,
        recv_ts: GENERATED_T0_MS / 1000,
        raw: JSON.stringify({ code: "0", data, msg: "" }),
      };
    });
  }
}

/** OKX's part of the built-in generator: the fixture files its recording and reference bodies would be. */
export const okxGenerator: SimGenerator = {
  files: (assets) =>
    new Map([
      ["okx.jsonl", () => new OkxGeneratedMarket(assets).recordingLines()],
      ["reference/okx_instruments.jsonl", () => new OkxGeneratedMarket(assets).instrumentsLines()],
    ]),
};
