import { describe, expect, test } from "bun:test";
import { ID_EPOCH_MS } from "../../src/replay/feed.ts";
import type { RecordedLine } from "../../src/replay/recording.ts";
import { BinanceReplay } from "../../src/venues/binance/sim-replay.ts";

/**
 * How a Binance replay shifts the ids of a `--record` capture (src/venues/binance/sim-replay.ts):
 * spot `@trade` frames keep their recorded trade ids (moved by the trade shift, not the time
 * shift), are not derived a second time from aggTrades, and the shift stays an exact integer
 * although aggregate ids and trade ids lie 10^12 apart, as on the generator.
 */

const URL_WS = "ws://127.0.0.1:1/binance_spot/stream";
/** 2026-12-04T00:00:00.250Z: a recording that starts a quarter second into a second. */
const T0 = Date.UTC(2026, 11, 4) + 250;

function line(t_ms: number, raw: object): RecordedLine {
  return { source: "ws", url: URL_WS, recv_ts: t_ms / 1000, raw: JSON.stringify(raw) };
}

const trade = (t_ms: number, id: number) => line(t_ms, { stream: "btcusdt@trade", data: { e: "trade", E: t_ms, s: "BTCUSDT", t: id, p: "65000.10", q: "0.5", T: t_ms - 1, m: true, M: true } });
const agg = (t_ms: number, a: number, f: number) =>
  line(t_ms, { stream: "btcusdt@aggTrade", data: { e: "aggTrade", E: t_ms, s: "BTCUSDT", a, p: "65000.10", q: "0.5", f, l: f, T: t_ms - 1, m: true, M: true } });

/** Aggregate ids near 1.8·10^12, trade ids four times that, as the generator makes them. */
const A0 = 1_800_000_000_000;
const F0 = 7_200_000_000_000;

describe("Binance replay of a capture", () => {
  const lines = [trade(T0, F0), agg(T0 + 10, A0, F0), trade(T0 + 4_000, F0 + 40), agg(T0 + 4_010, A0 + 10, F0 + 40), trade(T0 + 9_600, F0 + 80)];
  const start_ms = Date.UTC(2026, 11, 4, 1);
  const replay = new BinanceReplay(lines, false, start_ms);

  test("recorded @trade frames are served as recorded, none derived from the aggTrades beside them", () => {
    expect(replay.frames.map((f) => f.key)).toEqual(["btcusdt@trade", "btcusdt@aggtrade", "btcusdt@trade", "btcusdt@aggtrade", "btcusdt@trade"]);
    expect(replay.frames.map((f) => f.trade === true)).toEqual([true, false, true, false, true]);
  });

  test("trade ids move by the larger id span of the two series, an exact integer; times by whole seconds", () => {
    const loop0 = replay.shifts("BTCUSDT", 0);
    const loop1 = replay.shifts("BTCUSDT", 1);
    // Trade ids span F0..F0+80 (81), aggregate ids A0..A0+10 (11): one shift of 81 per loop.
    expect(loop1.trade - loop0.trade).toBe(81);
    expect(Number.isSafeInteger(loop0.trade + F0)).toBe(true);
    // A 9.6 s recording starting 250 ms into its second loops every 10 s + 1 s of quiet.
    expect(loop1.time - loop0.time).toBe(11_000);
    expect(loop0.time % 1000).toBe(0);
    expect(T0 + loop0.time).toBeGreaterThanOrEqual(ID_EPOCH_MS);

    const first = JSON.parse(replay.frames[0]!.template.render(loop0)) as { data: { t: number; E: number; T: number } };
    expect(first.data).toMatchObject({ t: F0 + loop0.trade, E: T0 + loop0.time, T: T0 - 1 + loop0.time });
    const next = JSON.parse(replay.frames[0]!.template.render(loop1)) as { data: { t: number } };
    expect(next.data.t).toBe(F0 + loop1.trade);
    expect(next.data.t).toBeGreaterThan(F0 + 80 + loop0.trade);
  });
});
