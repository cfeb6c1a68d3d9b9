import { expect, test } from "bun:test";
import { ChannelWatchdog, SilentStreams, watchStaleChannels } from "../../src/venues/connection/channel-watchdog.ts";
import { waitFor } from "../support/wait.ts";

test("one silent channel is reported on its own and again when it resumes; only a connection whose channels are all silent reconnects", async () => {
  const watchdog = new ChannelWatchdog(() => 300);
  const events: [string, boolean][] = [];
  let reconnects = 0;
  const now = Date.now();
  watchdog.arm("btcusdt@markprice@1s", now);
  watchdog.arm("ethusdt@markprice@1s", now);
  const feeding = new Set(["btcusdt@markprice@1s"]);
  const feed = setInterval(() => {
    for (const c of feeding) watchdog.seen(c, Date.now());
  }, 20);
  const timer = watchStaleChannels(watchdog, (channel, silent) => events.push([channel, silent]), () => reconnects++);
  try {
    await waitFor("ETHUSDT's stream reported silent", () => events.length === 1, 5000);
    expect(events).toEqual([["ethusdt@markprice@1s", true]]);
    expect(reconnects).toBe(0);
    feeding.add("ethusdt@markprice@1s");
    await waitFor("ETHUSDT's stream resumed", () => events.length === 2, 5000);
    expect(events[1]).toEqual(["ethusdt@markprice@1s", false]);
    feeding.clear();
    await waitFor("both silent, one reconnect", () => reconnects === 1, 5000);
    expect(events.slice(2).map(([, silent]) => silent)).toEqual([true, true]);
    expect(reconnects).toBe(1);
  } finally {
    clearInterval(feed);
    clearInterval(timer);
  }
}, 15_000);

test("a silent channel is listed under the longest native symbol it names, or under itself", () => {
  const streams = new SilentStreams(["BTC-USDT", "BTC-USDT-SWAP", "BTCUSDT"], () => 42);
  streams.mark("funding-rate:BTC-USDT-SWAP", true);
  streams.mark("btcusdt@markPrice@1s", true);
  streams.mark("index-tickers:XRP-USDT", true);
  expect(streams.failures().map((f) => [f.native, f.kind, f.since_ms])).toEqual([
    ["BTC-USDT-SWAP", "stream_silent", 42],
    ["BTCUSDT", "stream_silent", 42],
    ["index-tickers:XRP-USDT", "stream_silent", 42],
  ]);
  streams.mark("btcusdt@markPrice@1s", false);
  expect(streams.failures().map((f) => f.native)).toEqual(["BTC-USDT-SWAP", "index-tickers:XRP-USDT"]);
});

test("a silent channel stops being listed when it is armed afresh or forgotten, and is reported again if it stays silent", () => {
  const watchdog = new ChannelWatchdog(() => 300);
  watchdog.arm("btcusdt@markprice@1s", 0);
  watchdog.arm("ethusdt@markprice@1s", 0);
  expect(watchdog.stale(300)).toEqual(["btcusdt@markprice@1s", "ethusdt@markprice@1s"]);
  watchdog.arm("btcusdt@markprice@1s", 400);
  watchdog.forget("ethusdt@markprice@1s");
  expect(watchdog.takeResumed()).toEqual(["btcusdt@markprice@1s", "ethusdt@markprice@1s"]);
  expect(watchdog.takeResumed()).toEqual([]);
  expect(watchdog.stale(650)).toEqual([]);
  expect(watchdog.stale(700)).toEqual(["btcusdt@markprice@1s"]);
});
