import { afterAll, beforeAll, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";

/**
 * The simulator's statistics histories (Binance `/futures/data` with startTime/endTime, OKX
 * rubik with begin/end) answer a bucket with the row the live poll got for it, and the
 * `rest_error` fault refuses one REST path while the others answer.
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ rate: 500, synthetic_interval_ms: 50 });
});
afterAll(async () => {
  expect(sim.violations.rules()).toEqual({});
  await sim.stop();
});

const P = 300_000;

async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(`${sim.url}${path}`);
  expect(r.status).toBe(200);
  return (await r.json()) as T;
}

test("Binance ratio history: a bucket asked by startTime/endTime is the row the latest-bucket poll returned", async () => {
  const q = "symbol=SUSHIUSDT&period=5m";
  const [live] = await getJson<{ timestamp: string }[]>(`/binance_derivatives/futures/data/topLongShortPositionRatio?${q}&limit=1`);
  const ts = Number(live?.timestamp);
  const history = await getJson<{ timestamp: string }[]>(`/binance_derivatives/futures/data/topLongShortPositionRatio?${q}&startTime=${ts - 2 * P}&endTime=${ts + P - 1}&limit=10`);
  expect(history.map((r) => Number(r.timestamp))).toEqual([ts - 2 * P, ts - P, ts]);
  expect(history[2]).toEqual(live!);
  const limited = await getJson<unknown[]>(`/binance_derivatives/futures/data/topLongShortPositionRatio?${q}&startTime=${ts - 2 * P}&endTime=${ts}&limit=2`);
  expect(limited).toEqual(history.slice(0, 2));
});

test("Binance openInterestHist: one row per closed bucket in range, stamped at the bucket's start", async () => {
  const now = Date.now();
  const last = Math.floor(now / P) * P - P;
  const rows = await getJson<{ symbol: string; sumOpenInterest: string; sumOpenInterestValue: string; timestamp: number }[]>(
    `/binance_derivatives/futures/data/openInterestHist?symbol=SUSHIUSDT&period=5m&startTime=${last - P}&endTime=${last + 10 * P}&limit=30`,
  );
  expect(rows.map((r) => r.timestamp)).toEqual([last - P, last]);
  for (const r of rows) {
    expect(r.symbol).toBe("SUSHIUSDT");
    expect(Number(r.sumOpenInterest)).toBeGreaterThan(90_000);
    expect(Number(r.sumOpenInterestValue)).toBeGreaterThan(0);
  }
});

test("OKX rubik history: begin/end picks the buckets, newest first, with the live poll's row for the latest", async () => {
  const q = "instId=BTC-USDT-SWAP&period=5m";
  const path = "/okx_derivatives/api/v5/rubik/stat/contracts/long-short-account-ratio-contract";
  const live = await getJson<{ data: string[][] }>(`${path}?${q}&limit=1`);
  const ts = Number(live.data[0]?.[0]);
  const history = await getJson<{ data: string[][] }>(`${path}?${q}&begin=${ts - P}&end=${ts + P - 1}&limit=100`);
  expect(history.data.map((r) => Number(r[0]))).toEqual([ts, ts - P]);
  expect(history.data[0]).toEqual(live.data[0]!);
});

test("a rest_error fault on one path answers 503 there and leaves the venue's other paths alone", async () => {
  sim.fault({ venue: "binance_derivatives", kind: "rest_error", seconds: 30, path: "/fapi/v1/openInterest" });
  const refused = await fetch(`${sim.url}/binance_derivatives/fapi/v1/openInterest?symbol=SUSHIUSDT`);
  expect(refused.status).toBe(503);
  await getJson(`/binance_derivatives/futures/data/openInterestHist?symbol=SUSHIUSDT&period=5m&limit=1`);
  expect(sim.faultEffects("binance_derivatives", "rest_error")).toBe(1);
  const bad = await fetch(`${sim.url}/simulator/faults`, { method: "POST", body: JSON.stringify({ venue: "okx_spot", kind: "silence", seconds: 1, path: "/x" }) });
  expect(bad.status).toBe(400);
  expect(await bad.text()).toContain('"path" goes with "rest_error" only');
});
