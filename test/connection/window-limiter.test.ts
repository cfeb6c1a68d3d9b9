import { expect, test } from "bun:test";
import { WindowLimiter } from "../../src/venues/connection/window-limiter.ts";

test("never lets more than max events into any window", () => {
  const limiter = new WindowLimiter(3, 1000);
  const taken: number[] = [];
  let now = 0;
  while (taken.length < 10) {
    const wait = limiter.delayMs(now);
    now += wait;
    limiter.take(now);
    taken.push(now);
    now += 7;
  }
  // Any 3 consecutive events after the first 3 are at least a window after the event 3 before.
  for (let i = 3; i < taken.length; i++) expect((taken[i] ?? 0) - (taken[i - 3] ?? 0)).toBeGreaterThanOrEqual(1000);
  expect(taken.slice(0, 4)).toEqual([0, 7, 14, 1000]);
  expect(limiter.inWindow(now)).toBeLessThanOrEqual(3);
});

test("waits only as long as the oldest event needs to leave the window", () => {
  const limiter = new WindowLimiter(2, 500);
  limiter.take(100);
  limiter.take(200);
  expect(limiter.delayMs(300)).toBe(300);
  expect(limiter.delayMs(600)).toBe(0);
  expect(() => new WindowLimiter(0, 1)).toThrow("positive integer");
});
