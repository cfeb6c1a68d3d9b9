import type { MarketRecord } from "../../records/types.ts";
import { isDecimal, isObject, isPositiveDecimal, toUint } from "../normalizer-stats.ts";
import type { SymbolScope } from "../symbol-scope.ts";

/**
 * OKX funding records joined from three channels: `funding-rate` has the rate and times but
 * no prices, so the latest `mark-price` (per swap) and `index-tickers` (per index, the swap's
 * BASE-QUOTE) fill mark_price and index_price. A funding push that arrives before both prices
 * are known is held (latest per swap) and emitted as soon as they are, never with a made-up price.
 * https://www.okx.com/docs-v5/en/#public-data-websocket-funding-rate-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-channel
 * https://www.okx.com/docs-v5/en/#public-data-websocket-index-tickers-channel
 */

interface PendingFunding {
  readonly instId: string;
  readonly index_id: string;
  readonly funding_rate: string;
  readonly funding_time: number;
  readonly next_funding_time: number;
  readonly ts_ms: number;
  readonly recv_ts_ms: number;
}

export type ElementOutcome = "emitted" | "ignored" | "bad";

export class OkxFundingJoin {
  private readonly marks = new Map<string, string>();
  private readonly indices = new Map<string, string>();
  private readonly pending = new Map<string, PendingFunding>();

  constructor(
    private readonly scope: SymbolScope,
    private readonly emit: (r: MarketRecord) => void,
  ) {}

  /** A `funding-rate` push element or a `/public/funding-rate` REST row. */
  rate(d: unknown, recv: number): ElementOutcome {
    if (!isObject(d) || typeof d.instId !== "string" || !isDecimal(d.fundingRate)) return "bad";
    const fundingTime = toUint(d.fundingTime);
    const nextTime = toUint(d.nextFundingTime);
    const ts = toUint(d.ts);
    if (fundingTime === undefined || nextTime === undefined || ts === undefined) return "bad";
    const inst = this.scope.get(d.instId);
    if (inst === undefined) return "ignored";
    const p: PendingFunding = {
      instId: d.instId,
      index_id: `${inst.base}-${inst.quote}`,
      funding_rate: d.fundingRate,
      funding_time: fundingTime,
      next_funding_time: nextTime,
      ts_ms: ts,
      recv_ts_ms: recv,
    };
    if (this.tryEmit(p)) return "emitted";
    this.pending.set(d.instId, p);
    return "ignored";
  }

  /** A `mark-price` element: `{instType, instId, markPx, ts}`. */
  mark(d: unknown, _recv: number): ElementOutcome {
    if (!isObject(d) || typeof d.instId !== "string" || !isPositiveDecimal(d.markPx)) return "bad";
    if (this.scope.get(d.instId) === undefined) return "ignored";
    this.marks.set(d.instId, d.markPx);
    return this.flush() ? "emitted" : "ignored";
  }

  /**
   * An `index-tickers` element: `{instId: "BTC-USDT", idxPx, …, ts}`. Only indices of kept swaps
   * are held (a swap's index is its underlying, `BTC-USDT` for `BTC-USDT-SWAP`), so unknown
   * index ids cannot grow the map.
   */
  index(d: unknown, _recv: number): ElementOutcome {
    if (!isObject(d) || typeof d.instId !== "string" || !isPositiveDecimal(d.idxPx)) return "bad";
    if (this.scope.get(`${d.instId}-SWAP`) === undefined) return "ignored";
    this.indices.set(d.instId, d.idxPx);
    return this.flush() ? "emitted" : "ignored";
  }

  /** Prices and funding pushes held for the join (marks, indices, pending pushes). */
  get held(): number {
    return this.marks.size + this.indices.size + this.pending.size;
  }

  private flush(): boolean {
    let any = false;
    for (const [instId, p] of this.pending) {
      if (this.tryEmit(p)) {
        this.pending.delete(instId);
        any = true;
      }
    }
    return any;
  }

  private tryEmit(p: PendingFunding): boolean {
    const mark = this.marks.get(p.instId);
    const index = this.indices.get(p.index_id);
    const inst = this.scope.get(p.instId);
    if (mark === undefined || index === undefined || inst === undefined) return false;
    this.emit({
      data_type: "funding_rate",
      exchange: "okx",
      market_type: inst.market_type,
      symbol: inst.symbol,
      ts_ms: p.ts_ms,
      recv_ts_ms: p.recv_ts_ms,
      funding_rate: p.funding_rate,
      funding_time: p.funding_time,
      next_funding_time: p.next_funding_time,
      mark_price: mark,
      index_price: index,
    });
    return true;
  }
}
