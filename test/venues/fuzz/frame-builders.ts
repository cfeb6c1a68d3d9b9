import type { RawFrame } from "../../../src/venues/types.ts";

/** Builders for the written seed frames (seeds.ts, okx-seed-book.ts). */

export const OKX_WS = "wss://ws.okx.com:8443/ws/v5/public";

export const ws = (url: string, recv_ts_ms: number, value: unknown): RawFrame => ({ source: "ws", url, recv_ts_ms, raw: JSON.stringify(value) });
export const http = (url: string, recv_ts_ms: number, value: unknown): RawFrame => ({ source: "http", url, recv_ts_ms, raw: JSON.stringify(value) });

export type Levels = [string, string][];

/** `n` levels from `start` stepping by `step` (negative for bids), quantities varied. */
export function ladder(start: number, step: number, n: number, decimals: number): Levels {
  const out: Levels = [];
  for (let i = 0; i < n; i++) out.push([(start + i * step).toFixed(decimals), ((i % 7) + 1 + i / 100).toFixed(3)]);
  return out;
}

