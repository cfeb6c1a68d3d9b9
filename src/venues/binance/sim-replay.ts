import { FrameTemplate, type ShiftKind } from "../../replay/frame-template.ts";
import { record, RecordedTimes, SpanShifts, SpanTracker, type FeedFrame, type ReplayFeed } from "../../replay/feed.ts";
import type { RecordedLine } from "../../replay/recording.ts";
import { SentTrades } from "../../replay/sent-trades.ts";

/**
 * Binance spot and USDⓈ-M replay: combined-stream frames plus a server-side book per symbol, so
 * `/api/v3/depth` and `/fapi/v1/depth` answer with a snapshot consistent with the stream
 * position at the moment of the request, in every loop and after skipped frames:
 * - spot: lastUpdateId = the last diff passed; the next diff has U = lastUpdateId + 1.
 * - futures: ids have gaps, so lastUpdateId = the next diff's U (U <= lastUpdateId <= u, the
 *   documented bridge); before the recorded snapshot's bridge it is the recorded id.
 *
 * Loops continue the update-id chain the way a live stream does. The recording's last book
 * state is not its first one, so each loop ends with one synthetic diff per symbol (the
 * "bridge") that sets every level that differs between the two: levels the snapshot lacks go to
 * quantity 0, the snapshot's own levels to their snapshot quantities. After it the book is the
 * recorded REST snapshot again, and the next loop carries on with the first recorded diff that
 * snapshot does not already contain (the diffs before it are never served: see dropContained). Ids move by the symbol's id span plus
 * LOOP_UPDATE_GAP per loop (natural keys never repeat) and the bridge's own range covers the
 * jump: spot U = previous u + 1, futures pu = previous u, at every boundary. A client therefore
 * keeps its book across loops without a resync, and the books it holds equal the recording's in
 * every loop. Recorded frames are served as recorded; spot `@trade` frames are served as
 * recorded where the recording has them (a `--record` capture) and derived from the recorded
 * aggTrades where it has none (the 2021-22 recordings). Trade ids move by the larger span of the
 * two id series a recording carries per symbol, aggregate ids (`a`) and trade ids (`f`, `l`, `t`):
 * each series' next loop then starts after its own last id, and shifts stay far below 2^53
 * (one span of both series together would be the distance between them, some 10^12 on the
 * generator's ids). The trades the stream passes are kept for the REST trade history (spot
 * `@trade`, USDⓈ-M `@aggTrade`: keepTrades).
 */

type Level = readonly [string, string];

interface Diff {
  readonly U: number;
  readonly u: number;
  readonly pu: number | undefined;
  readonly b: readonly Level[];
  readonly a: readonly Level[];
}

interface RecordedSnapshot {
  readonly lastUpdateId: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}

interface SymbolBook {
  readonly symbol: string;
  /** The recording's REST snapshot: the state every loop starts from. */
  snapshot: RecordedSnapshot;
  /** Every recorded diff, in stream order. */
  readonly diffs: Diff[];
  /** The diffs every loop applies: those after the snapshot (spot u > id, futures u >= id). */
  applicable: Diff[];
  /** The loop this book's ids are in: it moves on when the book's bridge diff passes. */
  loop: number;
  /** Applicable diffs the cursor has passed in `loop`. */
  passed: number;
}

/** Update ids between one loop's last id and the next loop's first; the bridge diff spans them. */
const LOOP_UPDATE_GAP = 1000;

const PATTERN = /"(E|T|t|U|u|pu|a|f|l|L)":(\d+)/g;
const KIND: Record<string, ShiftKind> = { E: "time", T: "time", t: "time", U: "update", u: "update", pu: "update", a: "trade", f: "trade", l: "trade", L: "trade" };
const TRADE_KIND: Record<string, ShiftKind> = { E: "time", T: "time", t: "trade" };

function isLevels(v: unknown): v is [string, string][] {
  return Array.isArray(v) && v.every((l) => Array.isArray(l) && typeof l[0] === "string" && typeof l[1] === "string");
}

function applyLevels(side: Map<string, string>, levels: readonly Level[]): void {
  for (const [p, q] of levels) if (Number(q) === 0) side.delete(p); else side.set(p, q);
}

/** The levels that turn side `from` into side `to`: removals at quantity "0", then `to`'s changed levels. */
function levelsBetween(from: ReadonlyMap<string, string>, to: ReadonlyMap<string, string>): Level[] {
  const out: Level[] = [];
  for (const p of from.keys()) if (!to.has(p)) out.push([p, "0"]);
  for (const [p, q] of to) if (from.get(p) !== q) out.push([p, q]);
  return out;
}

export class BinanceReplay implements ReplayFeed {
  readonly frames: FeedFrame[] = [];
  /** Upper-case symbols present in the recording's streams. */
  readonly symbols: string[] = [];
  private readonly books = new Map<string, SymbolBook>();
  /** Frame index -> the book and recorded diff of a depth frame. */
  private diffAt = new Map<number, { book: SymbolBook; diff: Diff }>();
  /** Frame index -> the book a loop-closing bridge diff belongs to. */
  private readonly bridgeAt = new Map<number, SymbolBook>();
  private readonly spans: SpanShifts;
  /** A recent best price per symbol, for synthetic data. */
  readonly prices = new Map<string, number>();
  /** The trades the stream sent, for the REST trade history (keepTrades). */
  readonly trades = new SentTrades();

  constructor(lines: readonly RecordedLine[], readonly futures: boolean, start_ms: number) {
    const aggIds = new SpanTracker();
    const tradeIds = new SpanTracker();
    const updates = new SpanTracker();
    // Spot symbols whose `@trade` frames the recording has: no trades are derived for them.
    const recordsTrades = new Set<string>();
    if (!futures) {
      for (const line of lines) {
        if (!line.raw.includes('"e":"trade"')) continue;
        const symbol = /"s":"(\w+)"/.exec(line.raw)?.[1];
        if (symbol !== undefined) recordsTrades.add(symbol);
      }
    }
    const symbols = new Set<string>();
    /** Depth stream and last recorded event time per symbol, for its bridge frame. */
    const depthStream = new Map<string, { stream: string; E: number; T: number }>();
    const times = new RecordedTimes();
    for (const line of lines) {
      times.see(line.recv_ts);
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
      // In a `@trade` frame `t` is the trade id; elsewhere (depth, aggTrade) no `t` occurs.
      const template = FrameTemplate.parse(line.raw, PATTERN, (k) => (data.e === "trade" ? TRADE_KIND : KIND)[k]);
      for (const id of template.all("update")) updates.see(symbol, id);
      const index = this.frames.length;
      // The trades the REST history serves: USDⓈ-M `aggTrades`, spot `historicalTrades` (`@trade`
      // frames, recorded or derived from the recorded aggTrades below).
      const trade = data.e === (futures ? "aggTrade" : "trade");
      if (data.e === "trade" && typeof data.t === "number") tradeIds.see(symbol, data.t);
      this.frames.push({ key: stream.toLowerCase(), symbol, template, snapshot: false, ...(trade ? { trade } : {}) });
      if (data.e === "depthUpdate" && typeof data.U === "number" && typeof data.u === "number" && isLevels(data.b) && isLevels(data.a)) {
        const book = this.book(symbol);
        const diff = { U: data.U, u: data.u, pu: typeof data.pu === "number" ? data.pu : undefined, b: data.b, a: data.a };
        book.diffs.push(diff);
        this.diffAt.set(index, { book, diff });
        const E = typeof data.E === "number" ? data.E : 0;
        depthStream.set(symbol, { stream, E, T: typeof data.T === "number" ? data.T : E });
      } else if (data.e === "aggTrade" && typeof data.a === "number") {
        aggIds.see(symbol, data.a);
        tradeIds.see(symbol, typeof data.f === "number" ? data.f : undefined);
        tradeIds.see(symbol, typeof data.l === "number" ? data.l : undefined);
        if (!futures && !recordsTrades.has(symbol)) this.frames.push(this.derivedTrade(stream, data, symbol));
      }
    }
    this.symbols.push(...symbols);
    const updateSpan = new Map<string, number>();
    for (const [symbol, span] of updates.spans()) updateSpan.set(symbol, span + LOOP_UPDATE_GAP);
    const tradeSpan = aggIds.spans();
    for (const [symbol, span] of tradeIds.spans()) tradeSpan.set(symbol, Math.max(span, tradeSpan.get(symbol) ?? 0));
    this.spans = times.shifts(start_ms, updateSpan, tradeSpan);

    for (const book of this.books.values()) book.applicable = book.diffs.filter((d) => this.isApplicable(book, d));
    this.dropContained();
    for (const book of this.books.values()) {
      const depth = depthStream.get(book.symbol);
      if (depth === undefined) continue;
      this.bridgeAt.set(this.frames.length, book);
      this.frames.push(this.bridgeFrame(book, depth, updateSpan.get(book.symbol) ?? 0));
    }
  }

  shifts(symbol: string, loop: number) {
    return this.spans.get(symbol, loop);
  }

  advance(index: number): void {
    const bridged = this.bridgeAt.get(index);
    if (bridged !== undefined) {
      bridged.loop++;
      bridged.passed = 0;
      return;
    }
    const at = this.diffAt.get(index);
    if (at !== undefined && at.book.applicable[at.book.passed] === at.diff) at.book.passed++;
  }

  /** The REST depth body for `symbol` now, or undefined for an unknown symbol. */
  depthBody(symbol: string, limit: number, now_ms: number): string | undefined {
    const book = this.books.get(symbol);
    if (!book) return undefined;
    const offset = this.spans.get(symbol, book.loop).update;
    const bidMap = new Map<string, string>(book.snapshot.bids);
    const askMap = new Map<string, string>(book.snapshot.asks);
    let id = book.snapshot.lastUpdateId;
    for (let i = 0; i < book.passed; i++) {
      const diff = book.applicable[i] as Diff;
      applyLevels(bidMap, diff.b);
      applyLevels(askMap, diff.a);
      id = diff.u;
    }
    if (this.futures) {
      // The next diff to come: a recorded one, or past the loop's last, the bridge (U = last u + 1).
      const next = book.applicable[book.passed];
      const U = next === undefined ? this.lastId(book) + 1 : next.U;
      if (U > id) id = U;
    }
    const bids = [...bidMap].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, limit);
    const asks = [...askMap].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, limit);
    const best = bids[0];
    if (best) this.prices.set(symbol, Number(best[0]));
    const head = this.futures ? `{"lastUpdateId":${id + offset},"E":${now_ms},"T":${now_ms},` : `{"lastUpdateId":${id + offset},`;
    return `${head}"bids":${JSON.stringify(bids)},"asks":${JSON.stringify(asks)}}`;
  }

  /**
   * Leaves out the diffs the recorded snapshot already contains, so every loop, the first one
   * included, serves the same frames from the first applicable diff on. Served in the first
   * loop only, the last of them would carry the id the bridge diff resumes from: on the loop
   * grid (feed.ts) that id, shifted into this loop, is the previous loop's bridge `u`, which a
   * simulator that started a loop earlier has served with the bridge's levels.
   */
  private dropContained(): void {
    const diffAt = new Map<number, { book: SymbolBook; diff: Diff }>();
    const frames: FeedFrame[] = [];
    this.frames.forEach((frame, index) => {
      const at = this.diffAt.get(index);
      if (at !== undefined && !this.isApplicable(at.book, at.diff)) return;
      if (at !== undefined) diffAt.set(frames.length, at);
      frames.push(frame);
    });
    this.frames.length = 0;
    this.frames.push(...frames);
    this.diffAt = diffAt;
  }

  /** The unshifted id the bridge diff's `u` stands for: spot the first applicable diff's U - 1, futures its pu. */
  private resumeId(book: SymbolBook): number {
    const next = book.applicable[0];
    if (next === undefined) return this.lastId(book);
    return this.futures ? (next.pu ?? next.U - 1) : next.U - 1;
  }

  /** Whether a client bridged to the recorded snapshot applies `diff` (spot u > id, futures u >= id). */
  private isApplicable(book: SymbolBook, diff: Diff): boolean {
    const id = book.snapshot.lastUpdateId;
    return this.futures ? diff.u >= id : diff.u > id;
  }

  /** The book's last update id in a loop, unshifted: its last applicable diff's u, else the snapshot's. */
  private lastId(book: SymbolBook): number {
    return book.applicable[book.applicable.length - 1]?.u ?? book.snapshot.lastUpdateId;
  }

  /**
   * The diff closing each loop for `book`: from the loop's final state back to the recorded
   * snapshot, with ids that continue the chain (spot U = last u + 1, futures pu = last u) and a
   * `u` that the next loop's first applicable diff continues from (spot: its U - 1, futures:
   * its pu), both in the next loop's shift (one `span` on).
   */
  private bridgeFrame(book: SymbolBook, depth: { stream: string; E: number; T: number }, span: number): FeedFrame {
    const snapBids = new Map<string, string>(book.snapshot.bids);
    const snapAsks = new Map<string, string>(book.snapshot.asks);
    const endBids = new Map(snapBids);
    const endAsks = new Map(snapAsks);
    for (const diff of book.applicable) {
      applyLevels(endBids, diff.b);
      applyLevels(endAsks, diff.a);
    }
    const last = this.lastId(book);
    const resume = this.resumeId(book);
    const data: Record<string, unknown> = { e: "depthUpdate", E: depth.E };
    if (this.futures) data.T = depth.T;
    Object.assign(data, { s: book.symbol, U: last + 1, u: resume + span });
    if (this.futures) data.pu = last;
    data.b = levelsBetween(endBids, snapBids);
    data.a = levelsBetween(endAsks, snapAsks);
    const text = JSON.stringify({ stream: depth.stream, data });
    return { key: depth.stream.toLowerCase(), symbol: book.symbol, template: FrameTemplate.parse(text, PATTERN, (k) => KIND[k]), snapshot: false };
  }

  private book(symbol: string): SymbolBook {
    let book = this.books.get(symbol);
    if (!book) {
      book = { symbol, snapshot: { lastUpdateId: 0, bids: [], asks: [] }, diffs: [], applicable: [], loop: 0, passed: 0 };
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
    return { key: name, symbol, template: FrameTemplate.parse(text, PATTERN, (k) => TRADE_KIND[k]), snapshot: false, trade: true };
  }

  /**
   * A trade frame the cursor passed, kept as its REST history row: spot `@trade` as a
   * `historicalTrades` row, USDⓈ-M `@aggTrade` as an `aggTrades` row (sim-rest.ts).
   */
  keepTrades(frame: FeedFrame, text: string): void {
    const d = record(record(JSON.parse(text))?.data);
    if (d === undefined) return;
    const [p, q, T, m] = [JSON.stringify(d.p), JSON.stringify(d.q), Number(d.T), d.m === true];
    if (this.futures) {
      const a = Number(d.a);
      this.trades.add(frame.symbol, a, `{"a":${a},"p":${p},"q":${q},"f":${Number(d.f)},"l":${Number(d.l)},"T":${T},"m":${m}}`);
      return;
    }
    const t = Number(d.t);
    const quote = (Number(d.p) * Number(d.q)).toFixed(8);
    this.trades.add(frame.symbol, t, `{"id":${t},"price":${p},"qty":${q},"quoteQty":"${quote}","time":${T},"isBuyerMaker":${m},"isBestMatch":true}`);
  }
}
