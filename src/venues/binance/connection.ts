import { binanceStreams, type BinanceVenue } from "./channels.ts";
import { ChannelWatchdog, watchStaleChannels } from "../connection/channel-watchdog.ts";
import { WsClient } from "../connection/ws-client.ts";
import { staleLimitMs, type ConnectionContext, type VenueConnection } from "../connection/venue-connection.ts";

/**
 * Binance combined streams (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams).
 * - Streams go in the URL (`/stream?streams=a/b/c`); symbols are packed into shards of at most
 *   `binance_max_streams` streams, one connection each (venue limit 1024).
 * - The server pings; Bun's WebSocket client answers pings itself (test/connection covers it).
 * - A connection lives at most 24 h: after `binance_max_lifetime_ms` a successor connects
 *   while the old one keeps delivering; per stream, the successor takes over with its first
 *   message the old one did not already deliver (duplicates are recognized by identical text),
 *   then the old one is closed. No data is lost and no gap is recorded for a rollover.
 */

const streamOf = (text: string): string => {
  // `{"stream":"btcusdt@depth@100ms","data":…}`: the name sits at a fixed offset.
  const end = text.indexOf('"', 11);
  return text.startsWith('{"stream":"') && end > 0 ? text.slice(11, end) : "";
};

class RollingShard {
  reconnects = 0;
  private current: WsClient;
  private old: WsClient | undefined;
  private readonly switched = new Set<string>();
  private readonly recent = new Set<string>();
  private lifeTimer: ReturnType<typeof setTimeout> | undefined;
  private overlapTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly watchdog: ChannelWatchdog;
  private watchTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  readonly url: string;

  constructor(private readonly ctx: ConnectionContext, readonly symbols: readonly string[], readonly streams: readonly string[]) {
    this.url = `${ctx.config.ws_url}/stream?streams=${streams.join("/")}`;
    this.watchdog = new ChannelWatchdog((c) => staleLimitMs(c, ctx.tuning.stale_factor));
    this.current = this.client();
  }

  start(): void {
    this.current.start();
    this.armLifetime();
    const now = Date.now();
    for (const s of this.streams) this.watchdog.arm(s.toLowerCase(), now);
    this.watchTimer = watchStaleChannels(this.watchdog, this.ctx.onStale, () => this.current.reconnect("stale"));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.lifeTimer);
    clearTimeout(this.overlapTimer);
    clearInterval(this.watchTimer);
    await Promise.all([this.current.stop(), this.old?.stop()]);
  }

  private client(): WsClient {
    const client: WsClient = new WsClient({
      url: () => this.url,
      backoff: this.ctx.tuning.backoff,
      onOpen: () => {},
      onMessage: (text, recv) => this.message(client, text, recv),
      onGap: (gap) => this.ctx.onGap(gap, this.symbols),
      onDisconnect: (recv) => this.ctx.onDisconnect(recv),
    });
    return client;
  }

  private message(from: WsClient, text: string, recv: number): void {
    const stream = streamOf(text);
    this.watchdog.seen(stream.toLowerCase(), recv);
    if (this.old !== undefined) {
      if (from === this.old) {
        if (this.switched.has(stream)) return;
        this.recent.add(text);
      } else if (!this.switched.has(stream)) {
        if (this.recent.has(text)) return;
        this.switched.add(stream);
        if (this.switched.size >= this.streams.length) this.finishRollover();
      }
    }
    this.ctx.onFrame(text, recv, this.url);
  }

  private armLifetime(): void {
    this.lifeTimer = setTimeout(() => this.rollover(), this.ctx.tuning.binance_max_lifetime_ms);
  }

  private rollover(): void {
    if (this.stopped) return;
    if (this.old) this.finishRollover();
    this.reconnects += this.current.reconnects;
    this.old = this.current;
    this.current = this.client();
    this.current.start();
    this.overlapTimer = setTimeout(() => this.finishRollover(), this.ctx.tuning.binance_overlap_ms);
    this.armLifetime();
  }

  private finishRollover(): void {
    clearTimeout(this.overlapTimer);
    const old = this.old;
    this.old = undefined;
    this.switched.clear();
    this.recent.clear();
    void old?.stop();
  }

  get totalReconnects(): number {
    return this.reconnects + this.current.reconnects;
  }
}

export class BinanceConnection implements VenueConnection {
  private readonly shards: RollingShard[] = [];

  constructor(ctx: ConnectionContext) {
    const venue = ctx.venue as BinanceVenue;
    const limit = Math.max(1, ctx.tuning.binance_max_streams);
    let symbols: string[] = [];
    let streams: string[] = [];
    for (const native of ctx.symbols) {
      const own = binanceStreams(venue, [native], ctx.config.data_types);
      if (own.length === 0) continue;
      if (streams.length + own.length > limit && streams.length > 0) {
        this.shards.push(new RollingShard(ctx, symbols, streams));
        symbols = [];
        streams = [];
      }
      symbols.push(native);
      streams.push(...own);
    }
    if (streams.length > 0) this.shards.push(new RollingShard(ctx, symbols, streams));
  }

  /** One URL per connection (shard). */
  get urls(): string[] {
    return this.shards.map((s) => s.url);
  }

  get reconnects(): number {
    return this.shards.reduce((n, s) => n + s.totalReconnects, 0);
  }

  start(): void {
    for (const s of this.shards) s.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.stop()));
  }
}
