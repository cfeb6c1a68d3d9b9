import { okxBookChannel, okxStaleLimitMs, okxSubscribeArgs, type OkxSubscribeArg } from "./channels.ts";
import { OKX_SUBSCRIBE_REFUSED_NEXT, okxErrorReconnects, okxNextAction, okxRefusedArg, parseOkxError } from "./error-events.ts";
import { needsLogin } from "./limits.ts";
import { okxCredentials, okxLoginFrame, okxRequestFrames, OkxRequestBudget, type OkxCredentials } from "./requests.ts";
import { ErrorIncidents } from "../connection/error-incidents.ts";
import { ResubscribeLoops } from "../connection/resync-loops.ts";
import type { SymbolFailure } from "../connection/symbol-failure.ts";
import type { BookHealth } from "../types.ts";
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
 *   round per `okx_resubscribe_interval_ms`. A book that breaks again soon after each
 *   resubscription waits longer each time and is listed as a `resync_loop`
 *   (connection/resync-loops.ts), so it cannot spend the budget. A round the budget cannot pay
 *   for reconnects instead (paced like every connect): the new connection has a fresh budget and
 *   its subscribe brings a fresh snapshot of every book;
 * - an arg OKX refuses on its own (60018: an instrument it does not serve) is listed under its
 *   symbol as `subscribe_refused` and subscribed again in rounds, 1 s doubling to 5 min
 *   (connection/refused-subscriptions.ts); no reconnect, the other args go on. A retry round
 *   the budget cannot pay for is skipped, not turned into a reconnect: the refusal is that
 *   symbol's alone;
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
  /** Native ids whose books wait for a resubscription round -> the earliest it may take them (Date.now() ms). */
  private readonly resync = new Map<string, number>();
  private readonly loops = new ResubscribeLoops();
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the waiting round runs (Date.now() ms). */
  private resyncAt = 0;
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
    const now = Date.now();
    for (const n of natives) if (!this.resync.has(n)) this.resync.set(n, now + this.loops.ask(n, now));
    this.scheduleRound(now);
  }

  override failures(books: readonly BookHealth[]): SymbolFailure[] {
    return [...super.failures(books), ...this.loops.failures(books, Date.now())];
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
    this.refusals.forget([...had].filter((k) => !keys.has(k)));
    const kept = new Set(this.ctx.symbols);
    const dropped = [...this.resync.keys()].filter((n) => !kept.has(n));
    for (const n of dropped) this.resync.delete(n);
    this.loops.forget(dropped);
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
    this.refusals.reopened();
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

  /**
   * Login replies and error events; false for other events (subscribe acks go on to the
   * normalizer, after ending the failure of an arg refused before).
   */
  private control(text: string): boolean {
    if (text.startsWith('{"event":"login"')) {
      if (!text.includes('"code":"0"')) return false;
      this.loggedIn = true;
      this.request(okxRequestFrames("subscribe", this.loginArgs));
      return true;
    }
    if (text.startsWith('{"event":"subscribe"')) {
      if (this.refusals.any) this.subscribed(channelKey(text), Date.now());
      return false;
    }
    const error = parseOkxError(text);
    if (error === undefined) return false;
    const key = okxRefusedArg(error.msg);
    const arg = key === undefined ? undefined : [...this.args, ...this.loginArgs].find((a) => argKey(a) === key);
    if (key !== undefined && arg !== undefined) {
      this.refused(key, this.nativeOf(arg) ?? key, `${error.code} ${error.msg}`);
      this.venueError(error.code, error.msg, OKX_SUBSCRIBE_REFUSED_NEXT);
    } else this.venueError(error.code, error.msg);
    return true;
  }

  /** The native symbol an arg serves: its instId, or the swap whose index an `index-tickers` arg names; none for a per-type arg. */
  private nativeOf(arg: OkxSubscribeArg): string | undefined {
    const id = arg.instId;
    if (id === undefined) return undefined;
    const indexOf = (s: string): string | undefined => {
      const inst = this.ctx.instruments.get(s);
      return inst === undefined ? undefined : `${inst.base}-${inst.quote}`;
    };
    return this.ctx.symbols.find((s) => s === id) ?? this.ctx.symbols.find((s) => indexOf(s) === id);
  }

  protected retrySubscribe(keys: ReadonlySet<string>): void {
    if (this.client.state !== "open") return;
    const args = [...this.args, ...(this.loggedIn ? this.loginArgs : [])].filter((a) => keys.has(argKey(a)));
    // Out of requests this hour, the round is skipped: the next one tries again.
    if (args.length > 0) this.request(okxRequestFrames("subscribe", args));
  }

  /** Sets the next resubscription round for the earliest book due, no sooner than the interval after the last round. */
  private scheduleRound(now: number): void {
    if (this.resync.size === 0) return;
    const due = Math.min(...this.resync.values());
    const at = Math.max(now, due, this.lastRoundMs + this.ctx.tuning.okx_resubscribe_interval_ms);
    if (this.resyncTimer !== undefined && this.resyncAt <= at) return;
    clearTimeout(this.resyncTimer);
    this.resyncAt = at;
    this.resyncTimer = setTimeout(() => this.resubscribeRound(), at - now);
  }

  private resubscribeRound(): void {
    this.resyncTimer = undefined;
    const now = Date.now();
    this.lastRoundMs = now;
    const due = new Set<string>();
    for (const [n, at] of this.resync) if (at <= now) due.add(n);
    for (const n of due) this.resync.delete(n);
    this.scheduleRound(now);
    const subscribed = this.loggedIn ? [...this.args, ...this.loginArgs] : this.args;
    const args = subscribed.filter((a) => a.channel.startsWith("books") && a.instId !== undefined && due.has(a.instId));
    if (args.length === 0) return;
    for (const a of args) if (a.instId !== undefined) this.loops.resubscribed(a.instId, now);
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

  private venueError(code: string, msg: string, next = okxNextAction(code)): void {
    const event = this.incidents.event(code, msg, next);
    this.ctx.onVenueError?.(event);
    if (event.first && okxErrorReconnects(code)) this.client.reconnect("reconnect");
  }
}
