import { afterEach, expect, test } from "bun:test";
import { SentTrades } from "../../src/replay/sent-trades.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource, type RecordingSource } from "../../src/replay/source.ts";
import { waitFor } from "../support/wait.ts";

/**
 * A replayed venue's REST trade history (src/replay/sent-trades.ts): the trades the feed sent,
 * kept per symbol in id order and bounded, paged as the venues page (Binance from `fromId` up,
 * OKX below `after`, newest first).
 */

let sim: Simulator | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

test("keeps each symbol's newest trades in id order, bounded, and pages them both ways", () => {
  const sent = new SentTrades(5);
  for (let id = 1; id <= 3; id++) sent.add("A", id * 10, `a${id * 10}`);
  sent.add("A", 20, "again");
  expect(sent.from("A", 15, 10)).toEqual(["a20", "a30"]);
  expect(sent.before("A", 30, 10)).toEqual(["a20", "a10"]);
  expect(sent.before("A", undefined, 2)).toEqual(["a30", "a20"]);
  expect(sent.from("B", 0, 10)).toEqual([]);
  for (let id = 4; id <= 8; id++) sent.add("A", id * 10, `a${id * 10}`);
  // Past the bound the oldest go, in one trim.
  const kept = sent.from("A", 0, 100);
  expect(kept.length).toBeLessThanOrEqual(5);
  expect(kept.at(-1)).toBe("a80");
  expect(kept).toEqual([...kept].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))));
});

/** The generator's recordings replayed as recordings are (looped by the feed pump, not rendered live). */
function loopedRecordings(): RecordingSource {
  const generated = generatorSource(2);
  return { description: "generated recordings", read: (file) => generated.read(file) };
}

test("a replayed venue serves the trades its stream sent: Binance spot historicalTrades and OKX history-trades", async () => {
  sim = await startSimulator({ source: loopedRecordings(), rate: 2000 });
  const s = sim;
  const native = s.symbols.binance_spot[0] as string;
  const received: number[] = [];
  const ws = new WebSocket(`${s.url.replace("http", "ws")}/binance_spot/stream?streams=${native.toLowerCase()}@trade`);
  ws.onmessage = (e) => void received.push((JSON.parse(String(e.data)) as { data: { t: number } }).data.t);
  const okxIds: number[] = [];
  const instId = s.symbols.okx_spot[0] as string;
  const okx = new WebSocket(`${s.url.replace("http", "ws")}/okx_spot/ws/v5/public`);
  okx.onopen = () => okx.send(JSON.stringify({ op: "subscribe", args: [{ channel: "trades", instId }] }));
  okx.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as { data?: { tradeId: string }[] };
    for (const t of m.data ?? []) okxIds.push(Number(t.tradeId));
  };
  await waitFor("trades on both venues", () => received.length >= 50 && okxIds.length >= 50, 20_000, 20);
  ws.close();
  okx.close();
  const first = received[0] as number;
  const page = (await (await fetch(`${s.url}/binance_spot/api/v3/historicalTrades?symbol=${native}&fromId=${first}&limit=1000`)).json()) as { id: number; time: number; isBuyerMaker: boolean }[];
  const ids = page.map((t) => t.id);
  const n = Math.min(received.length, 1000);
  expect(ids.length).toBeGreaterThanOrEqual(n);
  expect(ids.slice(0, n)).toEqual(received.slice(0, n));
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  const newest = okxIds.at(-1) as number;
  const history = (await (await fetch(`${s.url}/okx_spot/api/v5/market/history-trades?instId=${instId}&type=1&limit=100&after=${newest + 1}`)).json()) as { code: string; data: { tradeId: string }[] };
  expect(history.code).toBe("0");
  // Trades the feed passed before the subscription took effect are in the history too, older than the first received.
  const got = history.data.map((t) => Number(t.tradeId)).filter((id) => id >= (okxIds[0] as number));
  expect(got.length).toBe(Math.min(100, okxIds.length));
  expect(got).toEqual(okxIds.slice(-got.length).reverse());
  const unknown = await fetch(`${s.url}/binance_spot/api/v3/historicalTrades?symbol=NOPEUSDT`);
  expect(unknown.status).toBe(400);
}, 60_000);
