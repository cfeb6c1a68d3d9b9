import type { RawLevel } from "../../book/price-book.ts";
import type { DataType } from "../../records/types.ts";
import { isLevelList, isObject, toUint } from "../normalizer-stats.ts";

/**
 * OKX raw wire shapes (fixtures README sections 6, 9 and 10) and their guards.
 * Every field arrives as a string, times included.
 */

export interface OkxBookMessage {
  readonly action: "snapshot" | "update";
  readonly bids: RawLevel[];
  readonly asks: RawLevel[];
  readonly ts_ms: number;
  /** 0 when absent: current OKX sends 0 (deprecated), 2022 OKX sent a real CRC32. */
  readonly checksum: number;
  /** -1 when absent (2022 OKX has no sequence ids). */
  readonly seq_id: number;
  readonly prev_seq_id: number;
}

/**
 * Narrows a `books*` push: `{"arg":{…,"instId"},"action","data":[{asks,bids,ts,checksum,seqId?,prevSeqId?}]}`.
 * `data` holds exactly one book; the instrument is the caller's (`arg.instId`).
 */
export function bookMessage(action: unknown, data: unknown[]): OkxBookMessage | undefined {
  if ((action !== "snapshot" && action !== "update") || data.length !== 1) return undefined;
  const d = data[0];
  if (!isObject(d) || !isLevelList(d.bids) || !isLevelList(d.asks)) return undefined;
  const ts = toUint(d.ts);
  const checksum = d.checksum === undefined ? 0 : d.checksum;
  const seq = d.seqId === undefined ? -1 : toUint(d.seqId);
  // A snapshot's prevSeqId is -1: nothing before it to check against.
  const prev = d.prevSeqId === undefined || d.prevSeqId === -1 ? -1 : toUint(d.prevSeqId);
  if (ts === undefined || typeof checksum !== "number" || !Number.isInteger(checksum)) return undefined;
  if (seq === undefined || prev === undefined) return undefined;
  return { action, bids: d.bids, asks: d.asks, ts_ms: ts, checksum, seq_id: seq, prev_seq_id: prev };
}

export type OkxRest = "instruments" | "funding-rate" | "open-interest" | "lsr_top_position" | "lsr_all_account" | "history-trades";

export const REST_TYPES: Readonly<Record<Exclude<OkxRest, "instruments">, DataType>> = {
  "funding-rate": "funding_rate",
  "open-interest": "open_interest",
  lsr_top_position: "lsr_top_position",
  lsr_all_account: "lsr_all_account",
  "history-trades": "trade",
};

/** REST bodies are routed by path (host and API prefix vary between live, replay and captures). */
export function restRoute(path: string): OkxRest | undefined {
  if (path.endsWith("/public/instruments")) return "instruments";
  if (path.endsWith("/public/funding-rate")) return "funding-rate";
  if (path.endsWith("/public/open-interest")) return "open-interest";
  if (path.endsWith("/long-short-position-ratio-contract-top-trader")) return "lsr_top_position";
  if (path.endsWith("/long-short-account-ratio-contract")) return "lsr_all_account";
  if (path.endsWith("/market/history-trades")) return "history-trades";
  return undefined;
}
