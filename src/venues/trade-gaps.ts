import type { TradeRecord } from "../records/types.ts";
import type { WsGap } from "./connection/ws-client.ts";
import { fetchTradePages, type PageAnswer, type TradeHole, type VenueTradeBackfill } from "./connection/trade-pages.ts";

/**
 * Trade backfill after a hole in a trade stream (reconnect, silence, fault): one ingest
 * runner's holes, filled from the venue's REST trade history through its weight budget.
 *
 * Every trade the normalizer emits passes `accept`. A stream trade updates its symbol's last
 * stored id; after a gap each symbol of the lost connection with a stored trade has a hole that
 * starts after that id. The first stream trade of the symbol after the gap closes the hole's
 * range (`before_id`) and starts the backfill: pages of the venue's history (trade-pages.ts)
 * are fed to the normalizer like any REST body, and of their trades `accept` keeps exactly those
 * inside the hole, so no trade the stream delivered is emitted twice (Binance pages carry the
 * trade time where the stream has the event time: the same trade under two timestamps would be
 * two rows of the `trades` sort key). A symbol that trades nothing after the gap for `wait_ms`
 * is backfilled up to the venue's newest trade; a stream trade that arrives meanwhile closes
 * the range for the pages still to come.
 *
 * When a backfill ends, the gap's row is emitted again with the trades it brought back
 * (recovered-gaps.ts); one that stops short (refused, stuck, past `max_pages`) reports why
 * through `failed` and keeps what it recovered.
 */

export interface TradeGapsOptions {
  readonly spec: VenueTradeBackfill;
  /** Pages one hole may take at most. */
  readonly max_pages: number;
  /** Ms a hole waits for the stream's next trade of its symbol before it is filled up to the newest trade. */
  readonly wait_ms: number;
  /** The normalized symbol of a native one (trade records carry the normalized symbol). */
  symbolOf(native: string): string | undefined;
  /** GETs a page through the venue's weight budget. */
  fetch(path: string): Promise<PageAnswer>;
  /** Feeds a page's body to the normalizer as an `http` frame of `path`. */
  deliver(path: string, body: string, recv_ts_ms: number): void;
  /** A hole's backfill ended: its gap's row again, with the trades it kept. */
  recovered(gap: WsGap, native: string, records: number): void;
  /** A hole's backfill stopped short; `detail` says why and what it kept. */
  failed(native: string, detail: string): void;
}

interface Hole extends TradeHole {
  readonly native: string;
  readonly symbol: string;
  readonly gap: WsGap;
  before_id: number | undefined;
  filling: boolean;
}

/** The page being fed to the normalizer (pushes are synchronous, so at most one). */
interface Feeding {
  readonly hole: Hole;
  readonly ids: number[];
  kept: number;
}

export class TradeGaps {
  /** Last stream trade id per normalized symbol. */
  private readonly last = new Map<string, string>();
  /** The open hole per normalized symbol: waiting for the stream's next trade, or filling. */
  private readonly holes = new Map<string, Hole>();
  private feeding: Feeding | undefined;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(private readonly options: TradeGapsOptions) {}

  /** Every trade the normalizer emits; false drops it (a backfilled trade outside its hole). */
  accept(record: TradeRecord): boolean {
    const feeding = this.feeding;
    if (feeding !== undefined) return this.backfilled(feeding, record);
    this.last.set(record.symbol, record.trade_id);
    if (this.holes.size === 0) return true;
    const hole = this.holes.get(record.symbol);
    if (hole !== undefined && hole.before_id === undefined) {
      hole.before_id = Number(record.trade_id);
      if (!hole.filling) this.fill(hole);
    }
    return true;
  }

  /** A hole in the trade stream of `natives` (the symbols of the lost connection). */
  gap(gap: WsGap, natives: readonly string[]): void {
    if (this.stopped) return;
    const opened: Hole[] = [];
    for (const native of natives) {
      const symbol = this.options.symbolOf(native);
      const last = symbol === undefined ? undefined : this.last.get(symbol);
      if (symbol === undefined || last === undefined) continue;
      const waiting = this.holes.get(symbol);
      // No stream trade since the last hole: it still covers this one.
      if (waiting !== undefined && !waiting.filling) continue;
      const after_id = Number(last);
      if (!Number.isSafeInteger(after_id)) continue;
      const hole: Hole = { native, symbol, gap, after_id, before_id: undefined, filling: false };
      this.holes.set(symbol, hole);
      opened.push(hole);
    }
    if (opened.length === 0) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      for (const hole of opened) if (!hole.filling && this.holes.get(hole.symbol) === hole) this.fill(hole);
    }, this.options.wait_ms);
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private backfilled(feeding: Feeding, record: TradeRecord): boolean {
    const { hole } = feeding;
    if (record.symbol !== hole.symbol) return false;
    const id = Number(record.trade_id);
    feeding.ids.push(id);
    if (!(id > hole.after_id) || (hole.before_id !== undefined && id >= hole.before_id)) return false;
    feeding.kept++;
    return true;
  }

  private fill(hole: Hole): void {
    hole.filling = true;
    let kept = 0;
    const { options } = this;
    const io = {
      fetch: (path: string) => options.fetch(path),
      push: (path: string, body: string, recv_ts_ms: number): readonly number[] => {
        const feeding: Feeding = { hole, ids: [], kept: 0 };
        this.feeding = feeding;
        try {
          options.deliver(path, body, recv_ts_ms);
        } finally {
          this.feeding = undefined;
        }
        kept += feeding.kept;
        return feeding.ids;
      },
      running: () => !this.stopped,
    };
    void fetchTradePages(options.spec, hole.native, hole, io, options.max_pages).then((result) => {
      if (this.holes.get(hole.symbol) === hole) this.holes.delete(hole.symbol);
      if (this.stopped) return;
      options.recovered(hole.gap, hole.native, kept);
      if (result.failure !== undefined) options.failed(hole.native, `${result.failure}; ${kept} trades recovered in ${result.pages} pages`);
    });
  }
}
