import { expect, test } from "bun:test";
import { multiplyDecimals, normalizeDecimal, numberText, sharesFromRatio } from "../../src/venues/decimal-text.ts";

test("JSON numbers become plain decimal text, never exponent form", () => {
  expect([0.001, 1e-7, 129.36, 2.5e-8, 1e21, 0, -0.5, 100].map(numberText)).toEqual([
    "0.001",
    "0.0000001",
    "129.36",
    "0.000000025",
    "1000000000000000000000",
    "0",
    "-0.5",
    "100",
  ]);
  expect(numberText(Number.NaN)).toBeUndefined();
  expect(numberText(Number.POSITIVE_INFINITY)).toBeUndefined();
});

test("decimal products are exact, with no float rounding", () => {
  expect(multiplyDecimals("10659.509", "11793.63104562")).toBe("125714316.27346580058");
  expect(multiplyDecimals("0.1", "0.2")).toBe("0.02");
  expect(multiplyDecimals("3", "1e-2")).toBe("0.03");
  expect(multiplyDecimals("x", "1")).toBeUndefined();
});

test("long/short shares from a ratio sum to exactly 1", () => {
  expect(sharesFromRatio("1")).toEqual({ long: "0.5", short: "0.5" });
  expect(sharesFromRatio("1.25")).toEqual({ long: "0.555555555556", short: "0.444444444444" });
  expect(sharesFromRatio("3")).toEqual({ long: "0.75", short: "0.25" });
  expect(sharesFromRatio("0")).toEqual({ long: "0", short: "1" });
  expect(sharesFromRatio("-1")).toBeUndefined();
  expect(normalizeDecimal("2.50")).toBe("2.5");
});
