import { crc32 } from "node:zlib";
import type { RawFrame } from "../../../src/venues/types.ts";
import { ladder, type Levels, OKX_WS, ws } from "./frame-builders.ts";

/**
 * OKX `books` pushes for the written seeds: a snapshot and updates whose checksums are computed
 * here the way OKX documents them, independently of src/book, and on the swap seqId/prevSeqId.
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 */

/** A book model for writing checksums the way OKX computes them (independent of src/book). */
class OkxSeedBook {
  private readonly bids = new Map<number, [string, string]>();
  private readonly asks = new Map<number, [string, string]>();

  apply(bids: Levels, asks: Levels): void {
    for (const [side, levels] of [[this.bids, bids], [this.asks, asks]] as const)
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(Number(p));
        else side.set(Number(p), [p, q]);
      }
  }

  /** Signed CRC32 of bid1:ask1:… (price:size) over the top 25 of each side. */
  checksum(): number {
    const bids = [...this.bids.entries()].sort((x, y) => y[0] - x[0]).slice(0, 25);
    const asks = [...this.asks.entries()].sort((x, y) => x[0] - y[0]).slice(0, 25);
    const parts: string[] = [];
    for (let i = 0; i < 25; i++) {
      const b = bids[i];
      const a = asks[i];
      if (b !== undefined) parts.push(`${b[1][0]}:${b[1][1]}`);
      if (a !== undefined) parts.push(`${a[1][0]}:${a[1][1]}`);
    }
    return crc32(parts.join(":")) | 0;
  }
}

/** OKX levels carry four strings: price, size, deprecated "0", order count. */
const okxLevels = (levels: Levels): string[][] => levels.map(([p, q]) => [p, q, "0", q === "0" ? "0" : "2"]);

export function okxBookFrames(instId: string, t: number, withSeq: boolean, base: number, step: number): RawFrame[] {
  const book = new OkxSeedBook();
  const out: RawFrame[] = [];
  const pushes: { action: "snapshot" | "update"; bids: Levels; asks: Levels }[] = [
    { action: "snapshot", bids: ladder(base, -step, 40, 1), asks: ladder(base + step, step, 40, 1) },
    { action: "update", bids: [[(base - step).toFixed(1), "0"]], asks: [[(base + 2 * step).toFixed(1), "7.500"]] },
    { action: "update", bids: ladder(base - step / 2, -step, 9, 2), asks: ladder(base + step * 1.5, step, 9, 2) },
    { action: "update", bids: [[(base + step / 2).toFixed(2), "0.100"]], asks: [] },
  ];
  let seq = 500;
  pushes.forEach((p, i) => {
    book.apply(p.bids, p.asks);
    const d: Record<string, unknown> = { asks: okxLevels(p.asks), bids: okxLevels(p.bids), ts: String(t + i * 100), checksum: book.checksum() };
    if (withSeq) {
      d.prevSeqId = p.action === "snapshot" ? -1 : seq;
      seq += 3;
      d.seqId = seq;
    }
    out.push(ws(OKX_WS, t + i * 100 + 1, { arg: { channel: "books", instId }, action: p.action, data: [d] }));
  });
  return out;
}

