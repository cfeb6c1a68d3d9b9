import type { VenueKey } from "../../config/schema.ts";
import { parseClientMessage, refuseUpgrade, type SimSession, type SimSocket } from "../../replay/sim-connection.ts";
import type { SimEnvironment } from "../../replay/sim-venue.ts";
import { WindowLimiter } from "../connection/window-limiter.ts";
import { HOUR_MS, needsLogin, OKX_CONNECTS_PER_S, OKX_ERRORS, OKX_IDLE_CLOSE_MS, OKX_MAX_REQUEST_BYTES, OKX_REQUESTS_PER_HOUR, okxNotFoundMsg } from "./limits.ts";

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
 * Under a `subscribe_refused` fault (src/replay/sim-faults.ts) each subscribe arg of the refused
 * instId gets error 60018 "Wrong URL or channel:…,instId:… doesn't exist", as OKX answers an
 * instrument it does not serve, and the request's other args are acked.
 * The recordings hold one book channel, `books`; a logged-in client subscribed to `books-l2-tbt`
 * or `books50-l2-tbt` is served those pushes, under their recorded channel name.
 */

/** The protocol's view of the simulator: violations, replies held or refused by faults, test timings. */
type OkxSimContext = Pick<SimEnvironment, "violations" | "reply" | "options" | "refusesSubscription">;

/** One OKX connection: when its client last sent anything, its requests of the last hour, its login. */
class OkxSimSession implements SimSession {
  readonly shape = undefined;
  /** Times of the subscribe/unsubscribe/login requests of the last hour, oldest first. */
  readonly requests: number[] = [];
  logged_in = false;

  constructor(
    private readonly protocol: OkxSimProtocol,
    /** Date.now() ms. */
    public last_client_ms: number,
  ) {}

  open(ws: SimSocket): void {
    this.protocol.sessions.set(ws, this);
  }

  message(ws: SimSocket, text: string): void {
    this.protocol.message(ws, this, text);
  }

  pong(): void {}

  close(ws: SimSocket): void {
    this.protocol.sessions.delete(ws);
  }
}

export class OkxSimProtocol {
  readonly idle_ms: number;
  private readonly connects: WindowLimiter;
  /** OKX connections open now, okx_spot and okx_derivatives alike. */
  readonly sessions = new Map<SimSocket, OkxSimSession>();

  constructor(private readonly ctx: OkxSimContext) {
    this.idle_ms = ctx.options.idle_ms ?? OKX_IDLE_CLOSE_MS;
    const limit = ctx.options.connect_limit ?? { max: OKX_CONNECTS_PER_S, window_ms: 1000 };
    this.connects = new WindowLimiter(limit.max, limit.window_ms);
  }

  /** Before the handshake: the connection's session, or the refusal. */
  admit(venue: VenueKey): SimSession | Response {
    const now = performance.now();
    if (this.connects.delayMs(now) > 0) {
      this.ctx.violations.count(venue, "okx_connect_rate");
      const { max, window_ms } = this.connects;
      return refuseUpgrade(429, { msg: `simulator: more than ${max} connection requests in ${window_ms / 1000} s from this IP`, code: "60014" });
    }
    this.connects.take(now);
    return new OkxSimSession(this, Date.now());
  }

  message(ws: SimSocket, session: OkxSimSession, text: string): void {
    session.last_client_ms = Date.now();
    const c = ws.data;
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
    if (!this.takeRequest(ws, session)) return;
    if (op === "login") {
      this.login(ws, session, msg.args);
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
        if (needsLogin(channel) && !session.logged_in) {
          this.ctx.violations.count(c.venue, "okx_login_required");
          this.error(ws, OKX_ERRORS.please_log_in.code, OKX_ERRORS.please_log_in.msg);
          continue;
        }
        if (typeof a.instId === "string" && this.ctx.refusesSubscription(c.venue, a.instId)) {
          this.error(ws, OKX_ERRORS.not_found.code, okxNotFoundMsg(channel, { instId: a.instId }));
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
  closeIdle(now_ms: number): void {
    for (const [ws, session] of this.sessions) {
      if (now_ms - session.last_client_ms < this.idle_ms) continue;
      this.ctx.violations.count(ws.data.venue, "okx_idle");
      ws.close(4004, `No data received in ${Math.round(this.idle_ms / 1000)}s.`);
    }
  }

  /** Spends one of the connection's hourly requests; false (and an error sent) when none is left. */
  private takeRequest(ws: SimSocket, c: OkxSimSession): boolean {
    const now = Date.now();
    while (c.requests.length > 0 && (c.requests[0] ?? 0) <= now - HOUR_MS) c.requests.shift();
    if (c.requests.length >= OKX_REQUESTS_PER_HOUR) {
      this.ctx.violations.count(ws.data.venue, "okx_request_rate");
      this.error(ws, OKX_ERRORS.too_frequent.code, `${OKX_ERRORS.too_frequent.msg} More than ${OKX_REQUESTS_PER_HOUR} subscribe/unsubscribe/login requests in an hour.`);
      return false;
    }
    c.requests.push(now);
    return true;
  }

  private login(ws: SimSocket, session: OkxSimSession, args: unknown[]): void {
    const a = args[0];
    const fields = ["apiKey", "passphrase", "timestamp", "sign"];
    const ok = typeof a === "object" && a !== null && fields.every((f) => typeof (a as Record<string, unknown>)[f] === "string" && (a as Record<string, string>)[f] !== "");
    if (!ok) {
      this.error(ws, OKX_ERRORS.invalid_request.code, `Invalid request: login needs ${fields.join(", ")}`);
      return;
    }
    session.logged_in = true;
    this.ctx.reply(ws, JSON.stringify({ event: "login", code: "0", msg: "", connId: "sim" }));
  }

  private error(ws: SimSocket, code: string, msg: string): void {
    this.ctx.reply(ws, JSON.stringify({ event: "error", code, msg, connId: "sim" }));
  }
}
