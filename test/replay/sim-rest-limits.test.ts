import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { defaultRecordingsDir } from "../../src/replay/recording.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { SimViolations } from "../../src/replay/sim-violations.ts";
import { SimRestLimits, type SimRestVerdict } from "../../src/replay/sim-weight.ts";

/** The start of a minute, so Binance's fixed windows line up with the test's times. */
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

function status(v: SimRestVerdict): number {
  return "refuse" in v ? v.refuse.status : 200;
}

function header(v: SimRestVerdict, name: string): string | null {
  return "refuse" in v ? v.refuse.headers.get(name) : (v.headers[name] ?? null);
}

describe("the simulator counts REST weight as each venue does", () => {
  test("rest_weight_exceeded: Binance spot past 6,000 weight in a minute answers 429 with Retry-After to the minute's end", () => {
    const violations = new SimViolations();
    const limits = new SimRestLimits(violations);
    // depth limit=1000 weighs 50: 120 of them fill the minute.
    for (let i = 0; i < 120; i++) expect(status(limits.admit("binance_spot", "/api/v3/depth?symbol=BTCUSDT&limit=1000", T0 + i))).toBe(200);
    const last = limits.admit("binance_spot", "/api/v3/depth?symbol=BTCUSDT&limit=100", T0 + 200);
    expect(status(last)).toBe(429);
    expect(header(last, "retry-after")).toBe("60");
    expect(header(last, "x-mbx-used-weight-1m")).toBe("6000");
    expect(violations.rules()).toEqual({ rest_weight_exceeded: 1 });
    expect(limits.peaks()).toEqual({ binance_spot: { request_weight: 6000 } });
  });

  test("the used-weight header adds each endpoint's documented weight and starts again each minute", () => {
    const limits = new SimRestLimits(new SimViolations());
    expect(header(limits.admit("binance_spot", "/api/v3/exchangeInfo", T0), "x-mbx-used-weight-1m")).toBe("20");
    expect(header(limits.admit("binance_spot", "/api/v3/depth?symbol=X&limit=5000", T0 + 1), "x-mbx-used-weight-1m")).toBe("270");
    expect(header(limits.admit("binance_spot", "/api/v3/depth?symbol=X", T0 + 2), "x-mbx-used-weight-1m")).toBe("275");
    expect(header(limits.admit("binance_derivatives", "/fapi/v1/depth?symbol=X&limit=1000", T0), "x-mbx-used-weight-1m")).toBe("20");
    expect(header(limits.admit("binance_derivatives", "/fapi/v1/depth?symbol=X", T0 + 1), "x-mbx-used-weight-1m")).toBe("30");
    // /futures/data/* weigh 0 and draw on their own 1,000 requests per 5 minutes.
    expect(header(limits.admit("binance_derivatives", "/futures/data/topLongShortPositionRatio?symbol=X&period=5m", T0 + 2), "x-mbx-used-weight-1m")).toBe("30");
    expect(header(limits.admit("binance_spot", "/api/v3/exchangeInfo", T0 + 60_000), "x-mbx-used-weight-1m")).toBe("20");
  });

  test("rest_after_429: a request after a 429, before its Retry-After, gets 418 and a ban as long as its Retry-After", () => {
    const violations = new SimViolations();
    const limits = new SimRestLimits(violations, { in_flight_grace_ms: 100, ban_s: 120 });
    limits.inject("binance_derivatives", 1, 5);
    const first = limits.admit("binance_derivatives", "/fapi/v1/openInterest?symbol=X", T0);
    expect([status(first), header(first, "retry-after")]).toEqual([429, "5"]);
    // Already on the wire when the 429 left: refused again, not held against the client.
    expect(status(limits.admit("binance_derivatives", "/fapi/v1/openInterest?symbol=X", T0 + 50))).toBe(429);
    expect(violations.rules()).toEqual({});
    const after = limits.admit("binance_derivatives", "/fapi/v1/openInterest?symbol=X", T0 + 1000);
    expect([status(after), header(after, "retry-after")]).toEqual([418, "120"]);
    expect(violations.rules()).toEqual({ rest_after_429: 1 });
    expect(violations.venues()).toEqual({ binance_derivatives: { rest_after_429: 1 } });
    // Waiting out the Retry-After is no violation.
    limits.inject("binance_spot", 1, 5);
    expect(status(limits.admit("binance_spot", "/api/v3/exchangeInfo", T0))).toBe(429);
    expect(status(limits.admit("binance_spot", "/api/v3/exchangeInfo", T0 + 5000))).toBe(200);
    expect(violations.total).toBe(1);
  });

  test("a rate_limit fault answers 429 until it ends; a client that waits it out breaks no rule", () => {
    const violations = new SimViolations();
    const limits = new SimRestLimits(violations);
    limits.faultFor("binance_derivatives", 10, T0);
    const first = limits.admit("binance_derivatives", "/fapi/v1/openInterest?symbol=X", T0 + 2000);
    expect([status(first), header(first, "retry-after")]).toEqual([429, "8"]);
    expect(status(limits.admit("binance_derivatives", "/fapi/v1/openInterest?symbol=X", T0 + 10_000))).toBe(200);
    // Unused, it lapses.
    limits.faultFor("okx_derivatives", 2, T0);
    expect(status(limits.admit("okx_derivatives", "/api/v5/public/instruments?instType=SWAP", T0 + 2000))).toBe(200);
    expect(violations.total).toBe(0);
  });

  test("rest_during_ban: every request during a ban gets 418 until the ban ends", () => {
    const violations = new SimViolations();
    const limits = new SimRestLimits(violations, { in_flight_grace_ms: 0, ban_s: 2 });
    limits.inject("binance_spot", 1, 1);
    limits.admit("binance_spot", "/api/v3/exchangeInfo", T0);
    expect(status(limits.admit("binance_spot", "/api/v3/exchangeInfo", T0 + 10))).toBe(418);
    const during = limits.admit("binance_spot", "/api/v3/exchangeInfo", T0 + 1010);
    expect([status(during), header(during, "retry-after")]).toEqual([418, "1"]);
    expect(status(limits.admit("binance_spot", "/api/v3/exchangeInfo", T0 + 2010))).toBe(200);
    expect(violations.rules()).toEqual({ rest_after_429: 1, rest_during_ban: 1 });
  });

  test("OKX counts rubik per endpoint, 5 per 2 s, and answers 429 code 50011 without Retry-After", async () => {
    const violations = new SimViolations();
    const limits = new SimRestLimits(violations);
    const path = "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract?instId=BTC-USDT-SWAP&period=5m&limit=1";
    for (let i = 0; i < 5; i++) expect(status(limits.admit("okx_derivatives", path, T0 + i))).toBe(200);
    // The other rubik endpoint has its own count.
    expect(status(limits.admit("okx_derivatives", "/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader?instId=BTC-USDT-SWAP", T0 + 5))).toBe(200);
    const refused = limits.admit("okx_derivatives", path, T0 + 6);
    expect(status(refused)).toBe(429);
    expect(header(refused, "retry-after")).toBeNull();
    if (!("refuse" in refused)) throw new Error("not refused");
    expect(await refused.refuse.json()).toEqual({ code: "50011", data: [], msg: "Too Many Requests" });
    expect(violations.rules()).toEqual({ rest_weight_exceeded: 1 });
    expect(violations.details()).toEqual({ okx_derivatives: { "rest_weight_exceeded: rubik_account_ratio_contract": 1 } });
  });

  test("Deribit's credit pool lets 100 requests through at once and refills 20 a second", () => {
    const violations = new SimViolations();
    const limits = new SimRestLimits(violations);
    const path = "/api/v2/public/get_volatility_index_data?currency=BTC";
    for (let i = 0; i < 100; i++) expect(status(limits.admit("deribit_derivatives", path, T0))).toBe(200);
    expect(status(limits.admit("deribit_derivatives", path, T0))).toBe(429);
    expect(violations.rules()).toEqual({ rest_weight_exceeded: 1 });
    // The engine waits Deribit's default second: 20 requests have refilled by then.
    for (let i = 0; i < 20; i++) expect(status(limits.admit("deribit_derivatives", path, T0 + 1000))).toBe(200);
    expect(status(limits.admit("deribit_derivatives", path, T0 + 1000))).toBe(429);
  });

  test("shrunken limits for tests scale every bucket of a venue", () => {
    const limits = new SimRestLimits(new SimViolations(), { scale: { binance_spot: { limit: 0.01, window: 0.5 } } });
    // 60 weight per 30 s window.
    expect(status(limits.admit("binance_spot", "/api/v3/depth?symbol=X&limit=1000", T0))).toBe(200);
    expect(status(limits.admit("binance_spot", "/api/v3/depth?symbol=X&limit=100", T0 + 1))).toBe(200);
    expect(status(limits.admit("binance_spot", "/api/v3/depth?symbol=X&limit=500", T0 + 2))).toBe(429);
    expect(status(limits.admit("binance_spot", "/api/v3/depth?symbol=X&limit=100", T0 + 30_000))).toBe(200);
  });
});

const DIR = defaultRecordingsDir();
const missing = !existsSync(DIR);

describe.skipIf(missing)(missing ? `skipped: exchange recordings folder missing: ${DIR}` : "the simulator's REST limits over HTTP", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ rate: 100, rest: { scale: { binance_derivatives: { limit: 0.01, window: 1 } } } });
  });
  afterAll(() => sim.stop());

  test("answers carry X-MBX-USED-WEIGHT-1M; past the limit 429 and the rule in /simulator/stats", async () => {
    const symbol = sim.symbols.binance_derivatives[0];
    const url = `${sim.url}/binance_derivatives/fapi/v1/depth?symbol=${symbol}&limit=1000`;
    // 24 weight a minute: one depth of 1000 (20) fits, the second does not.
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(Number(ok.headers.get("x-mbx-used-weight-1m"))).toBeGreaterThanOrEqual(20);
    const refused = await fetch(url);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { code: number }).code).toBe(-1003);
    const stats = (await (await fetch(`${sim.url}/simulator/stats`)).json()) as {
      violations: Record<string, number>;
      violation_details: Record<string, Record<string, number>>;
      rest_weight_peaks: Record<string, Record<string, number>>;
    };
    expect(stats.violations).toEqual({ rest_weight_exceeded: 1 });
    expect(stats.violation_details).toEqual({ binance_derivatives: { "rest_weight_exceeded: request_weight": 1 } });
    expect(stats.rest_weight_peaks.binance_derivatives?.request_weight).toBe(20);
  });
});
