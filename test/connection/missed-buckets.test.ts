import { expect, test } from "bun:test";
import { BucketDedup, BucketPoller } from "../../src/venues/connection/bucket-poller.ts";
import {
  bucketOf,
  HISTORY_TRIES,
  historySpan,
  MAX_ATTEMPTS,
  MAX_MISSED,
  MissedBuckets,
  polledBucket,
  retryDelays,
  type Bucket,
} from "../../src/venues/connection/missed-buckets.ts";
import { RestClient } from "../../src/venues/connection/rest-client.ts";
import { getVenue } from "../../src/venues/registry.ts";

const P = 300_000;
const B = 1_700_000_100_000 - (1_700_000_100_000 % P);

test("a poll's record falls in the bucket that closed at its boundary, or in the one it runs in", () => {
  expect(polledBucket(B, P, "closed")).toEqual({ start_ms: B - P, end_ms: B });
  expect(polledBucket(B, P, "current")).toEqual({ start_ms: B, end_ms: B + P });
});

test("retries back off by doubling and stop before the next bucket's poll", () => {
  expect(retryDelays(5000, 295_000)).toEqual([5000, 10_000, 20_000, 40_000]);
  expect(retryDelays(5000, 295_000).length).toBe(MAX_ATTEMPTS - 1);
  // 5 + 10 = 15 s of waiting fits in 30 s; a third wait (20 s more) would start past it.
  expect(retryDelays(5000, 30_000)).toEqual([5000, 10_000]);
  expect(retryDelays(5000, 5000)).toEqual([]);
});

test("one history span covers a task's missed buckets, end inclusive, one row per period", () => {
  const buckets: Bucket[] = [
    { start_ms: B - 3 * P, end_ms: B - 2 * P },
    { start_ms: B - P, end_ms: B },
  ];
  expect(historySpan(buckets, P)).toEqual({ from_ms: B - 3 * P, to_ms: B - 1, limit: 3 });
  expect(bucketOf(buckets, B - 3 * P)).toEqual(buckets[0]);
  expect(bucketOf(buckets, B - 2 * P)).toBeUndefined();
  expect(bucketOf(buckets, B - 1)).toEqual(buckets[1]);
  expect(bucketOf(buckets, B)).toBeUndefined();
});

test("missed buckets wait until closed, leave when filled, and are given up after HISTORY_TRIES answers without them", () => {
  const missed = new MissedBuckets(P);
  const a = { start_ms: B, end_ms: B + P };
  const b = { start_ms: B + P, end_ms: B + 2 * P };
  missed.add("t", a);
  missed.add("t", a);
  missed.add("t", b);
  expect(missed.size).toBe(2);
  expect(missed.due("t", B + P)).toEqual([a]);
  expect(missed.due("t", B + 2 * P)).toEqual([a, b]);
  missed.answered("t", [a, b], new Set([b.start_ms]));
  expect(missed.due("t", B + 2 * P)).toEqual([a]);
  for (let i = 1; i < HISTORY_TRIES; i++) missed.answered("t", [a], new Set());
  expect(missed.size).toBe(0);
  expect(missed.abandoned).toBe(1);
  missed.add("t", a);
  missed.add("u", b);
  missed.retain(new Set(["u"]));
  expect(missed.due("t", B + 2 * P)).toEqual([]);
  expect(missed.due("u", B + 2 * P)).toEqual([b]);
});

test("a missed bucket more than MAX_MISSED periods behind the newest is given up", () => {
  const missed = new MissedBuckets(P);
  missed.add("t", { start_ms: B, end_ms: B + P });
  missed.add("t", { start_ms: B + P, end_ms: B + 2 * P });
  missed.add("t", { start_ms: B + (MAX_MISSED - 1) * P, end_ms: B + MAX_MISSED * P });
  expect(missed.size).toBe(3);
  missed.add("t", { start_ms: B + MAX_MISSED * P, end_ms: B + (MAX_MISSED + 1) * P });
  expect(missed.size).toBe(3);
  expect(missed.abandoned).toBe(1);
  expect(historySpan(missed.due("t", B + 100 * P), P).limit).toBe(MAX_MISSED);
});

test("the poll dedup refuses a bucket seen twice but takes a missed older one that comes back", () => {
  const dedup = new BucketDedup(P);
  expect(dedup.accept("k", B + 1000)).toBe(true);
  expect(dedup.accept("k", B + 2000)).toBe(false);
  expect(dedup.accept("k", B + 2 * P)).toBe(true);
  expect(dedup.accept("k", B + P)).toBe(true);
  expect(dedup.accept("k", B + P + 5)).toBe(false);
  // Far behind the newest: nothing can say whether it was stored, so it is refused.
  expect(dedup.accept("k", B - 100 * P)).toBe(false);
  expect(dedup.dropped).toBe(3);
});

test("a bucket whose every attempt fails is missed and asked of the history until it comes back", async () => {
  // The live path fails for the first bucket's MAX_ATTEMPTS attempts; everything after answers.
  let liveFailures = MAX_ATTEMPTS;
  const seen: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      seen.push(`${url.pathname}${url.search}`);
      if (url.pathname === "/live" && liveFailures-- > 0) return new Response("down", { status: 503 });
      return new Response("[]");
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  const rest = new RestClient({ base_url: base, limits: getVenue("binance_derivatives").rest_limits, timeout_ms: 5000 });
  const missedBuckets: Bucket[] = [];
  const asked: Bucket[][] = [];
  let fill = false;
  const poller = new BucketPoller({
    period_ms: P,
    delay_ms: 0,
    retry_ms: 5,
    tasks: [{ key: "t", url: `${base}/live`, stamp: "closed", history: (s) => `${base}/hist?from=${s.from_ms}&to=${s.to_ms}&limit=${s.limit}` }],
    rest,
    onBody: () => {},
    onError: () => {},
    onMissed: (_t, bucket) => missedBuckets.push(bucket),
    onHistory: (_t, _url, _body, _recv, buckets) => {
      asked.push([...buckets]);
      return new Set(fill ? buckets.map((b) => b.start_ms) : []);
    },
  });
  const hist = `/hist?from=${B - P}&to=${B - 1}&limit=1`;
  try {
    // The bucket has closed: its history is asked for right after the last attempt.
    await poller.poll(B + 10);
    expect(seen).toEqual([...Array.from({ length: MAX_ATTEMPTS }, () => "/live"), hist]);
    expect(missedBuckets).toEqual([{ start_ms: B - P, end_ms: B }]);
    seen.length = 0;
    // The venue has no row for it yet: the bucket stays missed and is asked again.
    await poller.poll(B + P + 10);
    expect(seen).toEqual(["/live", hist]);
    fill = true;
    await poller.poll(B + 2 * P + 10);
    expect(asked).toEqual(Array.from({ length: 3 }, () => [{ start_ms: B - P, end_ms: B }]));
    expect(poller.missed.size).toBe(0);
    expect(poller.history_filled).toBe(1);
    seen.length = 0;
    await poller.poll(B + 3 * P + 10);
    expect(seen).toEqual(["/live"]);
  } finally {
    await poller.stop();
    server.stop(true);
  }
});

for (const [status, given_up] of [
  [200, true],
  [400, true],
  [503, false],
] as const) {
  test(`history answering ${status} without the bucket: ${given_up ? "given up after HISTORY_TRIES answers, and reported" : "no try is spent, the bucket stays"}`, async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => (new URL(req.url).pathname === "/live" ? new Response("refused", { status: 400 }) : new Response("[]", { status })),
    });
    const base = `http://127.0.0.1:${server.port}`;
    const rest = new RestClient({ base_url: base, limits: getVenue("binance_derivatives").rest_limits, timeout_ms: 5000 });
    const errors: string[] = [];
    const poller = new BucketPoller({
      period_ms: P,
      delay_ms: 0,
      retry_ms: 1,
      tasks: [{ key: "t", url: `${base}/live`, stamp: "current", history: () => `${base}/hist` }],
      rest,
      onBody: () => {},
      onError: (_t, e) => errors.push(e),
      onHistory: () => new Set(),
    });
    try {
      // A 4xx is not retried: the bucket [B, B + P) is missed at once, and closes with the next bucket.
      await poller.poll(B + 10);
      expect(poller.history_requests).toBe(0);
      for (let i = 1; i <= HISTORY_TRIES; i++) await poller.poll(B + i * P + 10);
      // One request per poll covers every bucket the task misses (each poll misses one more).
      expect(poller.history_requests).toBe(HISTORY_TRIES);
      expect(poller.missed.size).toBe(given_up ? HISTORY_TRIES : HISTORY_TRIES + 1);
      const reports = errors.filter((e) => e.startsWith("history:"));
      expect(reports).toEqual(given_up ? [`history: no row for 1 missed bucket(s) after ${HISTORY_TRIES} answers; their gaps stay as they are`] : []);
    } finally {
      await poller.stop();
      server.stop(true);
    }
  });
}
