import { expect, test } from "bun:test";
import { startSimulator } from "../../src/replay/simulator.ts";
import { generatorSource, recordingsSource, type RecordingSource } from "../../src/replay/source.ts";
import { RECORDINGS_DIR, recordingTest } from "../support/recordings.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Ids move forward like a live venue's: within a run loop after loop, and across simulators
 * started a few ms apart (a kill -9 and restart) or a day later, a trade id or book update id
 * is never served again with other content. Each frame is keyed by (stream, id) and its text
 * kept; a key seen twice must carry the same text.
 */

const DAY_MS = 86_400_000;

interface Streams {
  readonly spot: string;
  readonly usdmBooks: string;
  readonly usdmTrades: string;
  readonly okx: readonly string[];
}

/** (stream:id) -> content, from every trade and book frame `ws` received. */
type Served = Map<string, string>;

/** The feeds watched: each socket's venue, its data file and the event times it delivered. */
const FEEDS = [
  ["binance_spot", "binance_spot.jsonl"],
  ["binance_derivatives", "binance_derivatives.jsonl"],
  ["binance_derivatives", "binance_derivatives.jsonl"],
  ["okx_spot", "okx.jsonl"],
] as const;

function keyed(venue: string, raw: string, out: Served, conflicts: string[], times: number[]): void {
  const msg = JSON.parse(raw) as { stream?: string; data?: unknown; arg?: { channel?: string; instId?: string } };
  const put = (key: string, content: string): void => {
    const seen = out.get(key);
    if (seen !== undefined && seen !== content) conflicts.push(`${key}: ${seen.slice(0, 120)} / ${content.slice(0, 120)}`);
    out.set(key, content);
  };
  if (msg.stream !== undefined && typeof msg.data === "object" && msg.data !== null) {
    const d = msg.data as Record<string, unknown>;
    const id = d.e === "depthUpdate" ? d.u : d.e === "trade" ? d.t : d.e === "aggTrade" ? d.a : undefined;
    if (typeof id === "number") put(`${venue}/${msg.stream}:${id}`, JSON.stringify(d));
    if (typeof d.E === "number") times.push(d.E);
    return;
  }
  const channel = msg.arg?.channel;
  if (channel !== "trades" && channel !== "books") return;
  // A books snapshot carries the seqId of the update it stands for (that update's book, not its
  // levels): the generator sends one to each new subscriber, so it is not keyed.
  if ((msg as { action?: string }).action === "snapshot") return;
  for (const row of (msg as { data?: Record<string, unknown>[] }).data ?? []) {
    const id = channel === "trades" ? row.tradeId : row.seqId;
    if (id !== undefined) put(`${venue}/${channel}/${msg.arg?.instId}:${id}`, JSON.stringify(row));
    times.push(Number(row.ts));
  }
}

/** Runs one simulator on `source` until each feed has covered `loops` of its loops of event time. */
async function serve(source: RecordingSource, streams: Streams, loops: number, start_ms?: number): Promise<{ served: Served; conflicts: string[] }> {
  const sim = await startSimulator({ source, rate: 0, synthetic_interval_ms: 60_000, ping_interval_ms: 0, ...(start_ms === undefined ? {} : { start_ms }) });
  const served: Served = new Map();
  const conflicts: string[] = [];
  const times = FEEDS.map((): number[] => []);
  const ws = sim.url.replace("http", "ws");
  const sockets = [
    new WebSocket(`${ws}/binance_spot/stream?streams=${streams.spot}`),
    // USDⓈ-M books ride the /public route, trades the /market route.
    new WebSocket(`${ws}/binance_derivatives/public/stream?streams=${streams.usdmBooks}`),
    new WebSocket(`${ws}/binance_derivatives/market/stream?streams=${streams.usdmTrades}`),
    new WebSocket(`${ws}/okx_spot/ws/v5/public`),
  ];
  const [, , , okx] = sockets;
  okx?.addEventListener("open", () =>
    okx.send(JSON.stringify({ op: "subscribe", args: streams.okx.flatMap((instId) => [{ channel: "trades", instId }, { channel: "books", instId }]) })),
  );
  sockets.forEach((s, i) => {
    const t = times[i] ?? [];
    s.addEventListener("message", (e) => keyed(FEEDS[i]?.[0] ?? "", String(e.data), served, conflicts, t));
  });
  const spans = FEEDS.map(([, file]) => loopMs(source, file) * loops);
  const covered = (): boolean => times.every((t, i) => t.length > 0 && Math.max(...t.slice(-50)) - Math.min(...t.slice(0, 50)) > (spans[i] ?? 0));
  try {
    await waitFor(`${loops} loops of event time on every feed`, covered, 15_000);
  } finally {
    for (const s of sockets) s.close();
    await sim.stop();
  }
  return { served, conflicts };
}

/** A loop's length in event time: the file's span plus the replay's second of quiet (feed.ts). */
function loopMs(source: RecordingSource, file: string): number {
  const ts = source.read(file).map((l) => l.recv_ts * 1000);
  return Math.max(...ts) - Math.min(...ts) + 1000;
}

for (const [kind, streams] of [
  ["generated", { spot: "btcusdt@trade/btcusdt@depth@100ms", usdmBooks: "btcusdt@depth@100ms", usdmTrades: "btcusdt@aggTrade", okx: ["BTC-USDT", "BTC-USDT-SWAP"] }],
  ["recorded", { spot: "nknusdt@trade/nknusdt@depth@100ms", usdmBooks: "sushiusdt@depth@100ms", usdmTrades: "sushiusdt@aggTrade", okx: ["BTC-USDT", "UNI-USD-SWAP"] }],
] as const) {
  const testOf = kind === "recorded" ? recordingTest : test;
  testOf(`${kind}: loops, a restart some ms later and a start a day later never serve a trade or update id again with other content`, async () => {
    const source = kind === "recorded" ? recordingsSource(RECORDINGS_DIR) : generatorSource(1);
    const first = await serve(source, streams, 3);
    expect(first.conflicts).toEqual([]);
    // The restart: a new simulator on the same data as soon as the first one is gone.
    const second = await serve(source, streams, 1);
    expect(second.conflicts).toEqual([]);
    const overlap = [...second.served].filter(([key]) => first.served.has(key));
    const differing = overlap.filter(([key, content]) => first.served.get(key) !== content).map(([key]) => key);
    expect(differing).toEqual([]);
    // The first run covered the loop the restart began in: ids were served again, identically.
    expect(overlap.length).toBeGreaterThan(0);
    const later = await serve(source, streams, 1, Date.now() + DAY_MS);
    expect(later.conflicts).toEqual([]);
    // A day later every stream's ids are past the first run's.
    const maxOf = (served: Served, stream: string): number =>
      Math.max(...[...served.keys()].filter((k) => k.startsWith(`${stream}:`)).map((k) => Number(k.slice(stream.length + 1))));
    const minOf = (served: Served, stream: string): number =>
      Math.min(...[...served.keys()].filter((k) => k.startsWith(`${stream}:`)).map((k) => Number(k.slice(stream.length + 1))));
    const streamsSeen = new Set([...first.served.keys()].map((k) => k.slice(0, k.lastIndexOf(":"))));
    expect(streamsSeen.size).toBeGreaterThanOrEqual(6);
    for (const stream of streamsSeen) expect({ stream, forward: minOf(later.served, stream) > maxOf(first.served, stream) }).toEqual({ stream, forward: true });
  }, 40_000);
}
