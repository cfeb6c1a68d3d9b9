import { RestBudget } from "../../src/venues/connection/rest-budget.ts";
import { getVenue } from "../../src/venues/registry.ts";

/**
 * One ingest thread of the shared-budget race (rest-budget.test.ts): draws weight 1 from the
 * Binance spot budget in `buffer` at the frozen time `now_ms` until the budget refuses, and
 * reports how many draws it got. Both threads start together on a shared go flag.
 */
export type DrawRequest = { readonly buffer: SharedArrayBuffer; readonly go: SharedArrayBuffer; readonly now_ms: number };

declare const self: Worker;

self.onmessage = (event: MessageEvent<DrawRequest>) => {
  const { buffer, go, now_ms } = event.data;
  const budget = new RestBudget(getVenue("binance_spot").rest_limits.buckets, buffer, () => now_ms);
  const flag = new Int32Array(go);
  Atomics.add(flag, 1, 1);
  // Spins until the test lets both threads go (a few µs; this thread owns no socket).
  while (Atomics.load(flag, 0) === 0);
  let draws = 0;
  while (budget.take({ bucket: 0, weight: 1 }, "resync") === 0) draws++;
  postMessage(draws);
};
