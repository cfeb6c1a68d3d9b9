import type { VenueKey } from "../../config/schema.ts";
import { parseClientMessage, refuseUpgrade, type SimSession, type SimSocket } from "../../replay/sim-connection.ts";
import type { SimEnvironment } from "../../replay/sim-venue.ts";
import { DERIBIT_MAX_CONNECTIONS } from "./limits.ts";
import { deribitResult } from "./sim-rest.ts";

/**
 * The simulator's side of Deribit JSON-RPC 2.0 over WebSocket
 * (https://docs.deribit.com/#public-subscribe, https://docs.deribit.com/#public-set_heartbeat):
 * subscribe/unsubscribe, set_heartbeat + test_request, public methods. Rule, counted in
 * SimViolations when enforced:
 * - `deribit_connection_cap`: a connection beyond 32 open at once from one IP (limits.ts) is
 *   refused with 429 and error 10028 `too_many_requests`. The simulator answers REST at once,
 *   so its REST requests never hold a connection for long; the cap counts WebSockets.
 * The `public/subscribe` result lists the channels subscribed
 * (https://docs.deribit.com/api-reference/subscription-management/public-subscribe); under a
 * `subscribe_refused` fault (src/replay/sim-faults.ts) the refused symbol's channels are left out
 * of it and not served, the others are.
 */

/** The protocol's view of the simulator: violations, replies held by faults, open connections, reference bodies. */
type DeribitSimContext = Pick<SimEnvironment, "violations" | "reply" | "connections" | "refs" | "refusesSubscription">;

/**
 * The symbol a channel is of, as the engine names it: the currency of an index channel
 * (`deribit_volatility_index.btc_usd` -> BTC), the instrument of an instrument channel
 * (`book.BTC-PERPETUAL.raw`).
 */
function channelSymbol(channel: string): string {
  const part = channel.split(".")[1] ?? "";
  return channel.startsWith("deribit_") ? (part.split("_")[0] ?? "").toUpperCase() : part;
}

/** One Deribit connection: its heartbeat timer and whether a test_request awaits its answer. */
class DeribitSimSession implements SimSession {
  readonly shape = undefined;
  heartbeat: ReturnType<typeof setInterval> | undefined;
  awaitingTest = false;

  constructor(private readonly protocol: DeribitSimProtocol) {}

  open(): void {}

  message(ws: SimSocket, text: string): void {
    this.protocol.message(ws, this, text);
  }

  pong(): void {}

  close(): void {
    clearInterval(this.heartbeat);
  }
}

export class DeribitSimProtocol {
  constructor(private readonly ctx: DeribitSimContext) {}

  /** Before the handshake: the connection's session, or the refusal past the connection cap. */
  admit(venue: VenueKey): SimSession | Response {
    if (this.ctx.connections(venue) < DERIBIT_MAX_CONNECTIONS) return new DeribitSimSession(this);
    this.ctx.violations.count(venue, "deribit_connection_cap");
    return refuseUpgrade(429, { jsonrpc: "2.0", error: { code: 10028, message: "too_many_requests" } });
  }

  message(ws: SimSocket, session: DeribitSimSession, text: string): void {
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
        const asked = Array.isArray(params.channels) ? params.channels.filter((c): c is string => typeof c === "string") : [];
        const subscribe = msg.method === "public/subscribe";
        const channels = subscribe ? asked.filter((c) => !this.ctx.refusesSubscription(ws.data.venue, channelSymbol(c))) : asked;
        for (const c of channels) if (subscribe) ws.data.subs.add(c); else ws.data.subs.delete(c);
        reply(JSON.stringify(channels));
        return;
      }
      case "public/set_heartbeat": {
        const interval_s = Number(params.interval);
        clearInterval(session.heartbeat);
        session.awaitingTest = false;
        if (Number.isFinite(interval_s) && interval_s > 0) {
          // Like Deribit: a test_request left unanswered until the next one closes the socket.
          session.heartbeat = setInterval(() => {
            if (session.awaitingTest) {
              ws.close(1000, "heartbeat not answered");
              return;
            }
            // A silenced venue sends no test_request, so it has none to wait for either.
            if (this.ctx.reply(ws, '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}')) session.awaitingTest = true;
          }, interval_s * 1000);
        }
        reply('"ok"');
        return;
      }
      case "public/disable_heartbeat":
        clearInterval(session.heartbeat);
        reply('"ok"');
        return;
      case "public/test":
        session.awaitingTest = false;
        break;
    }
    const result = deribitResult(msg.method, params, Date.now(), this.ctx.refs);
    if (result === undefined) {
      this.ctx.reply(ws, JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } }));
      return;
    }
    if ("body" in result) this.ctx.reply(ws, result.body.replace(/^\{"jsonrpc":"2.0",/, `{"jsonrpc":"2.0","id":${JSON.stringify(id)},`));
    else reply(result.result);
  }
}
