import { parseClientMessage, type SimSession, type SimSocket } from "../../replay/sim-connection.ts";
import type { SimEnvironment } from "../../replay/sim-venue.ts";
import { WindowLimiter } from "../connection/window-limiter.ts";
import type { BinanceVenue } from "./channels.ts";
import { BINANCE_LIMITS, binanceRoute, type BinanceRoute } from "./routes.ts";

/**
 * The simulator's Binance market-stream server, as strict as the venue
 * (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Important-WebSocket-Change-Notice).
 *
 * Paths under the venue prefix: `/ws` and `/ws/<s1>/<s2>` (raw payloads), `/stream` and
 * `/stream?streams=<s1>/<s2>` (wrapped `{"stream","data"}`), for USDⓈ-M also under `/public` and
 * `/market`. Streams come from the URL and from `SUBSCRIBE`/`UNSUBSCRIBE` requests;
 * `LIST_SUBSCRIPTIONS` lists them. Each rule broken is counted in SimViolations:
 * - `binance_ws_message_rate`: more incoming messages (requests and pongs) in a second than the
 *   venue allows (spot 5, USDⓈ-M 10): closed with 1008 "Too many requests".
 * - `binance_legacy_path`, `binance_wrong_route`: a USDⓈ-M stream subscribed on the unrouted
 *   `/ws`/`/stream` or on the other route: accepted and never delivered, as the venue does.
 * - `binance_stream_cap`: more than 1024 streams on a connection: refused (URL) or closed (request).
 * - `binance_connect_rate`: more connection attempts per venue than 300 in 5 min: refused with 429.
 * - `binance_lifetime`: a connection still open at the end of its lifetime (24 h unless
 *   shortened): it gets `serverShutdown` a notice ahead (half the lifetime, at most 10 min), then
 *   the close (1001); only one the client kept past a notice it got counts.
 * Replies, errors and `serverShutdown` go out through the simulator's `reply`, so a `silence`
 * fault holds them as it holds data (src/replay/sim-faults.ts).
 */

/** The protocol's view of the simulator: violations, replies held by faults, test limits. */
type BinanceSimContext = Pick<SimEnvironment, "violations" | "reply" | "options">;

export type BinanceSimRule =
  | "binance_ws_message_rate"
  | "binance_legacy_path"
  | "binance_wrong_route"
  | "binance_stream_cap"
  | "binance_connect_rate"
  | "binance_lifetime";

/** One Binance connection in the simulator: its route, payload form, incoming rate and lifetime. */
class BinanceSimSession implements SimSession {
  /** `/ws` paths get raw payloads, `/stream` paths wrapped ones. */
  readonly shape: ((text: string) => string) | undefined;
  /** Every stream subscribed (delivered or not), for LIST_SUBSCRIPTIONS. */
  readonly listed = new Set<string>();
  readonly incoming: WindowLimiter;
  timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    private readonly protocol: BinanceSimProtocol,
    readonly venue: BinanceVenue,
    /** `legacy`: a USDⓈ-M path without a route. */
    readonly route: BinanceRoute | "legacy",
    raw: boolean,
    /** Streams from the URL, subscribed at open. */
    readonly initial: readonly string[],
  ) {
    this.shape = raw ? rawPayload : undefined;
    this.incoming = new WindowLimiter(BINANCE_LIMITS[venue].incoming_per_s, 1000);
  }

  open(ws: SimSocket): void {
    this.protocol.open(ws, this);
  }

  message(ws: SimSocket, text: string): void {
    this.protocol.message(ws, this, text);
  }

  pong(ws: SimSocket): void {
    this.protocol.pong(ws, this);
  }

  close(ws: SimSocket): void {
    this.protocol.close(ws, this);
  }
}

/** Ten minutes: the longest notice `serverShutdown` gives before the close. */
const MAX_NOTICE_MS = 600_000;

/** `{"stream":"…","data":<payload>}` -> `<payload>` (what a raw `/ws` connection receives). */
function rawPayload(text: string): string {
  if (!text.startsWith('{"stream":"')) return text;
  const at = text.indexOf(',"data":');
  return at < 0 ? text : text.slice(at + 8, -1);
}

export class BinanceSimProtocol {
  private readonly attempts = new Map<BinanceVenue, WindowLimiter>();
  private readonly lifetime_ms: number;
  /** Binance connections open now (the server pings them). */
  readonly sockets = new Set<SimSocket>();
  /** Most incoming messages one connection sent within a second, per venue. */
  readonly peak_incoming_per_s: Record<BinanceVenue, number> = { binance_spot: 0, binance_derivatives: 0 };

  constructor(private readonly ctx: BinanceSimContext) {
    this.lifetime_ms = ctx.options.lifetime_ms ?? BINANCE_LIMITS.binance_spot.lifetime_ms;
  }

  /** The session for an upgrade of `path` (after the venue prefix), or the refusal. */
  upgrade(venue: BinanceVenue, path: string, query: URLSearchParams): BinanceSimSession | Response {
    const limits = BINANCE_LIMITS[venue];
    let route: BinanceRoute | "legacy" = venue === "binance_spot" ? "" : "legacy";
    let rest = path;
    for (const r of ["/public", "/market"] as const) {
      if (venue === "binance_derivatives" && (path === r || path.startsWith(`${r}/`))) {
        route = r;
        rest = path.slice(r.length);
      }
    }
    let raw: boolean;
    let streams: string[];
    if (rest === "/stream") {
      raw = false;
      streams = (query.get("streams") ?? "").split("/");
    } else if (rest === "/ws" || rest.startsWith("/ws/")) {
      raw = true;
      streams = rest.slice(4).split("/");
    } else return new Response(`simulator: no Binance stream endpoint at ${path}`, { status: 404 });
    streams = streams.filter((s) => s.length > 0).map((s) => s.toLowerCase());
    const limit = this.ctx.options.connect_limit ?? { max: limits.connect_max, window_ms: limits.connect_window_ms };
    let attempts = this.attempts.get(venue);
    if (attempts === undefined) {
      attempts = new WindowLimiter(limit.max, limit.window_ms);
      this.attempts.set(venue, attempts);
    }
    const now = performance.now();
    if (attempts.delayMs(now) > 0) {
      this.ctx.violations.count(venue, "binance_connect_rate");
      return Response.json({ code: -1003, msg: "Too many connection attempts." }, { status: 429 });
    }
    attempts.take(now);
    if (streams.length > limits.max_streams) {
      this.ctx.violations.count(venue, "binance_stream_cap");
      return Response.json({ code: -1, msg: `At most ${limits.max_streams} streams per connection.` }, { status: 400 });
    }
    return new BinanceSimSession(this, venue, route, raw, streams);
  }

  open(ws: SimSocket, b: BinanceSimSession): void {
    this.sockets.add(ws);
    this.subscribe(ws, b, b.initial);
    const notice = Math.min(MAX_NOTICE_MS, this.lifetime_ms / 2);
    // A client kept the connection past a notice it got; one a `silence` fault held breaks no rule.
    let noticed = false;
    b.timers.push(
      setTimeout(() => {
        noticed = this.ctx.reply(ws, JSON.stringify({ e: "serverShutdown", E: Date.now() }));
      }, this.lifetime_ms - notice),
      setTimeout(() => {
        if (noticed) this.ctx.violations.count(b.venue, "binance_lifetime");
        ws.close(1001, "Connection lifetime reached");
      }, this.lifetime_ms),
    );
  }

  close(ws: SimSocket, b: BinanceSimSession): void {
    this.sockets.delete(ws);
    for (const t of b.timers) clearTimeout(t);
    b.timers = [];
  }

  /** A pong counts against the incoming-message limit like a request. */
  pong(ws: SimSocket, b: BinanceSimSession): void {
    this.incoming(ws, b);
  }

  message(ws: SimSocket, b: BinanceSimSession, text: string): void {
    if (!this.incoming(ws, b)) return;
    const msg = parseClientMessage(text);
    const id = typeof msg?.id === "number" || typeof msg?.id === "string" ? msg.id : null;
    const params = Array.isArray(msg?.params) ? msg.params.filter((p): p is string => typeof p === "string").map((p) => p.toLowerCase()) : [];
    const reply = (result: unknown): void => {
      this.ctx.reply(ws, JSON.stringify({ result, id }));
    };
    switch (msg?.method) {
      case "SUBSCRIBE":
        if (this.subscribe(ws, b, params)) reply(null);
        return;
      case "UNSUBSCRIBE":
        for (const p of params) {
          b.listed.delete(p);
          ws.data.subs.delete(p);
        }
        reply(null);
        return;
      case "LIST_SUBSCRIPTIONS":
        reply([...b.listed]);
        return;
      default:
        this.ctx.reply(ws, JSON.stringify({ error: { code: 2, msg: `Invalid request: ${text.slice(0, 100)}` }, id }));
    }
  }

  /** Counts one incoming message; false (and the 1008 close) past the venue's rate. */
  private incoming(ws: SimSocket, b: BinanceSimSession): boolean {
    const now = performance.now();
    if (b.incoming.delayMs(now) > 0) {
      this.ctx.violations.count(b.venue, "binance_ws_message_rate");
      ws.close(1008, "Too many requests");
      return false;
    }
    b.incoming.take(now);
    const n = b.incoming.inWindow(now);
    if (n > this.peak_incoming_per_s[b.venue]) this.peak_incoming_per_s[b.venue] = n;
    return true;
  }

  /** Adds `streams`; false when they pass the cap (the connection is closed). */
  private subscribe(ws: SimSocket, b: BinanceSimSession, streams: readonly string[]): boolean {
    const fresh = streams.filter((s) => !b.listed.has(s));
    if (b.listed.size + fresh.length > BINANCE_LIMITS[b.venue].max_streams) {
      this.ctx.violations.count(b.venue, "binance_stream_cap");
      ws.close(1008, "Too many streams");
      return false;
    }
    for (const s of fresh) {
      b.listed.add(s);
      if (b.route === "legacy") this.ctx.violations.count(b.venue, "binance_legacy_path");
      else if (b.route !== binanceRoute(b.venue, s)) this.ctx.violations.count(b.venue, "binance_wrong_route");
      else ws.data.subs.add(s);
    }
    return true;
  }
}
