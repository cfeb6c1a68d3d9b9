import { expect, test } from "bun:test";
import { RefusedSubscriptions } from "../../src/venues/connection/refused-subscriptions.ts";
import { ResubscribeLoops } from "../../src/venues/connection/resync-loops.ts";
import { CHURN_WINDOW_MS } from "../../src/venues/connection/symbol-failure.ts";
import { okxRefusedArg } from "../../src/venues/okx/error-events.ts";
import { okxNotFoundMsg } from "../../src/venues/okx/limits.ts";
import type { BookHealth } from "../../src/venues/types.ts";
import { waitFor } from "../support/wait.ts";

const NOT_FOUND = "60018 Wrong URL or channel:books,instId:ETH-USDT doesn't exist.";

test("refused subscriptions are one failure per symbol naming its channels and the venue's latest answer; the others are not listed", () => {
  let now = 1000;
  const refusals = new RefusedSubscriptions(() => {}, () => now);
  try {
    refusals.refuse("books:ETH-USDT", "ETH-USDT", NOT_FOUND);
    now = 1500;
    refusals.refuse("trades:ETH-USDT", "ETH-USDT", "60018 Wrong URL or channel:trades,instId:ETH-USDT doesn't exist.");
    refusals.refuse("books:SOL-USDT", "SOL-USDT", "60018 Wrong URL or channel:books,instId:SOL-USDT doesn't exist.");
    now = 2000;
    refusals.refuse("books:ETH-USDT", "ETH-USDT", NOT_FOUND);
    expect(refusals.failures()).toEqual([
      { native: "ETH-USDT", kind: "subscribe_refused", detail: `books:ETH-USDT, trades:ETH-USDT: ${NOT_FOUND}`, attempts: 2, since_ms: 1000 },
      { native: "SOL-USDT", kind: "subscribe_refused", detail: "books:SOL-USDT: 60018 Wrong URL or channel:books,instId:SOL-USDT doesn't exist.", attempts: 1, since_ms: 1500 },
    ]);
    // An ack ends that channel's failure only; an ack of a channel never refused changes nothing.
    expect(refusals.accepted("books:ETH-USDT")).toBe(true);
    expect(refusals.accepted("books:BTC-USDT")).toBe(false);
    expect(refusals.failures().map((f) => f.detail)).toEqual([
      "trades:ETH-USDT: 60018 Wrong URL or channel:trades,instId:ETH-USDT doesn't exist.",
      "books:SOL-USDT: 60018 Wrong URL or channel:books,instId:SOL-USDT doesn't exist.",
    ]);
    // A symbol an instrument refresh drops is never listed or asked for again.
    refusals.forget(["books:SOL-USDT"]);
    expect(refusals.failures().map((f) => f.native)).toEqual(["ETH-USDT"]);
  } finally {
    refusals.stop();
  }
});

test("refused subscriptions are asked for again together, 1 s then 2 s apart, until the venue accepts them; then the rounds stop", async () => {
  const rounds: { at: number; keys: string[] }[] = [];
  const refusals = new RefusedSubscriptions((keys) => rounds.push({ at: performance.now(), keys: [...keys].sort() }));
  try {
    const start = performance.now();
    refusals.refuse("books:ETH-USDT", "ETH-USDT", NOT_FOUND);
    refusals.refuse("trades:SOL-USDT", "SOL-USDT", NOT_FOUND);
    await waitFor("two retry rounds", () => rounds.length === 2, 5000);
    expect(rounds.map((r) => r.keys)).toEqual([
      ["books:ETH-USDT", "trades:SOL-USDT"],
      ["books:ETH-USDT", "trades:SOL-USDT"],
    ]);
    expect((rounds[0]?.at ?? 0) - start).toBeGreaterThanOrEqual(990);
    expect((rounds[1]?.at ?? 0) - (rounds[0]?.at ?? 0)).toBeGreaterThanOrEqual(1990);
    // The venue accepts both: nothing is listed and no round follows.
    refusals.accepted("books:ETH-USDT");
    refusals.accepted("trades:SOL-USDT");
    expect(refusals.failures()).toEqual([]);
    expect(refusals.any).toBe(false);
    // A new refusal starts again from 1 s, not from the 4 s the rounds had reached.
    const again = performance.now();
    refusals.refuse("books:ETH-USDT", "ETH-USDT", NOT_FOUND);
    await waitFor("a third round", () => rounds.length === 3, 3000);
    expect((rounds[2]?.at ?? 0) - again).toBeLessThan(1900);
    expect(rounds[2]?.keys).toEqual(["books:ETH-USDT"]);
  } finally {
    refusals.stop();
  }
}, 10_000);

test("a new connection drops the waiting round: its own subscribe asks for every refused channel", async () => {
  const rounds: number[] = [];
  const refusals = new RefusedSubscriptions(() => rounds.push(performance.now()));
  try {
    const start = performance.now();
    refusals.refuse("books:ETH-USDT", "ETH-USDT", NOT_FOUND);
    refusals.reopened();
    // Still listed until the venue answers the new connection's subscribe.
    expect(refusals.failures().map((f) => f.native)).toEqual(["ETH-USDT"]);
    // Refused again on the new connection: the rounds resume where they were, at 2 s; the round
    // that waited for 1 s never came.
    refusals.refuse("books:ETH-USDT", "ETH-USDT", NOT_FOUND);
    expect(refusals.failures()[0]?.attempts).toBe(2);
    await waitFor("a retry round", () => rounds.length === 1, 5000);
    expect((rounds[0] ?? 0) - start).toBeGreaterThanOrEqual(1990);
  } finally {
    refusals.stop();
  }
}, 10_000);

const live = (native: string): BookHealth => ({ symbol: native, native, state: "live", resyncs: 0, checksum_failures: 0, sequence_gaps: 0, last_update_ts_ms: 0 });
const stale = (native: string): BookHealth => ({ ...live(native), state: "stale" });

test("a book that breaks soon after each resubscription waits 1 s, then 2 s, is listed from its third quick ask, and is let go after a live minute", () => {
  const loops = new ResubscribeLoops();
  // The first break after the initial subscribe, and a break long after a resubscription, go at once.
  expect(loops.ask("A", 10_000)).toBe(0);
  loops.resubscribed("A", 10_000);
  expect(loops.ask("A", 10_100)).toBe(0);
  loops.resubscribed("A", 10_100);
  expect(loops.ask("A", 10_200)).toBe(900);
  loops.resubscribed("A", 11_100);
  expect(loops.failures([stale("A")], 11_200)).toEqual([]);
  expect(loops.ask("A", 11_200)).toBe(1900);
  loops.resubscribed("A", 13_100);
  expect(loops.failures([stale("A"), live("B")], 13_200)).toEqual([
    { native: "A", kind: "resync_loop", detail: "its chain broke within a minute of each of its last 3 resubscriptions; each waits 2 s after the one before", attempts: 3, since_ms: 11_200 },
  ]);
  // Live, but not yet for a whole window: still listed.
  expect(loops.failures([live("A")], 13_100 + CHURN_WINDOW_MS - 1).map((f) => f.native)).toEqual(["A"]);
  expect(loops.failures([live("A")], 13_100 + CHURN_WINDOW_MS)).toEqual([]);
  // Its next break starts a fresh count.
  expect(loops.ask("A", 13_100 + CHURN_WINDOW_MS + 10)).toBe(0);
  // A dropped book is forgotten.
  loops.forget(["A"]);
  expect(loops.failures([stale("A")], 200_000)).toEqual([]);
});

test("the arg an OKX error names is read back from its message, in both of OKX's wordings", () => {
  expect(okxRefusedArg(okxNotFoundMsg("books", { instId: "ETH-USDT" }))).toBe("books:ETH-USDT");
  expect(okxRefusedArg(okxNotFoundMsg("liquidation-orders", { instType: "SWAP" }))).toBe("liquidation-orders:SWAP");
  expect(okxRefusedArg("Subscribe failed, wrong URL or channel:trades,instId:NOPE-USDT-SWAP doesn't exist. Please use the correct URL, channel and parameters referring to API document.")).toBe(
    "trades:NOPE-USDT-SWAP",
  );
  expect(okxRefusedArg("Invalid request: {\"op\": \"subscribe\"}")).toBeUndefined();
});
