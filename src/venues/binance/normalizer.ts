import { BinanceBookSync, type DepthDiff } from "./book-sync.ts";
import type { DataType, Exchange, MarketRecord } from "../../records/types.ts";
import {
  countError,
  countUnrecognized,
  countingEmit,
  emptyStats,
  isLevelList,
  isObject,
  isUint,
  parseBookJson,
  parseJson,
  queryParam,
  toUint,
  urlPath,
} from "../normalizer-stats.ts";
import { SymbolScope } from "../symbol-scope.ts";
import { NO_REQUESTS, type BookHealth, type BookVerdict, type Instrument, type Normalizer, type NormalizerOptions, type RawFrame } from "../types.ts";
import type { BinanceVenue } from "./channels.ts";
import { BinancePolls } from "./polls.ts";
import { restTrades } from "./rest-trades.ts";
import { forceOrderOf, isDepthUpdate, isTrade, type MarkPrice, markPriceFromRest, markPriceFromWs } from "./wire.ts";

/**
 * Binance spot and USDⓈ-M frames -> normalized records. Frames come from the combined stream
 * (`{"stream","data"}`), a raw stream, or REST bodies routed by URL path (`/depth`,
 * `/premiumIndex`, `/openInterest`, `/futures/data/*`, and the trade pages a backfill fetches:
 * `/historicalTrades`, `/aggTrades`).
 * https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 */

const EXCHANGE: Exchange = "binance";

/** Event types that are recognized but carry no record here. */
const IGNORED_EVENTS = new Set(["kline", "bookTicker", "24hrTicker", "24hrMiniTicker", "continuous_kline", "indexPriceUpdate"]);

const COMBINED_PREFIX = '{"stream":"';

/**
 * Whether a combined-stream frame belongs to a stream that carries no record here
 * (`<s>@bookTicker`, `<s>@kline_<interval>`), told from the stream name at the start of the
 * text so such a frame costs no JSON.parse. bookTicker is 40 % of a USDⓈ-M recording's frames;
 * skipping their parse took normalize from 0.63 to 0.70 × the bare JSON.parse loop (medians of 9 interleaved runs)
 * (bench/normalize.bench.ts). A frame cut short (no closing `}}`) still goes through the parser,
 * so malformed text is counted as an error exactly as before.
 */
function ignoredStream(raw: string): boolean {
  if (!raw.startsWith(COMBINED_PREFIX)) return false;
  const start = COMBINED_PREFIX.length;
  const end = raw.indexOf('"', start);
  const at = raw.indexOf("@", start);
  if (end < 0 || at < 0 || at > end) return false;
  const kind = raw.slice(at + 1, end);
  return (kind === "bookTicker" || kind.startsWith("kline_")) && raw.endsWith("}}");
}

/** A depth diff: a combined-stream frame of a `<s>@depth…` stream, or a raw `depthUpdate` event. */
function depthStream(raw: string): boolean {
  if (!raw.startsWith(COMBINED_PREFIX)) return raw.startsWith('{"e":"depthUpdate"');
  const end = raw.indexOf('"', COMBINED_PREFIX.length);
  const at = raw.indexOf("@depth", COMBINED_PREFIX.length);
  return at >= 0 && at < end;
}

export class BinanceNormalizer implements Normalizer {
  readonly stats = emptyStats();
  private readonly emit: (r: MarketRecord) => void;
  private readonly scope: SymbolScope;
  private readonly futures: boolean;
  private readonly books = new Map<string, BinanceBookSync>();
  private readonly snapshotQueue = new Set<BinanceBookSync>();
  private readonly wants: Readonly<Record<DataType, boolean>>;
  /** Latest mark price per native symbol, for open_interest_value. */
  private readonly markPrices = new Map<string, string>();
  private readonly polls: BinancePolls;

  constructor(
    venue: BinanceVenue,
    private readonly options: NormalizerOptions,
  ) {
    this.futures = venue === "binance_derivatives";
    this.scope = new SymbolScope(options, this.futures ? "perpetual" : "spot");
    this.emit = countingEmit(this.stats, options.emit);
    this.polls = new BinancePolls((native, type) => this.instrument(native, type), this.markPrices, this.stats, this.emit);
    const wants = {} as Record<DataType, boolean>;
    for (const t of options.data_types) wants[t] = true;
    this.wants = wants;
    if (this.wants.orderbook) for (const s of options.symbols) this.bookFor(s);
  }

  push(frame: RawFrame): void {
    this.stats.frames++;
    if (frame.source !== "http" && ignoredStream(frame.raw)) {
      this.stats.ignored++;
      return;
    }
    const books = frame.source === "http" ? urlPath(frame.url).endsWith("/depth") : depthStream(frame.raw);
    const msg = books ? parseBookJson(frame.raw) : parseJson(frame.raw);
    if (msg === undefined) return countError(this.stats, "json");
    if (frame.source === "http") return this.rest(frame, msg);
    if (!isObject(msg)) return countUnrecognized(this.stats, "unknown");
    let data: unknown = msg;
    if (typeof msg.stream === "string") data = msg.data;
    else if ("result" in msg && "id" in msg) {
      this.stats.ignored++; // subscribe / list-subscriptions reply
      return;
    }
    if (Array.isArray(data)) {
      // `!markPrice@arr`-style streams: one event per element; an empty list carries nothing.
      if (data.length === 0) this.stats.ignored++;
      for (const d of data) this.event(d, frame.recv_ts_ms);
      return;
    }
    this.event(data, frame.recv_ts_ms);
  }

  takeSnapshotRequests(): readonly string[] {
    if (this.snapshotQueue.size === 0) return NO_REQUESTS;
    const out: string[] = [];
    for (const book of this.snapshotQueue) {
      if (book.snapshotWanted) {
        book.snapshotWanted = false;
        out.push(book.native);
      }
    }
    this.snapshotQueue.clear();
    return out;
  }

  snapshotSent(native: string, sent_ms: number): void {
    this.books.get(native)?.snapshotSent(sent_ms);
  }

  takeResubscribeRequests(): readonly string[] {
    return NO_REQUESTS;
  }

  setSymbols(symbols: readonly string[]): void {
    this.scope.setSymbols(symbols);
    for (const [native, book] of this.books) {
      if (this.scope.get(native) !== undefined) continue;
      this.books.delete(native);
      this.snapshotQueue.delete(book);
    }
    if (this.wants.orderbook) for (const s of symbols) this.bookFor(s);
  }

  connectionLost(_recv_ts_ms: number): void {
    // The reconnect gap itself is the connection layer's record; here the chains just restart.
    this.resyncBooks();
  }

  resyncBooks(): void {
    for (const book of this.books.values()) {
      book.restart();
      book.resyncs++;
      this.queueWants(book);
    }
  }

  /**
   * Books whose sync may have asked for a snapshot since the last take: looked at after every
   * call that can set `snapshotWanted`, so the per-frame take walks this, not every book.
   */
  private queueWants(book: BinanceBookSync): void {
    if (book.snapshotWanted) this.snapshotQueue.add(book);
  }

  bookHealth(): BookHealth[] {
    return [...this.books.values()].map((b) => b.health());
  }

  verifyBooks(): BookVerdict[] {
    return [...this.books.values()].map((b) => b.verdict());
  }

  private event(d: unknown, recv: number): void {
    if (!isObject(d)) return countUnrecognized(this.stats, "unknown");
    const e = d.e;
    switch (e) {
      case "depthUpdate":
        return this.depth(d, recv);
      case "aggTrade":
      case "trade":
        return this.trade(d, e, recv);
      case "markPriceUpdate":
        return this.markPrice(markPriceFromWs(d), recv, "markPriceUpdate");
      case "forceOrder":
        return this.liquidation(d, recv);
      default:
        // Spot bookTicker has no `e`: recognized by its fields.
        if ((typeof e === "string" && IGNORED_EVENTS.has(e)) || (e === undefined && "u" in d && "b" in d && "a" in d)) {
          this.stats.ignored++;
          return;
        }
        return countUnrecognized(this.stats, typeof e === "string" ? e : "unknown");
    }
  }

  private instrument(native: unknown, type: DataType): Instrument | undefined {
    if (this.wants[type] !== true || typeof native !== "string") return undefined;
    return this.scope.get(native);
  }

  private bookFor(native: string): BinanceBookSync | undefined {
    let book = this.books.get(native);
    if (book === undefined) {
      const inst = this.scope.get(native);
      if (inst === undefined) return undefined;
      book = new BinanceBookSync(native, inst.symbol, EXCHANGE, inst.market_type);
      book.futures = this.futures;
      if (this.wants.orderbook_delta === true) book.deltas = this.emit;
      this.books.set(native, book);
      this.queueWants(book);
    }
    return book;
  }

  private depth(d: Record<string, unknown>, recv: number): void {
    // Classify before validating: symbols not kept cost no level checks.
    const book = this.wants.orderbook === true && typeof d.s === "string" ? this.bookFor(d.s) : undefined;
    if (book === undefined) {
      if (typeof d.s === "string") this.stats.ignored++;
      else countError(this.stats, "depth");
      return;
    }
    if (!isDepthUpdate(d) || (this.futures && d.pu === undefined)) return countError(this.stats, "depth");
    this.applyDiff(
      book,
      {
        first_id: d.U,
        final_id: d.u,
        prev_final_id: d.pu ?? -1,
        ts_ms: d.E,
        recv_ts_ms: recv,
        bids: d.b,
        asks: d.a,
      },
      false,
    );
  }

  /**
   * `replayed`: a diff buffered before the snapshot, whose frame was counted (absorbed) when it
   * arrived; what it does now counts only when it is a record or bad.
   */
  private applyDiff(book: BinanceBookSync, diff: DepthDiff, replayed: boolean): void {
    const outcome = book.diff(diff);
    this.queueWants(book);
    if (outcome === "applied") {
      if (book.live && book.due(diff.ts_ms, this.options.snapshot_interval_ms))
        this.emit(book.record(diff.ts_ms, diff.recv_ts_ms, diff.final_id, this.options.depth));
      else if (!replayed) this.stats.absorbed++;
    } else if (outcome === "gap") {
      this.emit(book.violation("sequence_gap", diff.ts_ms, diff.recv_ts_ms));
    } else if (outcome === "bad") {
      countError(this.stats, "depth");
      this.emit(book.violation("resync", diff.ts_ms, diff.recv_ts_ms));
    } else if (!replayed) {
      if (outcome === "dropped") this.stats.ignored++;
      else this.stats.absorbed++;
    }
  }

  private snapshot(frame: RawFrame, body: unknown): void {
    const native = queryParam(frame.url, "symbol");
    const book = native === undefined || this.wants.orderbook !== true ? undefined : this.bookFor(native);
    if (book === undefined) {
      this.stats.ignored++;
      return;
    }
    if (!isObject(body) || !isUint(body.lastUpdateId) || !isLevelList(body.bids) || !isLevelList(body.asks)) {
      // Without a snapshot the book never syncs: ask again (the runner paces the requests).
      book.snapshotUnreadable();
      this.queueWants(book);
      return countError(this.stats, "depth_snapshot");
    }
    // Spot snapshots carry no time; USDⓈ-M ones carry E.
    const ts = toUint(body.E) ?? 0;
    const wasLive = book.state === "live";
    const pending = book.snapshot(body.lastUpdateId, body.bids, body.asks, ts);
    this.queueWants(book);
    if (pending === undefined) {
      countError(this.stats, "depth_snapshot");
      if (wasLive) this.emit(book.violation("resync", ts > 0 ? ts : frame.recv_ts_ms, frame.recv_ts_ms));
      return;
    }
    this.stats.absorbed++;
    for (const diff of pending) this.applyDiff(book, diff, true);
  }

  private trade(d: Record<string, unknown>, e: "aggTrade" | "trade", recv: number): void {
    const idKey = e === "aggTrade" ? "a" : "t";
    if (!isTrade(d, idKey)) return countError(this.stats, e);
    const inst = this.instrument(d.s, "trade");
    if (inst === undefined) {
      this.stats.ignored++;
      return;
    }
    this.emit({
      data_type: "trade",
      exchange: EXCHANGE,
      market_type: inst.market_type,
      symbol: inst.symbol,
      ts_ms: d.E,
      recv_ts_ms: recv,
      trade_id: String(d[idKey]),
      price: d.p,
      quantity: d.q,
      // `m` = buyer is maker, so the taker sold.
      side: d.m ? "sell" : "buy",
      is_maker: d.m,
      trade_time: d.T,
    });
  }

  /**
   * Binance publishes one rate: `r` / `lastFundingRate`, the estimate for the settlement at
   * `T` / `nextFundingTime`. So funding_time (the settlement the rate applies to) and
   * next_funding_time are both that time; no separate value exists to put in either.
   */
  private markPrice(m: MarkPrice | undefined, recv: number, channel: string): void {
    if (m === undefined) return countError(this.stats, channel);
    const inst = this.scope.get(m.symbol);
    if (inst === undefined) {
      this.stats.ignored++;
      return;
    }
    this.markPrices.set(m.symbol, m.mark_price);
    if (this.wants.funding_rate !== true) {
      this.stats.ignored++;
      return;
    }
    this.emit({
      data_type: "funding_rate",
      exchange: EXCHANGE,
      market_type: inst.market_type,
      symbol: inst.symbol,
      ts_ms: m.ts_ms,
      recv_ts_ms: recv,
      funding_rate: m.funding_rate,
      funding_time: m.next_funding_time,
      next_funding_time: m.next_funding_time,
      mark_price: m.mark_price,
      index_price: m.index_price,
    });
  }

  /**
   * `forceOrder`: price is `ap` (average fill price) and quantity `z` (filled), i.e. what the
   * liquidation actually executed; `p`/`q` are the IOC order's limit and size.
   */
  private liquidation(d: Record<string, unknown>, recv: number): void {
    const o = forceOrderOf(d);
    const E = toUint(d.E);
    if (o === undefined || E === undefined) return countError(this.stats, "forceOrder");
    const inst = this.instrument(o.s, "liquidation");
    if (inst === undefined) {
      this.stats.ignored++;
      return;
    }
    this.emit({
      data_type: "liquidation",
      exchange: EXCHANGE,
      market_type: inst.market_type,
      symbol: inst.symbol,
      ts_ms: E,
      recv_ts_ms: recv,
      side: o.S === "BUY" ? "buy" : "sell",
      price: o.ap,
      quantity: o.z,
      liquidation_time: o.T,
    });
  }

  private rest(frame: RawFrame, body: unknown): void {
    const path = urlPath(frame.url);
    if (path.endsWith("/depth")) return this.snapshot(frame, body);
    if (path.endsWith("/premiumIndex")) {
      if (Array.isArray(body) && body.length === 0) this.stats.ignored++;
      else if (Array.isArray(body)) for (const item of body) this.markPrice(markPriceFromRest(item), frame.recv_ts_ms, "premiumIndex");
      else this.markPrice(markPriceFromRest(body), frame.recv_ts_ms, "premiumIndex");
      return;
    }
    if (path.endsWith("/openInterest")) return this.polls.openInterest(body, frame.recv_ts_ms);
    if (path.endsWith("/openInterestHist")) return this.polls.openInterestHist(body, frame.recv_ts_ms);
    if (path.endsWith("/topLongShortPositionRatio")) return this.polls.ratios(frame, body, "lsr_top_position");
    if (path.endsWith("/globalLongShortAccountRatio")) return this.polls.ratios(frame, body, "lsr_all_account");
    if (path.endsWith("/historicalTrades") || path.endsWith("/aggTrades")) {
      const kind = path.endsWith("/aggTrades") ? "aggTrades" : "historicalTrades";
      return restTrades(frame, body, kind, this.instrument(queryParam(frame.url, "symbol"), "trade"), this.stats, this.emit);
    }
    if (path.endsWith("/exchangeInfo")) {
      this.stats.ignored++;
      return;
    }
    countUnrecognized(this.stats, "http");
  }


}
