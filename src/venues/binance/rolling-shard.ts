import type { DataType } from "../../records/types.ts";
import { ChannelWatchdog, watchStaleChannels } from "../connection/channel-watchdog.ts";
import type { ConnectionContext, ConnectionIncident } from "../connection/venue-connection.ts";
import type { WindowLimiter } from "../connection/window-limiter.ts";
import { WsClient } from "../connection/ws-client.ts";
import { binanceStaleLimitMs } from "./channels.ts";
import type { BinanceStream } from "./routes.ts";
import type { BinanceTuning } from "./tuning.ts";
import { BinanceSubscriber, parseControl } from "./subscriber.ts";

/**
 * One Binance connection (a shard of one route's streams) that rolls over make-before-break
 * (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams: a connection
 * lives 24 h, and a `serverShutdown` event comes before a planned disconnect).
 * - On `serverShutdown`, or after `binance_max_lifetime_ms` of its own, a successor connects and
 *   subscribes while the old one keeps delivering. Once the successor is subscribed (every
 *   SUBSCRIBE answered), each stream switches to it with its first message the old one did not
 *   already deliver (a copy is recognized by identical text); when all have switched, or
 *   `binance_overlap_ms` after the successor is up, the old one is closed. No data is lost and no
 *   gap is recorded. Only when the server closes the old connection before the successor is
 *   subscribed is there a hole, recorded as a `reconnect` gap.
 * - Silence: a connection that delivers nothing for `binance_silence_ms` is reconnected and the
 *   hole recorded as a `stale` gap; mark-price streams also have their own cadence watchdog.
 * - A 1008 close ("Too many requests"), a shutdown notice and a silence are each reported once as
 *   an incident; reconnects go through the backoff and the venue's shared connect limiter.
 */

// `{"stream":"btcusdt@depth@100ms","data":…}`: the name sits at a fixed offset.
const streamOf = (text: string): string => {
  if (!text.startsWith('{"stream":"')) return "";
  const end = text.indexOf('"', 11);
  return end > 0 ? text.slice(11, end) : "";
};

interface Socket {
  readonly client: WsClient;
  readonly subscriber: BinanceSubscriber;
}

export interface ShardOptions {
  /** `ws_url + route + "/stream"`. */
  readonly url: string;
  readonly streams: readonly BinanceStream[];
  /** Shared by every connection of the venue in this worker. */
  readonly connect_limiter: WindowLimiter;
  /** The venue's incoming-message limit per connection, per second. */
  readonly incoming_per_s: number;
}

export class RollingShard {
  readonly url: string;
  /** This shard's streams now: those it started with, changed by `add` and `remove`. */
  private readonly streams: BinanceStream[];
  /** Native symbols of `streams` (the symbols a gap on this shard covers). */
  symbols: string[];
  readonly data_types: DataType[];
  /** Stream names in subscription order. */
  names: string[];
  private current: Socket;
  private old: Socket | undefined;
  /** While set, the successor's messages are checked against what the old connection delivered. */
  private draining = false;
  private readonly switched = new Set<string>();
  private readonly recent = new Set<string>();
  /** Last message time of an old connection the server closed before its successor was up. */
  private holeSince = 0;
  private retiredReconnects = 0;
  private retiredRequests = 0;
  private retiredPeak = 0;
  private lifeTimer: ReturnType<typeof setTimeout> | undefined;
  private overlapTimer: ReturnType<typeof setTimeout> | undefined;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  private watchTimer: ReturnType<typeof setInterval> | undefined;
  private readonly watchdog: ChannelWatchdog;
  private stopped = false;

  constructor(
    private readonly ctx: ConnectionContext<BinanceTuning>,
    private readonly options: ShardOptions,
  ) {
    this.url = options.url;
    this.streams = [...options.streams];
    this.names = [...new Set(options.streams.map((s) => s.stream))];
    this.symbols = [...new Set(options.streams.map((s) => s.native))];
    this.data_types = [...new Set(options.streams.map((s) => s.data_type))];
    this.watchdog = new ChannelWatchdog((c) => binanceStaleLimitMs(c) * ctx.tuning.stale_factor);
    this.current = this.socket();
  }

  get reconnects(): number {
    return this.retiredReconnects + this.current.client.reconnects + (this.old?.client.reconnects ?? 0);
  }

  /** SUBSCRIBE requests sent on every connection of this shard. */
  get requests(): number {
    return this.retiredRequests + this.current.subscriber.requests + (this.old?.subscriber.requests ?? 0);
  }

  /** The most SUBSCRIBE requests one connection of this shard sent within one second. */
  get requestsPeakPerS(): number {
    return Math.max(this.retiredPeak, this.current.subscriber.peak_per_s, this.old?.subscriber.peak_per_s ?? 0);
  }

  /** Open sockets: two while a rollover overlaps. */
  get open(): number {
    return (this.current.client.state === "open" ? 1 : 0) + (this.old?.client.state === "open" ? 1 : 0);
  }

  /** Streams on this shard (its share of the venue's per-connection cap). */
  get size(): number {
    return this.streams.length;
  }

  /**
   * Subscribes `streams` on this shard's sockets as they are (SUBSCRIBE within the subscriber's
   * pace); later connections subscribe them from the start (instrument refresh).
   */
  add(streams: readonly BinanceStream[]): void {
    const fresh = streams.filter((s) => !this.names.includes(s.stream));
    if (fresh.length === 0) return;
    this.streams.push(...fresh);
    const names = [...new Set(fresh.map((s) => s.stream))];
    this.names.push(...names);
    for (const s of fresh) {
      if (!this.symbols.includes(s.native)) this.symbols.push(s.native);
      if (!this.data_types.includes(s.data_type)) this.data_types.push(s.data_type);
    }
    for (const sock of [this.current, this.old]) sock?.subscriber.add(names);
    const now = Date.now();
    for (const n of names) this.watchdog.arm(n.toLowerCase(), now);
  }

  /** Unsubscribes every stream of `natives` on this shard's sockets (instrument refresh). */
  remove(natives: ReadonlySet<string>): void {
    const gone = this.streams.filter((s) => natives.has(s.native));
    if (gone.length === 0) return;
    this.streams.splice(0, this.streams.length, ...this.streams.filter((s) => !natives.has(s.native)));
    const names = [...new Set(gone.map((s) => s.stream))];
    this.names = this.names.filter((n) => !names.includes(n));
    this.symbols = this.symbols.filter((n) => !natives.has(n));
    for (const sock of [this.current, this.old]) sock?.subscriber.remove(names);
    for (const n of names) {
      this.watchdog.forget(n.toLowerCase());
      this.switched.delete(n);
    }
  }

  start(): void {
    this.current.client.start();
    this.armLifetime();
    const now = Date.now();
    for (const s of this.names) this.watchdog.arm(s.toLowerCase(), now);
    this.watchTimer = watchStaleChannels(this.watchdog, this.ctx.onStale, () => this.current.client.reconnect("stale"));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.lifeTimer);
    clearTimeout(this.overlapTimer);
    clearTimeout(this.drainTimer);
    clearInterval(this.watchTimer);
    for (const s of [this.current, this.old]) s?.subscriber.stop();
    await Promise.all([this.current.client.stop(), this.old?.client.stop()]);
  }

  private socket(): Socket {
    const t = this.ctx.tuning;
    const client: WsClient = new WsClient({
      url: () => this.url,
      backoff: t.backoff,
      silence_ms: t.binance_silence_ms,
      connect_limiter: this.options.connect_limiter,
      onOpen: () => sock.subscriber.start(),
      onMessage: (text, recv) => this.message(sock, text, recv),
      onGap: (gap) => this.ctx.onGap(gap, this.symbols, this.data_types),
      onDisconnect: (recv, code, reason) => this.disconnected(sock, recv, code, reason),
      onSilence: (silent_ms) =>
        this.incident("silent", `nothing received for ${silent_ms} ms`, "reconnects now and records a stale gap for the hole"),
    });
    const subscriber = new BinanceSubscriber(this.names, this.options.incoming_per_s, (text) => client.send(text), () => this.subscribed(sock));
    const sock: Socket = { client, subscriber };
    return sock;
  }

  private message(from: Socket, text: string, recv: number): void {
    const stream = streamOf(text);
    if (stream === "") {
      this.control(from, text);
      return;
    }
    if (from === this.old) {
      if (this.switched.has(stream)) return;
      this.recent.add(text);
    } else if (from !== this.current) {
      return;
    } else {
      if (this.holeSince > 0) {
        const start_ts_ms = this.holeSince;
        this.holeSince = 0;
        this.ctx.onGap({ start_ts_ms, end_ts_ms: recv, cause: "reconnect" }, this.symbols, this.data_types);
      }
      if (this.draining && !this.switched.has(stream)) {
        if (this.recent.has(text)) return;
        this.switched.add(stream);
        if (this.switched.size >= this.names.length) {
          this.retireOld();
          this.endDrain();
        }
      }
    }
    this.watchdog.seen(stream.toLowerCase(), recv);
    this.ctx.onFrame(text, recv, this.url);
  }

  private control(from: Socket, text: string): void {
    const c = parseControl(text);
    if (c.kind === "reply") {
      if (c.error !== undefined) this.incident("refused", `SUBSCRIBE ${c.id} answered ${c.error}`, "leaves those streams unsubscribed on this connection");
      from.subscriber.reply(c.id);
    } else if (c.kind === "shutdown" && from === this.current) {
      this.incident("server_shutdown", "serverShutdown received", "opens and subscribes a successor, then closes this connection");
      this.rollover();
    }
  }

  private disconnected(from: Socket, recv: number, code: number, reason: string): void {
    from.subscriber.stop();
    if (code === 1008) {
      from.subscriber.slowDown();
      this.incident(
        "rate_limited",
        `closed 1008 ${reason}`,
        `reconnects after backoff within the connection-attempt limit, subscribing at ${from.subscriber.rate_per_s} requests/s`,
      );
    }
    if (from === this.old) {
      // The server retired the old connection before its successor took every stream over.
      if (!this.current.subscriber.subscribed) {
        this.holeSince = from.client.last_message_ms || recv;
        this.ctx.onDisconnect(recv, this.data_types);
      }
      this.retireOld();
    } else if (from === this.current) {
      this.ctx.onDisconnect(recv, this.data_types);
    }
  }

  private subscribed(sock: Socket): void {
    if (sock !== this.current || this.old === undefined) return;
    clearTimeout(this.overlapTimer);
    this.overlapTimer = setTimeout(() => this.retireOld(), this.ctx.tuning.binance_overlap_ms);
  }

  private armLifetime(): void {
    clearTimeout(this.lifeTimer);
    this.lifeTimer = setTimeout(() => this.rollover(), this.ctx.tuning.binance_max_lifetime_ms);
  }

  private rollover(): void {
    if (this.stopped) return;
    if (this.old) {
      this.retireOld();
      this.endDrain();
    }
    this.old = this.current;
    this.current = this.socket();
    this.draining = true;
    this.current.client.start();
    this.armLifetime();
  }

  /** Closes the old connection; the successor's copies of what it delivered are still dropped for one more overlap. */
  private retireOld(): void {
    clearTimeout(this.overlapTimer);
    const old = this.old;
    if (old === undefined) return;
    this.old = undefined;
    this.retiredReconnects += old.client.reconnects;
    this.retiredRequests += old.subscriber.requests;
    this.retiredPeak = Math.max(this.retiredPeak, old.subscriber.peak_per_s);
    old.subscriber.stop();
    void old.client.stop();
    if (this.draining) {
      clearTimeout(this.drainTimer);
      this.drainTimer = setTimeout(() => this.endDrain(), this.ctx.tuning.binance_overlap_ms);
    }
  }

  private endDrain(): void {
    clearTimeout(this.drainTimer);
    this.draining = false;
    this.switched.clear();
    this.recent.clear();
  }

  private incident(kind: ConnectionIncident["kind"], detail: string, next: string): void {
    this.ctx.onIncident?.({ kind, url: this.url, detail, next });
  }
}
