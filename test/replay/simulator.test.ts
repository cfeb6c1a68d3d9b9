import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CaptureWriter } from "../../src/replay/capture.ts";
import { BinanceReplay } from "../../src/venues/binance/sim-replay.ts";
import { readRecording } from "../../src/replay/recording.ts";
import { startSimulator } from "../../src/replay/simulator.ts";
import { generatorSource, recordingsSource } from "../../src/replay/source.ts";
import { RECORDINGS_DIR, recordingTest } from "../support/recordings.ts";
import { waitFor } from "../support/wait.ts";

test("a missing recordings folder is an error naming its path", async () => {
  const dir = join(tmpdir(), "spectra-no-such-recordings");
  await expect(startSimulator({ dir })).rejects.toThrow(dir);
});

const LOOPS = 4;

for (const [kind, venue, stream, symbol] of [
  ["recorded", "binance_derivatives", "sushiusdt@depth@100ms", "SUSHIUSDT"],
  ["recorded", "binance_spot", "nknusdt@depth@100ms", "NKNUSDT"],
  ["generated", "binance_derivatives", "ethusdt@depth@100ms", "ETHUSDT"],
  ["generated", "binance_spot", "ethusdt@depth@100ms", "ETHUSDT"],
] as const) {
  const testOf = kind === "recorded" ? recordingTest : test;
  const span = kind === "recorded" ? `across ${LOOPS} loop boundaries (one bridge diff closes each loop)` : `over ${LOOPS * 100} generated steps`;
  testOf(`${venue} ${kind} diffs chain ${span}`, async () => {
    const source = kind === "recorded" ? recordingsSource(RECORDINGS_DIR) : generatorSource(2);
    const start_ms = Date.now();
    const sim = await startSimulator({ source, rate: 0, synthetic_interval_ms: 1000, start_ms });
    // Recordings loop; the generator renders step after step (live-feed.ts): as many diffs as LOOPS loops of its recording.
    const replay = kind === "recorded" ? new BinanceReplay(source.read(`${venue}.jsonl`), venue === "binance_derivatives", start_ms) : undefined;
    const loopStart = replay?.shifts(symbol, LOOPS).update;
    const ws = new WebSocket(`${sim.url.replace("http", "ws")}/${venue}${venue === "binance_derivatives" ? "/public" : ""}/stream?streams=${stream}`);
    const diffs: { U: number; u: number; pu?: number }[] = [];
    ws.onmessage = (e) => diffs.push(JSON.parse(String(e.data)).data);
    try {
      const reached = (): boolean => (loopStart === undefined ? diffs.length >= LOOPS * 100 : (diffs[diffs.length - 1]?.u ?? 0) >= loopStart);
      await waitFor(`diffs of loop ${LOOPS}`, reached, 10_000);
      const breaks: number[] = [];
      for (let i = 1; i < diffs.length; i++) {
        const prev = diffs[i - 1];
        const d = diffs[i];
        if (!prev || !d) continue;
        // Ids always rise (natural keys never repeat), across loop boundaries too.
        expect(d.U).toBeGreaterThan(prev.u);
        const chained = venue === "binance_derivatives" ? d.pu === prev.u : d.U === prev.u + 1;
        if (!chained) breaks.push(i);
      }
      expect(breaks).toEqual([]);
    } finally {
      ws.close();
      await sim.stop();
    }
  });
}

test("the capture writer writes the fixture line format, keys in order, recv_ts in seconds", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spectra-capture-"));
  const writer = new CaptureWriter(dir, "okx_spot");
  writer.write("ws", "ws://h/ws/v5/public", 1652459225503.7, '{"a":"b"}');
  await writer.close();
  expect(readFileSync(writer.path, "utf8")).toBe('{"source":"ws","url":"ws://h/ws/v5/public","recv_ts":1652459225.5037,"raw":"{\\"a\\":\\"b\\"}"}\n');
  expect(readRecording(dir, "okx_spot.jsonl")).toEqual([{ source: "ws", url: "ws://h/ws/v5/public", recv_ts: 1652459225.5037, raw: '{"a":"b"}' }]);
});

test("each venue's statistics take its own period names: Binance 1h, OKX Rubik 1H, and neither the other's", async () => {
  const sim = await startSimulator({ source: generatorSource(1), rate: 1 });
  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const r = await fetch(`${sim.url}${path}`);
    return { status: r.status, body: await r.json() };
  };
  try {
    const binance = (period: string): string => `/binance_derivatives/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=${period}&limit=2`;
    const okx = (period: string): string => `/okx_derivatives/api/v5/rubik/stat/contracts/long-short-account-ratio-contract?instId=BTC-USDT-SWAP&period=${period}&limit=2`;
    const hourly = await get(binance("1h"));
    expect(hourly.status).toBe(200);
    const rows = hourly.body as { timestamp: string }[];
    expect(Number(rows[1]?.timestamp) - Number(rows[0]?.timestamp)).toBe(3_600_000);
    expect((await get(binance("1H"))).status).toBe(400);
    const rubik = await get(okx("1H"));
    expect(rubik.status).toBe(200);
    const data = (rubik.body as { data: string[][] }).data;
    expect(Number(data[0]?.[0]) - Number(data[1]?.[0])).toBe(3_600_000);
    expect(await get(okx("1h"))).toEqual({ status: 400, body: { code: "51000", data: [], msg: "Parameter period error" } });
  } finally {
    await sim.stop();
  }
});
