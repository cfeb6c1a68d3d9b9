import { parseClientMessage, refuseUpgrade, type SimProtocolContext, type SimSocket } from "../../replay/sim-connection.ts";
import { deribitResult, type ReferenceBodies } from "../../replay/sim-rest.ts";
import { DERIBIT_MAX_CONNECTIONS } from "./limits.ts";

/**
 * The simulator's side of Deribit JSON-RPC 2.0 over WebSocket
 * (https://docs.deribit.com/#public-subscribe, https://docs.deribit.com/#public-set_heartbeat):
 * subscribe/unsubscribe, set_heartbeat + test_request, public methods. Rule, counted in
 * SimViolations when enforced:
 * - `deribit_connection_cap`: a connection beyond 32 open at once from one IP (limits.ts) is
 *   refused with 429 and error 10028 `too_many_requests`. The simulator answers REST at once,
 *   so its REST requests never hold a connection for long; the cap counts WebSockets.
 */
export class DeribitSimProtocol {
  constructor(
    private readonly ctx: SimProtocolContext,
    private readonly refs: ReferenceBodies,
  ) {}

  /** Before the handshake, with the Deribit connections already open: a Response refuses it. */
  admit(open: number): Response | undefined {
    if (open < DERIBIT_MAX_CONNECTIONS) return undefined;
    this.ctx.violations.count("deribit_derivatives", "deribit_connection_cap");
    return refuseUpgrade(429, { jsonrpc: "2.0", error: { code: 10028, message: "too_many_requests" } });
  }

  message(ws: SimSocket, text: string): void {
    const msg = parseClientMessage(text);
    if (!msg || typeof msg.method !== "string") return;
    const id = typeof msg.id === "number" || typeof msg.id === "string" ? msg.id : null;
    const params = typeof msg.params === "object" && msg.params !== null ? (msg.params as Record<string, unknown>) : {};
    const reply = (result: string): void => {
      this.ctx.reply(ws, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result}}`);
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
            // A silenced venue sends no test_request, so it has none to wait for either.
            if (this.ctx.reply(ws, '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}')) ws.data.awaitingTest = true;
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
    const result = deribitResult(msg.method, params, Date.now(), this.refs);
    if (result === undefined) {
      this.ctx.reply(ws, JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } }));
      return;
    }
    if ("body" in result) this.ctx.reply(ws, result.body.replace(/^\{"jsonrpc":"2.0",/, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},`));
    else reply(result.result);
  }
}
