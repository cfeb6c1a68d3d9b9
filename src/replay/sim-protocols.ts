import type { ServerWebSocket } from "bun";
import { deribitResult, type ReferenceBodies } from "./sim-rest.ts";
import type { SimConnection } from "./simulator.ts";

/**
 * Client -> simulator messages of the OKX and Deribit WebSocket protocols (Binance's is
 * venues/binance/sim-protocol.ts): subscriptions, pings and heartbeats. Acks and pongs are control traffic and are not counted as sent data.
 */

type Socket = ServerWebSocket<SimConnection>;

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** OKX v5: text "ping" -> "pong"; `{"op":"subscribe"|"unsubscribe","args":[…]}` acked per arg. */
export function handleOkxMessage(ws: Socket, text: string): void {
  if (text === "ping") {
    ws.send("pong");
    return;
  }
  const msg = parse(text);
  if (!msg || (msg.op !== "subscribe" && msg.op !== "unsubscribe") || !Array.isArray(msg.args)) {
    ws.send(JSON.stringify({ event: "error", code: "60012", msg: `Invalid request: ${text.slice(0, 100)}` }));
    return;
  }
  for (const arg of msg.args) {
    if (typeof arg !== "object" || arg === null) continue;
    const a = arg as Record<string, unknown>;
    const channel = typeof a.channel === "string" ? a.channel : "";
    const id = typeof a.instId === "string" ? a.instId : typeof a.instType === "string" ? a.instType : "";
    const key = `${channel}:${id}`;
    if (msg.op === "subscribe") {
      ws.data.subs.add(key);
      // A book starts with a snapshot: hold its updates until the next snapshot push.
      if (channel.startsWith("books")) ws.data.pending.add(key);
    } else {
      ws.data.subs.delete(key);
      ws.data.pending.delete(key);
    }
    ws.send(JSON.stringify({ event: msg.op, arg: a, connId: "sim" }));
  }
}

/** Deribit JSON-RPC 2.0: subscribe/unsubscribe, set_heartbeat + test_request, public methods. */
export function handleDeribitMessage(ws: Socket, text: string, refs: ReferenceBodies): void {
  const msg = parse(text);
  if (!msg || typeof msg.method !== "string") return;
  const id = typeof msg.id === "number" || typeof msg.id === "string" ? msg.id : null;
  const params = typeof msg.params === "object" && msg.params !== null ? (msg.params as Record<string, unknown>) : {};
  const reply = (result: string): void => {
    ws.send(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result}}`);
  };
  switch (msg.method) {
    case "public/subscribe":
    case "public/unsubscribe": {
      const channels = Array.isArray(params.channels) ? params.channels.filter((c): c is string => typeof c === "string") : [];
      for (const c of channels) if (msg.method === "public/subscribe") ws.data.subs.add(c); else ws.data.subs.delete(c);
      reply(JSON.stringify(channels));
      return;
    }
    case "public/set_heartbeat": {
      const interval_s = Number(params.interval);
      clearInterval(ws.data.heartbeat);
      ws.data.awaitingTest = false;
      if (Number.isFinite(interval_s) && interval_s > 0) {
        // Like Deribit: a test_request left unanswered until the next one closes the socket.
        ws.data.heartbeat = setInterval(() => {
          if (ws.data.awaitingTest) {
            ws.close(1000, "heartbeat not answered");
            return;
          }
          ws.data.awaitingTest = true;
          ws.send('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}');
        }, interval_s * 1000);
      }
      reply('"ok"');
      return;
    }
    case "public/disable_heartbeat":
      clearInterval(ws.data.heartbeat);
      reply('"ok"');
      return;
    case "public/test":
      ws.data.awaitingTest = false;
      break;
  }
  const result = deribitResult(msg.method, params, Date.now(), refs);
  if (result === undefined) {
    ws.send(JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } }));
    return;
  }
  if ("body" in result) ws.send(result.body.replace(/^\{"jsonrpc":"2.0",/, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},`));
  else reply(result.result);
}
