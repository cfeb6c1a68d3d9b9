import { crc32 } from "node:zlib";
import {
  decimalText,
  GENERATED_STEP_MS,
  GENERATED_STEPS,
  GENERATED_T0_MS,
  GeneratedBook,
  maybeTrade,
  priceDecimals,
  quantityDecimals,
  SeededRandom,
  type SimAsset,
  type TickLevel,
} from "../../replay/generated-book.ts";
import type { RecordedLine } from "../../replay/recording.ts";

/**
 * A generated OKX v5 public recording for the simulator (one connection carrying SPOT
 * `BASE-USDT` and SWAP `BASE-USDT-SWAP` for every asset), in today's documented shapes:
 * - `books`: one `snapshot` push, then an `update` every 100 ms, each with `seqId`,
 *   `prevSeqId` (-1 on the snapshot, the previous `seqId` after it) and the signed CRC32 of the
 *   top 25 levels after it is applied:
 *   https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 * - `trades` with increasing `tradeId`:
 *   https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
 * - `GET /api/v5/public/instruments?instType=SPOT|SWAP` listing exactly those instruments:
 *   https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments
 * Funding, mark and index prices, open interest, liquidations and the rubik ratios come from
 * the simulator's documented-shape pushes and REST answers (src/replay/synthetic.ts).
 */

const QUOTE = "USDT";
const CHECKSUM_LEVELS = 25;
const WS_URL = "wss://ws.okx.com:8443/ws/v5/public";

interface Instrument {
  readonly instId: string;
  readonly swap: boolean;
  readonly asset: SimAsset;
  readonly pd: number;
  /** Spot: base-currency decimals; swap: sizes are whole contracts. */
  readonly qd: number;
}

function instrumentsOf(assets: readonly SimAsset[]): Instrument[] {
  return assets.flatMap((asset) => {
    const pd = priceDecimals(asset.price);
    const spot = `${asset.base}-${QUOTE}`;
    return [
      { instId: spot, swap: false, asset, pd, qd: quantityDecimals(asset.price) },
      { instId: `${spot}-SWAP`, swap: true, asset, pd, qd: 0 },
    ];
  });
}

/** Signed CRC32 of `bid1Px:bid1Sz:ask1Px:ask1Sz:…` over the top 25 levels (the docs' "Checksum"). */
function checksum(bids: readonly [string, string][], asks: readonly [string, string][]): number {
  const parts: string[] = [];
  for (let i = 0; i < CHECKSUM_LEVELS; i++) {
    const b = bids[i];
    const a = asks[i];
    if (b !== undefined) parts.push(`${b[0]}:${b[1]}`);
    if (a !== undefined) parts.push(`${a[0]}:${a[1]}`);
  }
  return crc32(parts.join(":")) | 0;
}

function instrumentLines(inst: Instrument): RecordedLine[] {
  const rng = new SeededRandom(`okx:${inst.instId}`);
  const maxLots = inst.swap ? 500 : 2000;
  const book = new GeneratedBook(rng, Math.round(inst.asset.price * 10 ** inst.pd), maxLots);
  const px = (t: number): string => decimalText(t, inst.pd);
  const sz = (l: number): string => decimalText(l, inst.qd);
  const pairs = (side: readonly TickLevel[]): [string, string][] => side.map(([t, l]) => [px(t), sz(l)]);
  // Size "0" deletes a level; the third field is deprecated and always "0"; the fourth counts orders.
  const levels = (side: readonly TickLevel[]): string[][] =>
    side.map(([t, l]) => (l === 0 ? [px(t), "0", "0", "0"] : [px(t), sz(l), "0", String(rng.int(1, 12))]));
  const sum = (): number => checksum(pairs(book.topBids(CHECKSUM_LEVELS)), pairs(book.topAsks(CHECKSUM_LEVELS)));
  const out: RecordedLine[] = [];
  const line = (ts_ms: number, raw: object): void => {
    out.push({ source: "ws", url: WS_URL, recv_ts: ts_ms / 1000, raw: JSON.stringify(raw) });
  };
  const arg = (channel: string) => ({ channel, instId: inst.instId });

  let seqId = 10_000_000_000 + rng.int(0, 1_000_000_000);
  line(GENERATED_T0_MS, {
    arg: arg("books"),
    action: "snapshot",
    data: [{ asks: levels(book.topAsks(1000)), bids: levels(book.topBids(1000)), ts: String(GENERATED_T0_MS), checksum: sum(), prevSeqId: -1, seqId }],
  });
  let tradeId = 100_000_000 + rng.int(0, 100_000_000);
  for (let k = 1; k <= GENERATED_STEPS; k++) {
    const ts = GENERATED_T0_MS + k * GENERATED_STEP_MS;
    const trade = maybeTrade(rng, book, inst.swap ? 20 : 50);
    if (trade !== undefined) {
      const t = { instId: inst.instId, tradeId: String(tradeId++), px: px(trade.tick), sz: sz(trade.lots), side: trade.buy ? "buy" : "sell", ts: String(ts - 1), count: "1" };
      line(ts, { arg: arg("trades"), data: [t] });
    }
    const step = book.step();
    const asks = levels([...step.asks].sort((x, y) => x[0] - y[0]));
    const bids = levels([...step.bids].sort((x, y) => y[0] - x[0]));
    const prevSeqId = seqId;
    seqId += rng.int(1, 30);
    line(ts, { arg: arg("books"), action: "update", data: [{ asks, bids, ts: String(ts), checksum: sum(), prevSeqId, seqId }] });
  }
  return out;
}

function instrumentsBody(insts: readonly Instrument[], swap: boolean): RecordedLine {
  const data = insts
    .filter((i) => i.swap === swap)
    .map((i) => {
      const family = `${i.asset.base}-${QUOTE}`;
      const common = {
        instType: swap ? "SWAP" : "SPOT", instId: i.instId, state: "live", tickSz: decimalText(1, i.pd), listTime: String(GENERATED_T0_MS),
        alias: "", expTime: "", optType: "", stk: "", lever: swap ? "100" : "10",
      };
      return swap
        ? { ...common, uly: family, instFamily: family, baseCcy: "", quoteCcy: "", settleCcy: QUOTE, ctType: "linear",
            ctVal: decimalText(1, quantityDecimals(i.asset.price)), ctValCcy: i.asset.base, ctMult: "1", lotSz: "1", minSz: "1" }
        : { ...common, uly: "", instFamily: "", baseCcy: i.asset.base, quoteCcy: QUOTE, settleCcy: "", ctType: "", ctVal: "",
            ctValCcy: "", ctMult: "", lotSz: decimalText(1, i.qd), minSz: decimalText(1, i.qd) };
    });
  return {
    source: "http",
    url: `https://www.okx.com/api/v5/public/instruments?instType=${swap ? "SWAP" : "SPOT"}`,
    recv_ts: GENERATED_T0_MS / 1000,
    raw: JSON.stringify({ code: "0", data, msg: "" }),
  };
}

/** The fixture files this venue's recording and reference bodies would be, generated for `assets`. */
export function okxGeneratedFiles(assets: readonly SimAsset[]): Map<string, () => RecordedLine[]> {
  const insts = instrumentsOf(assets);
  return new Map([
    ["okx.jsonl", () => insts.flatMap(instrumentLines).sort((x, y) => x.recv_ts - y.recv_ts)],
    ["reference/okx_instruments.jsonl", () => [instrumentsBody(insts, false), instrumentsBody(insts, true)]],
  ]);
}
