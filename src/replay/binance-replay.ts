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
 *
 * A loop boundary is a discontinuity: the recording's last book state is not its first one, so
 * no diff can lead from one to the other. The replay therefore behaves like an exchange whose
 * stream restarted:
 * - at each boundary every live book is reset to the recorded REST snapshot (ids shifted for the
 *   new loop), so a snapshot fetched in loop L is the one the recording's client bridged to;
 * - update ids shift per loop by the symbol's whole id range plus LOOP_UPDATE_GAP, so ids keep
 *   rising (natural keys never repeat) but the chain visibly breaks: the new loop's first diff
 *   has U > prev u + 1 (spot) and pu != prev u (futures).
 * A correct client detects that break, emits one `gap` and resyncs from REST per symbol per loop,
 * bridging exactly as the recording did (spot U <= lastUpdateId+1 <= u, futures
 * U <= lastUpdateId <= u); that resync is the honest picture of a replay loop, and the books it
 * rebuilds equal the recording's in every loop. Within a loop, U = prev u + 1 and pu = prev u
 * hold as recorded. Recorded frames are served as recorded; spot `@trade` frames (not recorded)
 * are derived from the recorded aggTrades.
 */

interface Diff {
  readonly U: number;
  readonly u: number;
  readonly pu: number | undefined;
  readonly b: readonly (readonly [string, string])[];
  readonly a: readonly (readonly [string, string])[];
}

interface RecordedSnapshot {
  readonly lastUpdateId: number;
  readonly bids: readonly (readonly [string, string])[];
  readonly asks: readonly (readonly [string, string])[];
}

interface SymbolBook {
  readonly symbol: string;
  readonly bids: Map<string, string>;
  readonly asks: Map<string, string>;
  lastUpdateId: number;
  readonly diffs: Diff[];
  /** The recording's REST snapshot: the state every loop starts from. */
  snapshot: RecordedSnapshot;
  /** Diffs the cursor has passed in the current loop. */
  passed: number;
}

/**
 * Extra update ids between one loop's last id and the next loop's first, so the chain breaks at
 * the boundary on both spot (needs a jump of at least 2) and futures; large enough to be
 * unmistakable in a log.
 */
const LOOP_UPDATE_GAP = 1000;

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
  /** Frame index -> the book its depth diff belongs to. */
  private readonly diffAt = new Map<number, SymbolBook>();
  private readonly spans: SpanShifts;
  /** The loop the cursor is in; the books carry its id shifts. */
  private loop = 0;
  /** A recent best price per symbol, for synthetic data. */
  readonly prices = new Map<string, number>();

  constructor(lines: readonly RecordedLine[], readonly futures: boolean, start_ms: number) {
    const trades = new SpanTracker();
    const updates = new SpanTracker();
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
          this.book(symbol).snapshot = { lastUpdateId: parsed.lastUpdateId, bids: parsed.bids, asks: parsed.asks };
          updates.see(symbol, parsed.lastUpdateId);
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
      for (const id of template.all("update")) updates.see(symbol, id);
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
    for (const [symbol, span] of updates.spans()) updateSpan.set(symbol, span + LOOP_UPDATE_GAP);
    const loop_ms = Number.isFinite(first) ? Math.ceil(last - first) + LOOP_PAD_MS : LOOP_PAD_MS;
    this.spans = new SpanShifts(Number.isFinite(first) ? start_ms - Math.floor(first) : 0, loop_ms, updateSpan, trades.spans());
    this.resetBooks(0);
  }

  shifts(symbol: string, loop: number) {
    return this.spans.get(symbol, loop);
  }

  advance(index: number, loop: number): void {
    if (loop !== this.loop) this.resetBooks(loop);
    const book = this.diffAt.get(index);
    if (!book) return;
    const diff = book.diffs[book.passed];
    book.passed++;
    if (!diff) return;
    const offset = this.spans.get(book.symbol, loop).update;
    // Diffs the recorded snapshot already contains (the recording's client dropped them too).
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
    const next = this.futures ? book.diffs[book.passed] : undefined;
    if (next) {
      // Past this loop's last diff there is nothing to bridge to: the next loop breaks the chain.
      const U = next.U + this.spans.get(symbol, this.loop).update;
      if (U > id) id = U;
    }
    const bids = [...book.bids].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, limit);
    const asks = [...book.asks].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, limit);
    const best = bids[0];
    if (best) this.prices.set(symbol, Number(best[0]));
    const head = this.futures ? `{"lastUpdateId":${id},"E":${now_ms},"T":${now_ms},` : `{"lastUpdateId":${id},`;
    return `${head}"bids":${JSON.stringify(bids)},"asks":${JSON.stringify(asks)}}`;
  }

  /** Starts `loop`: every book is the recorded snapshot again, ids shifted for that loop. */
  private resetBooks(loop: number): void {
    this.loop = loop;
    for (const book of this.books.values()) {
      const { snapshot } = book;
      book.bids.clear();
      book.asks.clear();
      for (const [p, q] of snapshot.bids) book.bids.set(p, q);
      for (const [p, q] of snapshot.asks) book.asks.set(p, q);
      book.lastUpdateId = snapshot.lastUpdateId + this.spans.get(book.symbol, loop).update;
      book.passed = 0;
    }
  }

  private book(symbol: string): SymbolBook {
    let book = this.books.get(symbol);
    if (!book) {
      book = { symbol, bids: new Map(), asks: new Map(), lastUpdateId: 0, diffs: [], snapshot: { lastUpdateId: 0, bids: [], asks: [] }, passed: 0 };
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
