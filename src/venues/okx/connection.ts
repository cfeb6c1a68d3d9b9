import { okxBookChannel, okxStaleLimitMs, okxSubscribeArgs, type OkxSubscribeArg } from "./channels.ts";
import { okxErrorReconnects, okxNextAction, parseOkxError } from "./error-events.ts";
import { needsLogin } from "./limits.ts";
import { okxCredentials, okxLoginFrame, okxRequestFrames, OkxRequestBudget, type OkxCredentials } from "./requests.ts";
import { ErrorIncidents } from "../connection/error-incidents.ts";
import type { ConnectionContext } from "../connection/venue-connection.ts";
import { WatchedConnection } from "../connection/watched-connection.ts";
import { WsClient } from "../connection/ws-client.ts";

/**
 * OKX v5 public WebSocket (https://www.okx.com/docs-v5/en/#overview-websocket-connect), inside
 * OKX's limits (limits.ts):
 * - connects go through this thread's share of the 3-a-second-per-IP limit (connect-share.ts);
 * - on every open the subscriptions go out in as few requests as fit 64 KB each; a book channel
 *   that needs a login (`books-l2-tbt`, `books50-l2-tbt`) is subscribed after `login` succeeds;
 * - every subscribe/unsubscribe/login spends the connection's budget of 480 an hour. A book
 *   whose checksum or sequence failed is resubscribed (unsubscribe + subscribe: OKX answers a
 *   subscribe with a fresh snapshot), all books that failed together in one round, at most one
 *   round per `okx_resubscribe_interval_ms`. A round the budget cannot pay for reconnects instead
 *   (paced like every connect): the new connection has a fresh budget and its subscribe brings a
 *   fresh snapshot of every book;
 * - after `okx_ping_idle_ms` with nothing received or nothing sent the client sends "ping" (OKX
 *   closes a connection idle for 30 s) and expects "pong", which is not passed on; nothing within
 *   `heartbeat_timeout_ms` after it reconnects with a `stale` gap;
 * - `"event":"error"` replies are counted and the first of each incident is logged with what
 *   the engine does next (error-events.ts, connection/error-incidents.ts).
 */

const channelKey = (text: string): string => {
  // `{"arg":{"channel":"books","instId":"BTC-USDT"},…}`: channel and id, without a parse.
  const c = text.indexOf('"channel":"');
  if (c < 0) return "";
  const ce = text.indexOf('"', c + 11);
  const i = text.indexOf('"inst', ce);
  const is = text.indexOf(':"', i) + 2;
  const ie = text.indexOf('"', is);
  return i < 0 ? text.slice(c + 11, ce) : `${text.slice(c + 11, ce)}:${text.slice(is, ie)}`;
};

const argKey = (a: OkxSubscribeArg): string => `${a.channel}:${a.instId ?? a.instType ?? ""}`;

/** OKX connection tuning; tests shrink these. */
export interface OkxTuning {
  /**
   * Send "ping" after this much silence either way, ms. OKX drops sockets idle for 30 s; half of
   * that leaves a busy thread (thousands of books, its timers late) 15 s to get the ping out.
   */
  readonly okx_ping_idle_ms: number;
  /** Shortest interval between two book resubscription rounds, ms (each spends 2+ of 480 requests an hour). */
  readonly okx_resubscribe_interval_ms: number;
}

export const OKX_TUNING: OkxTuning = { okx_ping_idle_ms: 15_000, okx_resubscribe_interval_ms: 1000 };

export class OkxConnection extends WatchedConnection<OkxTuning> {
  protected readonly client: WsClient;
  /** Public subscriptions, sent on open. */
  private args: OkxSubscribeArg[];
  /** Subscriptions that need a login, sent once `login` succeeds. */
  private loginArgs: OkxSubscribeArg[];
  private readonly credentials: OkxCredentials | undefined;
  private readonly budget = new OkxRequestBudget();
  private readonly incidents: ErrorIncidents;
  /** Native ids whose books wait for the next resubscription round. */
  private readonly resync = new Set<string>();
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  private lastRoundMs = Number.NEGATIVE_INFINITY;
  private loggedIn = false;
  readonly url: string;

  constructor(ctx: ConnectionContext<OkxTuning>) {
    super(ctx, okxStaleLimitMs);
    this.url = `${ctx.config.ws_url}/ws/v5/public`;
    this.incidents = new ErrorIncidents(this.url);
    const all = okxSubscribeArgs(ctx.symbols, ctx.config.data_types, ctx.instruments, okxBookChannel(ctx.config));
    this.args = all.filter((a) => !needsLogin(a.channel));
    this.loginArgs = all.filter((a) => needsLogin(a.channel));
    this.credentials = this.loginArgs.length > 0 ? okxCredentials(process.env) : undefined;
    this.client = new WsClient({
      url: () => this.url,
      backoff: ctx.tuning.backoff,
      heartbeat: { idle_ms: ctx.tuning.okx_ping_idle_ms, message: "ping", timeout_ms: ctx.tuning.heartbeat_timeout_ms },
      ...(ctx.connect_limiter === undefined ? {} : { connect_limiter: ctx.connect_limiter }),
      onSilence: (silent_ms) =>
        ctx.onIncident?.({ kind: "silent", url: this.url, detail: `nothing received for ${silent_ms} ms`, next: "reconnects now and records a stale gap for the hole" }),
      onOpen: () => this.opened(),
      onMessage: (text, recv) => {
        if (text === "pong") return;
        if (text.startsWith('{"event":"') && this.control(text)) return;
        this.watchdog.seen(channelKey(text), recv);
        ctx.onFrame(text, recv, this.url);
      },
      onGap: (gap) => ctx.onGap(gap, ctx.symbols),
      onDisconnect: (recv) => ctx.onDisconnect(recv),
    });
  }

  /** Requests left in this connection's hour (tests and stats). */
  get requestsLeft(): number {
    return this.budget.left();
  }

  resubscribeBooks(natives: readonly string[]): void {
    for (const n of natives) this.resync.add(n);
    if (this.resyncTimer !== undefined || this.resync.size === 0) return;
    const wait_ms = Math.max(0, this.lastRoundMs + this.ctx.tuning.okx_resubscribe_interval_ms - performance.now());
    this.resyncTimer = setTimeout(() => this.resubscribeRound(), wait_ms);
  }

  /**
   * Subscribes what the runner's symbols (`ctx.symbols`, already changed) now need and
   * unsubscribes what they no longer do, on the open connection; the other subscriptions stay.
   * A change the hour's request budget cannot pay for reconnects instead, as a resubscription
   * round does: the new connection subscribes the new list.
   */
  changeSymbols(): void {
    const all = okxSubscribeArgs(this.ctx.symbols, this.ctx.config.data_types, this.ctx.instruments, okxBookChannel(this.ctx.config));
    const next = all.filter((a) => !needsLogin(a.channel));
    const nextLogin = all.filter((a) => needsLogin(a.channel));
    const keys = new Set(all.map(argKey));
    const before = [...this.args, ...(this.loggedIn ? this.loginArgs : [])];
    const had = new Set([...this.args, ...this.loginArgs].map(argKey));
    const gone = before.filter((a) => !keys.has(argKey(a)));
    const fresh = [...next, ...(this.loggedIn ? nextLogin : [])].filter((a) => !had.has(argKey(a)));
    this.args = next;
    this.loginArgs = nextLogin;
    if (this.client.state !== "open") return;
    const now = Date.now();
    for (const a of gone) this.watchdog.forget(argKey(a));
    for (const a of fresh) this.watchdog.arm(argKey(a), now);
    const frames = [...(gone.length > 0 ? okxRequestFrames("unsubscribe", gone) : []), ...(fresh.length > 0 ? okxRequestFrames("subscribe", fresh) : [])];
    if (frames.length === 0 || this.request(frames)) return;
    this.venueError("request_budget", `${frames.length} requests to change ${fresh.length + gone.length} subscriptions, ${this.budget.left()} of 480 left this hour`);
  }

  override async stop(): Promise<void> {
    clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    await super.stop();
  }

  private opened(): void {
    const now = Date.now();
    for (const a of [...this.args, ...this.loginArgs]) this.watchdog.arm(argKey(a), now);
    this.budget.reset();
    this.incidents.reset();
    this.loggedIn = false;
    // The new connection's subscribe brings every book a fresh snapshot.
    this.resync.clear();
    clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    this.request(okxRequestFrames("subscribe", this.args));
    if (this.loginArgs.length === 0) return;
    // Without credentials the subscribe goes out anyway and OKX's "Please log in" is counted and
    // logged (the engine refuses such a config at start: topology.ts).
    if (this.credentials === undefined) this.request(okxRequestFrames("subscribe", this.loginArgs));
    else this.request([okxLoginFrame(this.credentials, now)]);
  }

  /** Login replies and error events; false for other events (subscribe acks go to the normalizer). */
  private control(text: string): boolean {
    if (text.startsWith('{"event":"login"')) {
      if (!text.includes('"code":"0"')) return false;
      this.loggedIn = true;
      this.request(okxRequestFrames("subscribe", this.loginArgs));
      return true;
    }
    const error = parseOkxError(text);
    if (error === undefined) return false;
    this.venueError(error.code, error.msg);
    return true;
  }

  private resubscribeRound(): void {
    this.resyncTimer = undefined;
    this.lastRoundMs = performance.now();
    const subscribed = this.loggedIn ? [...this.args, ...this.loginArgs] : this.args;
    const args = subscribed.filter((a) => a.channel.startsWith("books") && a.instId !== undefined && this.resync.has(a.instId));
    this.resync.clear();
    if (args.length === 0) return;
    const frames = [...okxRequestFrames("unsubscribe", args), ...okxRequestFrames("subscribe", args)];
    if (this.request(frames)) return;
    this.venueError("request_budget", `${frames.length} requests to resubscribe ${args.length} books, ${this.budget.left()} of 480 left this hour`);
  }

  /** Sends `frames` if the hour's budget pays for all of them. */
  private request(frames: readonly string[]): boolean {
    if (!this.budget.spend(frames.length)) return false;
    for (const f of frames) this.client.send(f);
    return true;
  }

  private venueError(code: string, msg: string): void {
    const event = this.incidents.event(code, msg, okxNextAction(code));
    this.ctx.onVenueError?.(event);
    if (event.first && okxErrorReconnects(code)) this.client.reconnect("reconnect");
  }
}
