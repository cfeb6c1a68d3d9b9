import { OkxBookSync } from "./book-sync.ts";
import type { DataType, Exchange, MarketRecord } from "../../records/types.ts";
import { countError, countUnrecognized, countingEmit, emptyStats, isObject, parseBookJson, parseJson, urlPath } from "../normalizer-stats.ts";
import { SymbolScope } from "../symbol-scope.ts";
import { NO_REQUESTS, type BookHealth, type BookVerdict, type Normalizer, type NormalizerOptions, type RawFrame } from "../types.ts";
import { OkxFundingJoin } from "./funding-join.ts";
import { bookMessage, type OkxRest, REST_TYPES, restRoute } from "./wire.ts";
import { OkxRecords } from "./records.ts";

/**
 * OKX v5 public frames -> normalized records, for one market type: okx_spot keeps SPOT
 * instruments, okx_derivatives keeps SWAP; everything else in a mixed stream (dated FUTURES,
 * OPTION, the other market) is counted as ignored, classified by instrument metadata.
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-funding-rate-channel
 */

const EXCHANGE: Exchange = "okx";

/** Channels that are recognized but carry no record here. */
const IGNORED_CHANNELS = new Set(["tickers", "books5", "bbo-tbt", "candle1m", "instruments", "price-limit", "estimated-price"]);

const CHANNEL_TYPES: Readonly<Record<string, DataType>> = {
  books: "orderbook",
  "books-l2-tbt": "orderbook",
  "books50-l2-tbt": "orderbook",
  trades: "trade",
  "funding-rate": "funding_rate",
  "mark-price": "funding_rate",
  "index-tickers": "funding_rate",
  "open-interest": "open_interest",
  "liquidation-orders": "liquidation",
};

const ARG_PREFIX = '{"arg":{"channel":"';
const INST_KEY = '","instId":"';
/** `books`, `books-l2-tbt`, `books50-l2-tbt` pushes: parsed by the book-frame parser first. */
const BOOKS_PREFIX = `${ARG_PREFIX}books`;

export class OkxNormalizer implements Normalizer {
  readonly stats = emptyStats();
  private readonly emit: (r: MarketRecord) => void;
  private readonly scope: SymbolScope;
  private readonly books = new Map<string, OkxBookSync>();
  /** Books whose sync may have asked for a resubscribe since the last take (see `book`). */
  private readonly resubscribeQueue = new Set<OkxBookSync>();
  private readonly wants: Readonly<Partial<Record<DataType, boolean>>>;
  private readonly funding: OkxFundingJoin;
  private readonly records: OkxRecords;

  constructor(
    spot: boolean,
    private readonly options: NormalizerOptions,
  ) {
    this.scope = new SymbolScope(options, spot ? "spot" : "perpetual");
    this.emit = countingEmit(this.stats, options.emit);
    const wants: Partial<Record<DataType, boolean>> = {};
    for (const t of options.data_types) wants[t] = true;
    this.wants = wants;
    this.records = new OkxRecords(this.scope, this.stats, this.emit);
    this.funding = new OkxFundingJoin(this.scope, this.emit);
  }

  push(frame: RawFrame): void {
    this.stats.frames++;
    if (frame.raw === "pong") {
      this.stats.ignored++;
      return;
    }
    if (frame.source !== "http" && this.ignoredPush(frame.raw)) {
      this.stats.ignored++;
      return;
    }
    const msg = frame.source !== "http" && frame.raw.startsWith(BOOKS_PREFIX) ? parseBookJson(frame.raw) : parseJson(frame.raw);
    if (msg === undefined) return countError(this.stats, "json");
    if (frame.source === "http") return this.rest(frame, msg);
    if (!isObject(msg)) return countUnrecognized(this.stats, "unknown");
    if (typeof msg.event === "string") {
      // A refused subscription is the venue telling us data will be missing: count it as bad.
      if (msg.event === "error") return countError(this.stats, "event");
      this.stats.ignored++;
      return;
    }
    const arg = msg.arg;
    const channel = isObject(arg) && typeof arg.channel === "string" ? arg.channel : undefined;
    if (channel === undefined || !Array.isArray(msg.data)) return countUnrecognized(this.stats, channel ?? "unknown");
    const type = CHANNEL_TYPES[channel];
    if (type === undefined) {
      if (IGNORED_CHANNELS.has(channel)) this.stats.ignored++;
      else countUnrecognized(this.stats, channel);
      return;
    }
    if (this.wants[type] !== true) {
      this.stats.ignored++;
      return;
    }
    const recv = frame.recv_ts_ms;
    const data = msg.data;
    if (data.length === 0 && type !== "orderbook") {
      this.stats.ignored++;
      return;
    }
    switch (channel) {
      case "trades":
        return this.records.trades(data, recv);
      case "funding-rate":
        return this.each(data, channel, (d) => this.funding.rate(d, recv));
      case "mark-price":
        return this.each(data, channel, (d) => this.funding.mark(d, recv));
      case "index-tickers":
        return this.each(data, channel, (d) => this.funding.index(d, recv));
      case "open-interest":
        return this.each(data, channel, (d) => this.records.openInterest(d, recv));
      case "liquidation-orders":
        return this.records.liquidations(data, recv);
      default:
        return this.book(channel, msg.action, data, isObject(arg) && typeof arg.instId === "string" ? arg.instId : undefined, recv);
    }
  }

  takeSnapshotRequests(): readonly string[] {
    return NO_REQUESTS;
  }

  takeResubscribeRequests(): readonly string[] {
    if (this.resubscribeQueue.size === 0) return NO_REQUESTS;
    const out: string[] = [];
    for (const book of this.resubscribeQueue) {
      if (book.resubscribeWanted) {
        book.resubscribeWanted = false;
        out.push(book.native);
      }
    }
    this.resubscribeQueue.clear();
    return out;
  }

  setSymbols(symbols: readonly string[]): void {
    this.scope.setSymbols(symbols);
    for (const [native, book] of this.books) {
      if (this.scope.get(native) !== undefined) continue;
      this.books.delete(native);
      this.resubscribeQueue.delete(book);
    }
  }

  connectionLost(_recv_ts_ms: number): void {
    // Reconnecting resubscribes everything, which brings fresh snapshots; nothing to request.
    for (const book of this.books.values()) {
      book.restart();
      book.resubscribeWanted = false;
      book.resyncs++;
    }
  }

  resyncBooks(): void {
    // `restart` asks for a resubscribe, which is what brings a new snapshot on an open connection.
    for (const book of this.books.values()) {
      book.restart();
      book.resyncs++;
      this.resubscribeQueue.add(book);
    }
  }

  bookHealth(): BookHealth[] {
    return [...this.books.values()].map((b) => b.health());
  }

  verifyBooks(): BookVerdict[] {
    return [...this.books.values()].map((b) => b.verdict());
  }

  /**
   * Whether a push is one this normalizer ignores whole, told from its `{"arg":{"channel","instId"}`
   * prefix so it costs no JSON.parse: an ignored channel (`tickers`, …), or a book channel for
   * an instrument outside this normalizer's market type or symbols (a mixed stream; the frame
   * would be counted as ignored after parsing too, since book frames are classified before their
   * levels are read). Trades are not skipped: they are counted per element. A frame cut short
   * (no closing `}`) still goes through the parser, so malformed text stays an error.
   * On the mixed OKX recording (bench/normalize.bench.ts, medians of 9 interleaved runs) this
   * took okx_spot from 0.57 to 0.72 × the bare JSON.parse loop and okx_derivatives, whose
   * SWAP book is the smallest in it, from 0.82 to 2.2 ×.
   */
  private ignoredPush(raw: string): boolean {
    if (!raw.startsWith(ARG_PREFIX)) return false;
    const start = ARG_PREFIX.length;
    const end = raw.indexOf('"', start);
    if (end < 0 || !raw.endsWith("}")) return false;
    const channel = raw.slice(start, end);
    if (IGNORED_CHANNELS.has(channel)) return true;
    if (CHANNEL_TYPES[channel] !== "orderbook") return false;
    if (this.wants.orderbook !== true) return true;
    if (!raw.startsWith(INST_KEY, end)) return false;
    const instStart = end + INST_KEY.length;
    const instEnd = raw.indexOf('"', instStart);
    if (instEnd < 0 || raw.charCodeAt(instEnd + 1) !== 125) return false; // `"}` closes arg
    const native = raw.slice(instStart, instEnd);
    return this.scope.get(native) === undefined;
  }

  /**
   * Runs `fn` per data element; a `false` return means the element was malformed. Used for
   * the low-rate channels only (a closure per frame is fine at one message per second).
   */
  private each(data: unknown[], channel: string, fn: (d: unknown) => "emitted" | "ignored" | "bad"): void {
    for (const d of data) {
      const r = fn(d);
      if (r === "bad") countError(this.stats, channel);
      else if (r === "ignored") this.stats.ignored++;
    }
  }

  private book(channel: string, action: unknown, data: unknown[], argInstId: string | undefined, recv: number): void {
    // Classify before validating: a mixed stream's other instruments cost no level checks.
    const native = argInstId ?? "";
    let book = this.books.get(native);
    if (book === undefined) {
      const inst = this.scope.get(native);
      if (inst === undefined) {
        if (argInstId === undefined) countError(this.stats, channel);
        else this.stats.ignored++;
        return;
      }
      book = new OkxBookSync(native, inst.symbol, EXCHANGE, inst.market_type);
      if (this.wants.orderbook_delta === true) book.deltas = this.emit;
      this.books.set(native, book);
    }
    const m = bookMessage(action, data);
    if (m === undefined) return countError(this.stats, channel);
    const outcome =
      m.action === "snapshot"
        ? book.snapshot(m.bids, m.asks, m.seq_id, m.checksum, m.ts_ms, recv)
        : book.update(m.bids, m.asks, m.seq_id, m.prev_seq_id, m.checksum, m.ts_ms, recv, book.isDue(m.ts_ms, this.options.snapshot_interval_ms));
    // Only these two calls set `resubscribeWanted`: the per-frame take walks the queue, not every book.
    if (book.resubscribeWanted) this.resubscribeQueue.add(book);
    if (outcome === "applied") {
      if (book.due(m.ts_ms, this.options.snapshot_interval_ms))
        // No seqId in older streams (and the 2022 recordings): the book's ts orders them instead.
        this.emit(book.record(m.ts_ms, recv, m.seq_id === -1 ? m.ts_ms : m.seq_id, this.options.depth));
      else this.stats.absorbed++;
    } else if (outcome === "ignored") {
      this.stats.ignored++;
    } else if (outcome === "bad") {
      countError(this.stats, channel);
      this.emit(book.violation("resync", m.ts_ms, recv));
    } else {
      this.emit(book.violation(outcome, m.ts_ms, recv));
    }
  }

  private rest(frame: RawFrame, body: unknown): void {
    const route: OkxRest | undefined = restRoute(urlPath(frame.url));
    if (route === undefined) return countUnrecognized(this.stats, "http");
    if (route === "instruments") {
      this.stats.ignored++;
      return;
    }
    if (!isObject(body) || body.code !== "0" || !Array.isArray(body.data)) return countError(this.stats, route);
    const recv = frame.recv_ts_ms;
    const data = body.data;
    if (this.wants[REST_TYPES[route]] !== true || data.length === 0) {
      this.stats.ignored++;
      return;
    }
    if (route === "funding-rate") return this.each(data, route, (d) => this.funding.rate(d, recv));
    if (route === "open-interest") return this.each(data, route, (d) => this.records.openInterest(d, recv));
    // A backfill's page of past trades (newest first): rows in the `trades` push's shape.
    if (route === "history-trades") return this.records.trades(data, recv);
    this.records.ratios(frame.url, route, data, recv);
  }
}
