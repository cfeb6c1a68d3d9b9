import { parseClientMessage, refuseUpgrade, type SimProtocolContext, type SimSocket } from "../../replay/sim-connection.ts";
import { WindowLimiter } from "../connection/window-limiter.ts";
import { HOUR_MS, needsLogin, OKX_CONNECTS_PER_S, OKX_ERRORS, OKX_IDLE_CLOSE_MS, OKX_MAX_REQUEST_BYTES, OKX_REQUESTS_PER_HOUR } from "./limits.ts";

/**
 * The simulator's side of OKX v5 `/ws/v5/public` (https://www.okx.com/docs-v5/en/#overview-websocket),
 * as strict as OKX (limits.ts): text "ping" -> "pong"; `{"op":"subscribe"|"unsubscribe","args":[…]}`
 * acked per arg; `{"op":"login"}` accepted with any non-empty credentials. Rules, each counted
 * in SimViolations when enforced:
 * - `okx_connect_rate`: a 4th connection request within a second (one IP: the loopback) gets 429;
 * - `okx_request_rate`: a 481st subscribe/unsubscribe/login within an hour on a connection is
 *   refused with error 60014;
 * - `okx_request_size`: a request over 64 KB is refused with error 60012;
 * - `okx_login_required`: `books-l2-tbt`/`books50-l2-tbt` on a connection that has not logged in
 *   gets error 60011 "Please log in";
 * - `okx_idle`: a connection whose client sent nothing (`ping` or any request) for 30 s
 *   (`idle_ms`) is closed with 4004. The venue's own wording is "data has not been pushed for more
 *   than 30 seconds"; the simulator holds the client to the stricter reading, so a client that
 *   keeps it happy keeps OKX happy.
 * The recordings hold one book channel, `books`; a logged-in client subscribed to `books-l2-tbt`
 * or `books50-l2-tbt` is served those pushes, under their recorded channel name.
 */

export interface OkxSimOptions {
  /** Client silence after which a connection is closed, ms (tests shorten it). */
  readonly idle_ms?: number;
}

export class OkxSimProtocol {
  readonly idle_ms: number;
  private readonly connects = new WindowLimiter(OKX_CONNECTS_PER_S, 1000);

  constructor(
    private readonly ctx: SimProtocolContext,
    options: OkxSimOptions = {},
  ) {
    this.idle_ms = options.idle_ms ?? OKX_IDLE_CLOSE_MS;
  }

  /** Before the handshake: a Response refuses the connection. */
  admit(venue: "okx_spot" | "okx_derivatives"): Response | undefined {
    const now = performance.now();
    if (this.connects.delayMs(now) > 0) {
      this.ctx.violations.count(venue, "okx_connect_rate");
      return refuseUpgrade(429, { msg: `simulator: more than ${OKX_CONNECTS_PER_S} connection requests a second from this IP`, code: "60014" });
    }
    this.connects.take(now);
    return undefined;
  }

  message(ws: SimSocket, text: string): void {
    const c = ws.data;
    c.last_client_ms = Date.now();
    if (text === "ping") {
      this.ctx.reply(ws, "pong");
      return;
    }
    const msg = parseClientMessage(text);
    const op = msg?.op;
    if (!msg || (op !== "subscribe" && op !== "unsubscribe" && op !== "login") || !Array.isArray(msg.args)) {
      this.error(ws, OKX_ERRORS.invalid_request.code, `Invalid request: ${text.slice(0, 100)}`);
      return;
    }
    if (Buffer.byteLength(text) > OKX_MAX_REQUEST_BYTES) {
      this.ctx.violations.count(c.venue, "okx_request_size");
      this.error(ws, OKX_ERRORS.invalid_request.code, `Invalid request: ${Buffer.byteLength(text)} bytes, more than ${OKX_MAX_REQUEST_BYTES}`);
      return;
    }
    if (!this.takeRequest(ws)) return;
    if (op === "login") {
      this.login(ws, msg.args);
      return;
    }
    for (const arg of msg.args) {
      if (typeof arg !== "object" || arg === null) continue;
      const a = arg as Record<string, unknown>;
      const channel = typeof a.channel === "string" ? a.channel : "";
      const id = typeof a.instId === "string" ? a.instId : typeof a.instType === "string" ? a.instType : "";
      // Every book channel is served from the recorded `books` feed.
      const key = `${channel.startsWith("books") ? "books" : channel}:${id}`;
      if (op === "subscribe") {
        if (needsLogin(channel) && !c.logged_in) {
          this.ctx.violations.count(c.venue, "okx_login_required");
          this.error(ws, OKX_ERRORS.please_log_in.code, OKX_ERRORS.please_log_in.msg);
          continue;
        }
        c.subs.add(key);
        // A book starts with a snapshot: hold its updates until the next snapshot push.
        if (channel.startsWith("books")) c.pending.add(key);
      } else {
        c.subs.delete(key);
        c.pending.delete(key);
      }
      this.ctx.reply(ws, JSON.stringify({ event: op, arg: a, connId: "sim" }));
    }
  }

  /** Closes every OKX connection whose client has been silent for `idle_ms`. */
  closeIdle(sockets: Iterable<SimSocket>, now_ms: number): void {
    for (const ws of sockets) {
      const c = ws.data;
      if (!c.venue.startsWith("okx") || now_ms - c.last_client_ms < this.idle_ms) continue;
      this.ctx.violations.count(c.venue, "okx_idle");
      ws.close(4004, `No data received in ${Math.round(this.idle_ms / 1000)}s.`);
    }
  }

  /** Spends one of the connection's hourly requests; false (and an error sent) when none is left. */
  private takeRequest(ws: SimSocket): boolean {
    const c = ws.data;
    const now = Date.now();
    while (c.requests.length > 0 && (c.requests[0] ?? 0) <= now - HOUR_MS) c.requests.shift();
    if (c.requests.length >= OKX_REQUESTS_PER_HOUR) {
      this.ctx.violations.count(c.venue, "okx_request_rate");
      this.error(ws, OKX_ERRORS.too_frequent.code, `${OKX_ERRORS.too_frequent.msg} More than ${OKX_REQUESTS_PER_HOUR} subscribe/unsubscribe/login requests in an hour.`);
      return false;
    }
    c.requests.push(now);
    return true;
  }

  private login(ws: SimSocket, args: unknown[]): void {
    const a = args[0];
    const fields = ["apiKey", "passphrase", "timestamp", "sign"];
    const ok = typeof a === "object" && a !== null && fields.every((f) => typeof (a as Record<string, unknown>)[f] === "string" && (a as Record<string, string>)[f] !== "");
    if (!ok) {
      this.error(ws, OKX_ERRORS.invalid_request.code, `Invalid request: login needs ${fields.join(", ")}`);
      return;
    }
    ws.data.logged_in = true;
    this.ctx.reply(ws, JSON.stringify({ event: "login", code: "0", msg: "", connId: "sim" }));
  }

  private error(ws: SimSocket, code: string, msg: string): void {
    this.ctx.reply(ws, JSON.stringify({ event: "error", code, msg, connId: "sim" }));
  }
}
