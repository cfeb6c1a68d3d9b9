import { expect, test } from "bun:test";
import { CONNECTION_TUNING, type VenueErrorEvent } from "../../src/venues/connection/venue-connection.ts";
import { DERIBIT_TUNING, DeribitConnection } from "../../src/venues/deribit/connection.ts";
import { waitFor } from "../support/wait.ts";

test("Deribit JSON-RPC error replies are counted, the first of an incident marked for the log with what happens next, never passed on as data, and an error to a subscribe lists its channels as refused", async () => {
  // Answers every request with an error: set_heartbeat and subscribe both get too_many_requests.
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      message(ws, text) {
        const id = (JSON.parse(String(text)) as { id: number }).id;
        ws.send(JSON.stringify({ jsonrpc: "2.0", id, error: { code: 10028, message: "too_many_requests" } }));
      },
    },
  });
  const events: VenueErrorEvent[] = [];
  const frames: string[] = [];
  const conn = new DeribitConnection({
    venue: "deribit_derivatives",
    config: { enabled: true, symbols: ["BTC"], workers: 1, data_types: ["volatility_index"], ws_url: `ws://127.0.0.1:${server.port}`, rest_url: "http://x", poll_period: "5m", instruments_refresh_s: 0, max_clock_skew_ms: 1000 },
    symbols: ["BTC"],
    instruments: new Map(),
    tuning: { ...CONNECTION_TUNING, ...DERIBIT_TUNING },
    onFrame: (text) => frames.push(text),
    onGap: () => {},
    onDisconnect: () => {},
    onStale: () => {},
    onVenueError: (e) => events.push(e),
  });
  conn.start();
  try {
    await waitFor("two error replies", () => events.length === 2, 5000);
    expect(events.map((e) => [e.code, e.msg, e.first])).toEqual([
      ["10028", "too_many_requests", true],
      ["10028", "too_many_requests", false],
    ]);
    expect(events[0]?.next).toContain("reconnects with backoff");
    expect(frames).toEqual([]);
    // The error answered the subscribe: its channel is listed under its currency with the venue's answer.
    expect(conn.failures([])).toEqual([
      { native: "BTC", kind: "subscribe_refused", detail: "deribit_volatility_index.btc_usd: 10028 too_many_requests", attempts: 1, since_ms: expect.any(Number) },
    ]);
  } finally {
    await conn.stop();
    server.stop(true);
  }
});
