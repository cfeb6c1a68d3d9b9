import type { ServerWebSocket } from "bun";
import type { SimConnection } from "./sim-connection.ts";

/**
 * Client -> simulator messages of Binance's WebSocket protocol (OKX and Deribit: the
 * `sim-protocol.ts` of their venue folders). Acks are control traffic, not counted as sent data.
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

/** Binance: `{"method":"SUBSCRIBE"|"UNSUBSCRIBE","params":[streams],"id":n}` beside URL streams. */
export function handleBinanceMessage(ws: Socket, text: string): void {
  const msg = parse(text);
  if (!msg || !Array.isArray(msg.params)) return;
  for (const p of msg.params) {
    if (typeof p !== "string") continue;
    if (msg.method === "SUBSCRIBE") ws.data.subs.add(p.toLowerCase());
    else if (msg.method === "UNSUBSCRIBE") ws.data.subs.delete(p.toLowerCase());
  }
  ws.send(JSON.stringify({ result: null, id: msg.id ?? null }));
}
