import { MAX_TRADES_PER_STEP, type TradeTape } from "./generated-book.ts";

/**
 * The generated venues' REST trade history (Binance `historicalTrades` / `aggTrades`, OKX
 * `history-trades`): the trades the stream carried or would have carried, up to the step the
 * feed has passed. A generated trade is a pure function of its instrument and its sequence
 * number `seq` = step × MAX_TRADES_PER_STEP + index in the step (generated-book.ts TradeTape),
 * so the history needs no memory of what was sent: the same function renders the stream's
 * frames and these pages, and a trade missed on the socket (a disconnect) is served as it
 * would have been sent. The history is bounded, as a venue's retention is: steps older than
 * TRADE_HISTORY_STEPS before the newest are gone.
 */

/** Steps of trade history served: one hour of 100 ms steps. */
export const TRADE_HISTORY_STEPS = 36_000;

const stepOf = (seq: number): number => Math.floor(seq / MAX_TRADES_PER_STEP);

/** Sequence numbers from `from_seq` up (oldest first), through step `last_k`, at most `limit`. */
export function tradeSeqsFrom(tape: TradeTape, from_seq: number, last_k: number, limit: number): number[] {
  const out: number[] = [];
  const first_k = Math.max(stepOf(from_seq), last_k - TRADE_HISTORY_STEPS + 1);
  for (let k = first_k; k <= last_k && out.length < limit; k++) {
    const n = tape.count(k);
    for (let j = 0; j < n && out.length < limit; j++) {
      const seq = k * MAX_TRADES_PER_STEP + j;
      if (seq >= from_seq) out.push(seq);
    }
  }
  return out;
}

/**
 * Sequence numbers below `before_seq` (exclusive; undefined: the newest), newest first, through
 * step `last_k`, at most `limit`.
 */
export function tradeSeqsBefore(tape: TradeTape, before_seq: number | undefined, last_k: number, limit: number): number[] {
  const out: number[] = [];
  const top_k = before_seq === undefined ? last_k : Math.min(last_k, stepOf(before_seq));
  const oldest_k = last_k - TRADE_HISTORY_STEPS + 1;
  for (let k = top_k; k >= oldest_k && out.length < limit; k--) {
    for (let j = tape.count(k) - 1; j >= 0 && out.length < limit; j--) {
      const seq = k * MAX_TRADES_PER_STEP + j;
      if (before_seq === undefined || seq < before_seq) out.push(seq);
    }
  }
  return out;
}

/** `seq`'s step and index in the step. */
export function tradeStep(seq: number): { readonly k: number; readonly j: number } {
  return { k: stepOf(seq), j: seq % MAX_TRADES_PER_STEP };
}
