import { expect, test } from "bun:test";
import { startSimulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Binance spot and USDⓈ-M name their streams alike (`btcusdt@depth@100ms` on both), so the
 * generator's feeds route each frame to the connections of their own venue only. When the keys
 * were shared, a spot connection also got the USDⓈ-M diffs (ids of another chain, with `pu`):
 * at live rates with both venues, 11 of 25 spot books resynced forever and the USDⓈ-M
 * normalizer counted every spot diff it received as a bad depth frame.
 */

interface DepthData {
  readonly e: string;
  readonly U: number;
  readonly u: number;
  readonly pu?: number;
}

async function subscribe(url: string, stream: string, frames: DepthData[]): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  ws.onmessage = (m) => {
    const frame = JSON.parse(String(m.data)) as { data?: DepthData };
    if (frame.data?.e === "depthUpdate") frames.push(frame.data);
  };
  ws.send(JSON.stringify({ method: "SUBSCRIBE", params: [stream], id: 1 }));
  return ws;
}

test("a Binance spot connection gets only spot diffs and a USDⓈ-M one only USDⓈ-M diffs for the same stream name, each an unbroken chain", async () => {
  const sim = await startSimulator({ source: generatorSource(4), rate: "live", binance_ping_interval_ms: 0 });
  const ws = sim.url.replace(/^http/, "ws");
  const spot: DepthData[] = [];
  const usdm: DepthData[] = [];
  const sockets: WebSocket[] = [];
  try {
    sockets.push(await subscribe(`${ws}/binance_spot/stream`, "btcusdt@depth@100ms", spot));
    sockets.push(await subscribe(`${ws}/binance_derivatives/public/stream`, "btcusdt@depth@100ms", usdm));
    await waitFor("20 diffs on each venue", () => spot.length >= 20 && usdm.length >= 20, 10_000);
    // Spot diffs carry no `pu` and chain by U = previous u + 1; USDⓈ-M diffs chain by pu = previous u.
    expect(spot.filter((d) => d.pu !== undefined)).toEqual([]);
    expect(spot.slice(1).filter((d, i) => d.U !== (spot[i] as DepthData).u + 1)).toEqual([]);
    expect(usdm.filter((d) => d.pu === undefined)).toEqual([]);
    expect(usdm.slice(1).filter((d, i) => d.pu !== (usdm[i] as DepthData).u)).toEqual([]);
  } finally {
    for (const s of sockets) s.close();
    await sim.stop();
  }
});
