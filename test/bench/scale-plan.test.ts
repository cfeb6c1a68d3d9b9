import { describe, expect, test } from "bun:test";
import { VENUE_KEYS, type VenueKey } from "../../src/config/venue-keys.ts";
import { formatSuite } from "../../bench/report.ts";
import { compareWithHistory, type HistoryLine } from "../../bench/history.ts";
import { generatedAssets, pointChecks, scalePoint, spreadSymbols, venueSymbols, type ScalePoint } from "../../bench/scale-plan.ts";

const total = (counts: Record<VenueKey, number>): number => VENUE_KEYS.reduce((s, v) => s + counts[v], 0);

describe("scale bench: symbols per venue", () => {
  test("spreads every point's symbols over the five venues, Deribit keeping its two DVOL currencies", () => {
    expect(spreadSymbols(100)).toEqual({ binance_spot: 25, binance_derivatives: 25, okx_spot: 24, okx_derivatives: 24, deribit_derivatives: 2 });
    expect(spreadSymbols(500)).toEqual({ binance_spot: 125, binance_derivatives: 125, okx_spot: 124, okx_derivatives: 124, deribit_derivatives: 2 });
    expect(spreadSymbols(2000)).toEqual({ binance_spot: 500, binance_derivatives: 500, okx_spot: 499, okx_derivatives: 499, deribit_derivatives: 2 });
    for (const n of [6, 7, 101, 999, 2000]) expect(total(spreadSymbols(n))).toBe(n);
  });

  test("refuses a point too small to give every venue a symbol", () => {
    expect(() => spreadSymbols(5)).toThrow(/at least 6 symbols, got 5/);
    expect(() => spreadSymbols(100.5)).toThrow(RangeError);
  });

  test("generates as many assets per venue as the busiest venue takes", () => {
    expect(generatedAssets(spreadSymbols(100))).toBe(25);
    expect(generatedAssets(spreadSymbols(2000))).toBe(500);
  });

  test("takes each venue's first listed instruments, and names a venue that lists too few", () => {
    const listed: Record<VenueKey, string[]> = {
      binance_spot: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
      binance_derivatives: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
      okx_spot: ["BTC-USDT", "ETH-USDT", "SOL-USDT"],
      okx_derivatives: ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"],
      deribit_derivatives: ["BTC", "ETH"],
    };
    const counts = spreadSymbols(12);
    expect(venueSymbols(listed, counts)).toEqual({
      binance_spot: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
      binance_derivatives: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
      okx_spot: ["BTC-USDT", "ETH-USDT"],
      okx_derivatives: ["BTC-USDT-SWAP", "ETH-USDT-SWAP"],
      deribit_derivatives: ["BTC", "ETH"],
    });
    expect(() => venueSymbols(listed, spreadSymbols(15))).toThrow("scale: binance_spot needs 4 symbols, the simulator lists 3");
  });
});

const measured = {
  window_s: 60.2,
  engine_cpu_s: 45.15,
  peak_rss_mb: 812.34,
  messages: 75_250,
  stored: 60_200,
  lost: 0,
  p99_ms: 1234.6,
  rate_limited: 0,
  books_live: 98,
  books_total: 98,
  sync_s: 19.34,
  rss_trend: { slope_mb_per_min: 4.2, r2: 0.12 },
};

describe("scale bench: a point's figures", () => {
  test("turns CPU seconds into % of one core and counts into rates over the window", () => {
    expect(scalePoint(measured)).toEqual({
      cpu_pct: 75,
      rss_mb: 812.3,
      msgs_per_s: 1250,
      stored_per_s: 1000,
      lost: 0,
      p99_ms: 1235,
      rate_limited: 0,
      books_live: 98,
      books_total: 98,
      sync_s: 19.3,
      rss_slope_mb_per_min: 4.2,
      rss_slope_r2: 0.12,
    });
    expect(() => scalePoint({ ...measured, window_s: 0 })).toThrow(/longer than 0 s/);
  });

  test("passes a clean point and names what a failing one got wrong", () => {
    const ok = scalePoint(measured);
    expect(pointChecks(100, ok)).toEqual([]);
    const bad: ScalePoint = { ...ok, lost: 3, rate_limited: 2, books_live: 90 };
    expect(pointChecks(500, bad)).toEqual(["500: lost 3 records", "500: 2 venue rules broken", "500: 90 of 98 books live (sync 19.3 s)"]);
    expect(pointChecks(100, { ...ok, stored_per_s: 0 })).toEqual(["100: nothing flowed end to end (1250 frames/s, 0 stored/s)"]);
    // RSS that rises steadily is not flat; the same slope scattered in a band (low r2) is the GC's sawtooth.
    expect(pointChecks(2000, { ...ok, rss_slope_mb_per_min: 45.3, rss_slope_r2: 0.81 })).toEqual(["2000: RSS rose 45.3 MB a minute over the window (r2 0.81)"]);
    expect(pointChecks(2000, { ...ok, rss_slope_mb_per_min: 45.3, rss_slope_r2: 0.2 })).toEqual([]);
    expect(pointChecks(2000, { ...ok, rss_slope_mb_per_min: 12, rss_slope_r2: 0.95 })).toEqual([]);
  });

  test("prints the points as one table with the checks below it", () => {
    const text = formatSuite("scale", { "100": { ...scalePoint(measured) }, "500": { ...scalePoint(measured), cpu_pct: 140 }, checks_passed: true, checks: [] }, {});
    const lines = text.split("\n");
    expect(lines[0]).toBe("== scale");
    expect(lines[1]).toMatch(/^scale\s+cpu_pct\s+rss_mb\s+msgs_per_s\s+stored_per_s\s+lost\s+p99_ms\s+rate_limited\s+books_live\s+books_total\s+sync_s\s+rss_slope_mb_per_min\s+rss_slope_r2$/);
    expect(lines[3]).toMatch(/^100\s+75\s+812\.3\s+1,250\s+1,000\s+0\s+1,235\s+0\s+98\s+98\s+19\.3\s+4\.2\s+0\.1$/);
    expect(lines[4]).toMatch(/^500\s+140\s/);
    expect(text).toContain("-- scale: checks");
    expect(text).toMatch(/checks_passed\s+true/);
  });

  test("flags more CPU, a slower sync, broken rules and fewer live books against the previous run as regressions", () => {
    const line = (point: ScalePoint): HistoryLine => ({ timestamp: "t", commit: "c", quick: true, machine: null, suites: { scale: { "100": { ...point } } } });
    const before = scalePoint(measured);
    const worse: ScalePoint = { ...before, cpu_pct: 90, sync_s: 30, rate_limited: 1, books_live: 80, msgs_per_s: 1240 };
    const comparison = compareWithHistory([line(before)], line(worse));
    expect(comparison.regressions).toBe(4);
    expect(comparison.text).toMatch(/scale\.100\.cpu_pct\s+75\s+90\s+\+20\.0%\s+REGRESSION/);
    expect(comparison.text).toMatch(/scale\.100\.books_live\s+98\s+80\s+-18\.4%\s+REGRESSION/);
    expect(compareWithHistory([line(before)], line(before)).regressions).toBe(0);
  });
});
