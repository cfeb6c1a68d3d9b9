import { FrameTemplate, type ShiftKind } from "./frame-template.ts";
import { LOOP_PAD_MS, SpanShifts, SpanTracker, type FeedFrame, type ReplayFeed } from "./feed.ts";
import type { RecordedLine } from "./recording.ts";

/**
 * Binance spot and USDⓈ-M replay: combined-stream frames plus a live server-side book per
 * symbol, so `/api/v3/depth` and `/fapi/v1/depth` answer with a snapshot consistent with the
 * stream position at the moment of the request, in every loop and after skipped frames:
 * - spot: lastUpdateId = the last diff passed; the next diff has U = lastUpdateId + 1.
 * - futures: ids have gaps, so lastUpdateId = the next diff's U (U <= lastUpdateId <= u, the
 *   documented bridge); before the recorded snapshot's bridge it is the recorded id.
 * Update ids shift per loop by (last u - the first diff's predecessor), so U = prev u + 1 (spot)
 * and pu = prev u (futures) hold across the loop boundary. Recorded frames are served as
 * recorded; spot `@trade` frames (not recorded) are derived from the recorded aggTrades.
 */

interface Diff {
  readonly U: number;
  readonly u: number;
  readonly pu: number | undefined;
  readonly b: readonly (readonly [string, string])[];
  readonly a: readonly (readonly [string, string])[];
}

interface SymbolBook {
  readonly bids: Map<string, string>;
  readonly asks: Map<string, string>;
  lastUpdateId: number;
  readonly diffs: Diff[];
  /** Diffs the cursor has passed since start, over all loops. */
  passed: number;
}

const PATTERN = /"(E|T|t|U|u|pu|a|f|l|L)":(\d+)/g;
const KIND: Record<string, ShiftKind> = { E: "time", T: "time", t: "time", U: "update", u: "update", pu: "update", a: "trade", f: "trade", l: "trade", L: "trade" };
const TRADE_KIND: Record<string, ShiftKind> = { E: "time", T: "time", t: "trade" };

function isLevels(v: unknown): v is [string, string][] {
  return Array.isArray(v) && v.every((l) => Array.isArray(l) && typeof l[0] === "string" && typeof l[1] === "string");
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export class BinanceReplay implements ReplayFeed {
  readonly frames: FeedFrame[] = [];
  /** Upper-case symbols present in the recording's streams. */
  readonly symbols: string[] = [];
  private readonly books = new Map<string, SymbolBook>();
  /** Frame index -> [symbol, diff index] for depth frames. */
  private readonly diffAt = new Map<number, SymbolBook>();
  private readonly spans: SpanShifts;
  /** A recent best price per symbol, for synthetic data. */
  readonly prices = new Map<string, number>();

  constructor(lines: readonly RecordedLine[], readonly futures: boolean, start_ms: number) {
    const trades = new SpanTracker();
    const symbols = new Set<string>();
    let first = Infinity;
    let last = -Infinity;
    for (const line of lines) {
      first = Math.min(first, line.recv_ts * 1000);
      last = Math.max(last, line.recv_ts * 1000);
      const parsed = record(JSON.parse(line.raw));
      if (!parsed) continue;
      if (line.source === "http") {
        const symbol = new URL(line.url).searchParams.get("symbol");
        if (symbol && typeof parsed.lastUpdateId === "number" && isLevels(parsed.bids) && isLevels(parsed.asks)) {
          const book = this.book(symbol);
          book.lastUpdateId = parsed.lastUpdateId;
          for (const [p, q] of parsed.bids) book.bids.set(p, q);
          for (const [p, q] of parsed.asks) book.asks.set(p, q);
          const best = parsed.bids[0];
          if (best) this.prices.set(symbol, Number(best[0]));
        }
        continue;
      }
      const stream = typeof parsed.stream === "string" ? parsed.stream : undefined;
      const data = record(parsed.data);
      if (!stream || !data || typeof data.s !== "string") continue;
      const symbol = data.s;
      symbols.add(symbol);
      const template = FrameTemplate.parse(line.raw, PATTERN, (k) => KIND[k]);
      const index = this.frames.length;
      this.frames.push({ key: stream.toLowerCase(), symbol, template, snapshot: false });
      if (data.e === "depthUpdate" && typeof data.U === "number" && typeof data.u === "number" && isLevels(data.b) && isLevels(data.a)) {
        const book = this.book(symbol);
        book.diffs.push({ U: data.U, u: data.u, pu: typeof data.pu === "number" ? data.pu : undefined, b: data.b, a: data.a });
        this.diffAt.set(index, book);
      } else if (data.e === "aggTrade" && typeof data.a === "number") {
        trades.see(symbol, data.a);
        trades.see(symbol, typeof data.f === "number" ? data.f : undefined);
        trades.see(symbol, typeof data.l === "number" ? data.l : undefined);
        if (!futures) this.frames.push(this.derivedTrade(stream, data, symbol));
      }
    }
    this.symbols.push(...symbols);
    const updateSpan = new Map<string, number>();
    for (const [symbol, book] of this.books) {
      const head = book.diffs[0];
      const tail = book.diffs[book.diffs.length - 1];
      if (!head || !tail) continue;
      const before = futures && head.pu !== undefined ? head.pu : head.U - 1;
      updateSpan.set(symbol, tail.u - before);
    }
    const loop_ms = Number.isFinite(first) ? Math.ceil(last - first) + LOOP_PAD_MS : LOOP_PAD_MS;
    this.spans = new SpanShifts(Number.isFinite(first) ? start_ms - Math.floor(first) : 0, loop_ms, updateSpan, trades.spans());
  }

  shifts(symbol: string, loop: number) {
    return this.spans.get(symbol, loop);
  }

  advance(index: number, loop: number): void {
    const book = this.diffAt.get(index);
    if (!book) return;
    const diff = book.diffs[book.passed % book.diffs.length];
    book.passed++;
    if (!diff) return;
    const offset = this.spans.get(this.symbolOf(index), loop).update;
    if (diff.u + offset <= book.lastUpdateId) return;
    for (const [p, q] of diff.b) if (Number(q) === 0) book.bids.delete(p); else book.bids.set(p, q);
    for (const [p, q] of diff.a) if (Number(q) === 0) book.asks.delete(p); else book.asks.set(p, q);
    book.lastUpdateId = diff.u + offset;
  }

  /** The REST depth body for `symbol` now, or undefined for an unknown symbol. */
  depthBody(symbol: string, limit: number, now_ms: number): string | undefined {
    const book = this.books.get(symbol);
    if (!book) return undefined;
    let id = book.lastUpdateId;
    if (this.futures && book.diffs.length > 0) {
      const next = book.diffs[book.passed % book.diffs.length];
      const loop = Math.floor(book.passed / book.diffs.length);
      if (next) {
        const U = next.U + this.spans.get(symbol, loop).update;
        if (U > id) id = U;
      }
    }
    const bids = [...book.bids].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, limit);
    const asks = [...book.asks].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, limit);
    const best = bids[0];
    if (best) this.prices.set(symbol, Number(best[0]));
    const head = this.futures ? `{"lastUpdateId":${id},"E":${now_ms},"T":${now_ms},` : `{"lastUpdateId":${id},`;
    return `${head}"bids":${JSON.stringify(bids)},"asks":${JSON.stringify(asks)}}`;
  }

  private symbolOf(index: number): string {
    return this.frames[index]?.symbol ?? "";
  }

  private book(symbol: string): SymbolBook {
    let book = this.books.get(symbol);
    if (!book) {
      book = { bids: new Map(), asks: new Map(), lastUpdateId: 0, diffs: [], passed: 0 };
      this.books.set(symbol, book);
    }
    return book;
  }

  /** A spot `@trade` frame in the documented shape, from a recorded aggTrade. */
  private derivedTrade(stream: string, data: Record<string, unknown>, symbol: string): FeedFrame {
    const name = `${stream.slice(0, stream.indexOf("@"))}@trade`;
    const text = JSON.stringify({
      stream: name,
      data: { e: "trade", E: data.E, s: symbol, t: data.a, p: data.p, q: data.q, T: data.T, m: data.m, M: true },
    });
    return { key: name, symbol, template: FrameTemplate.parse(text, PATTERN, (k) => TRADE_KIND[k]), snapshot: false };
  }
}
