import { expect, test } from "bun:test";
import type { MarketRecord } from "../../src/records/types.ts";
import { SimViolations } from "../../src/replay/sim-violations.ts";
import { SimRestLimits } from "../../src/replay/sim-weight.ts";
import type { RestLimitScale } from "../../src/venues/connection/rest-budget.ts";
import { IngestRunner } from "../../src/venues/ingest.ts";
import { waitFor } from "../support/wait.ts";
import { binanceDepthDiff, binanceExchangeInfo } from "./support.ts";

/**
 * 50 Binance spot books that all need a REST snapshot at once, against a venue that counts
 * weight as Binance does (the simulator's SimRestLimits) with its limit shrunk to 1,000 weight
 * per 2 s window: the engine's budget spreads the 2,500 weight of snapshots over the windows,
 * so every book syncs and the venue never answers 429.
 */

const SYMBOLS = Array.from({ length: 50 }, (_, i) => `S${i}USDT`);
const SCALE: RestLimitScale = { limit: 1000 / 6000, window: 2000 / 60_000 };

test("a storm of 50 book snapshots syncs every book under a shrunken budget with no 429", async () => {
  const violations = new SimViolations();
  const limits = new SimRestLimits(violations, { scale: { binance_spot: SCALE } });
  let sockets = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      if (srv.upgrade(req)) return undefined;
      const url = new URL(req.url);
      const verdict = limits.admit("binance_spot", `${url.pathname}${url.search}`, Date.now());
      if ("refuse" in verdict) return verdict.refuse;
      const body = url.pathname === "/api/v3/exchangeInfo" ? binanceExchangeInfo(SYMBOLS) : '{"lastUpdateId":10,"bids":[["1.00","1"]],"asks":[["2.00","1"]]}';
      return new Response(body, { headers: { "content-type": "application/json", ...verdict.headers } });
    },
    websocket: {
      open(ws) {
        sockets++;
        // One diff per symbol that bridges the snapshot below (lastUpdateId 10, then U = u = 11).
        for (const s of SYMBOLS) ws.send(binanceDepthDiff(s, 11, 11));
      },
      message() {},
    },
  });
  const records: MarketRecord[] = [];
  const runner = new IngestRunner({
    venue: "binance_spot",
    config: {
      enabled: true,
      symbols: SYMBOLS,
      workers: 1,
      data_types: ["orderbook"],
      ws_url: `ws://127.0.0.1:${server.port}`,
      rest_url: `http://127.0.0.1:${server.port}`,
      poll_period: "5m",
      instruments_refresh_s: 0,
      max_clock_skew_ms: 1000,
    },
    symbols: SYMBOLS,
    orderbook: { depth: 10, snapshot_interval_ms: 0, snapshot_limit: 1000 },
    emit: (r) => records.push(r),
    rest: { scale: SCALE },
  });
  const t0 = performance.now();
  await runner.start();
  try {
    await waitFor("50 live books", () => runner.normalizer?.bookHealth().filter((b) => b.state === "live").length === 50, 20_000);
    const elapsed = performance.now() - t0;
    expect(sockets).toBeGreaterThan(0);
    expect(new Set(records.filter((r) => r.data_type === "orderbook").map((r) => r.symbol)).size).toBe(50);
    expect(runner.rest.requests).toBe(51);
    expect(runner.rest.rate_limited).toBe(0);
    expect(violations.rules()).toEqual({});
    // 2,520 weight (50 snapshots and exchangeInfo): no window held more than 1,000, and the
    // storm took the windows it needed.
    const peak = limits.peaks().binance_spot?.request_weight ?? 0;
    expect(peak).toBeLessThanOrEqual(1000);
    expect(peak).toBeGreaterThan(500);
    expect(elapsed).toBeGreaterThan(2000);
  } finally {
    await runner.stop();
    server.stop(true);
  }
}, 30_000);
