import { venueWorkerCount } from "../../config/venue-keys.ts";
import type { BinanceVenue } from "./channels.ts";
import { BINANCE_LIMITS, binanceRoutes, binanceStreams, type BinanceStream } from "./routes.ts";
import { RollingShard } from "./rolling-shard.ts";
import { WindowLimiter } from "../connection/window-limiter.ts";
import type { ConnectionContext, VenueConnection } from "../connection/venue-connection.ts";
import type { BinanceTuning } from "./tuning.ts";

/**
 * Binance market-stream connections (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams).
 * - Each route (spot: one; USDⓈ-M: `/public` for books, `/market` for the rest, binance/routes.ts)
 *   gets its own connections at `ws_url + route + "/stream"`; a symbol's streams of one route
 *   stay on one connection, packed up to `binance_max_streams` (venue limit 1024).
 * - Streams are subscribed with paced SUBSCRIBE requests (binance/subscriber.ts); the server
 *   pings and Bun's WebSocket client answers pings itself (test/connection covers it).
 * - Connection attempts of every connection of the venue in this worker, reconnects and
 *   rollover successors included, go through one WindowLimiter. The venue's limit is per IP
 *   while ingest workers are threads, so each worker takes an equal share of it
 *   (`floor(limit / workers)`), over a window 10 % longer than the venue's, so that the server,
 *   which sees each attempt a little later than the engine does, never counts one too many.
 * - Each connection rolls over make-before-break and has a silence timeout (binance/rolling-shard.ts).
 */

/** The engine's connect window is this much longer than the venue's (clock skew between the socket's ends). */
const CONNECT_WINDOW_MARGIN = 1.1;

export class BinanceConnection implements VenueConnection {
  private shards: RollingShard[] = [];
  readonly connect_limiter: WindowLimiter;
  /** Streams per connection: the venue's cap or the tuning's lower one. */
  private readonly cap: number;
  private started = false;
  /** Counts of shards closed because a refresh left them without streams. */
  private readonly retired = { reconnects: 0, requests: 0, peak_per_s: 0 };

  constructor(private readonly ctx: ConnectionContext<BinanceTuning>) {
    const venue = ctx.venue as BinanceVenue;
    const limits = BINANCE_LIMITS[venue];
    const connect = ctx.tuning.binance_connect_limit ?? { max: limits.connect_max, window_ms: limits.connect_window_ms };
    const share = Math.max(1, Math.floor(connect.max / Math.max(1, venueWorkerCount(ctx.config))));
    this.connect_limiter = new WindowLimiter(share, Math.ceil(connect.window_ms * CONNECT_WINDOW_MARGIN));
    const cap = Math.max(1, Math.min(limits.max_streams, ctx.tuning.binance_max_streams));
    this.cap = cap;
    const bySymbol = new Map<string, BinanceStream[]>();
    for (const s of binanceStreams(venue, ctx.symbols, ctx.config.data_types)) bySymbol.set(s.native, [...(bySymbol.get(s.native) ?? []), s]);
    for (const route of binanceRoutes(venue)) {
      const url = `${ctx.config.ws_url}${route}/stream`;
      const add = (streams: BinanceStream[]): void => {
        this.shards.push(new RollingShard(ctx, { url, streams, connect_limiter: this.connect_limiter, incoming_per_s: limits.incoming_per_s }));
      };
      let streams: BinanceStream[] = [];
      for (const native of ctx.symbols) {
        const own = (bySymbol.get(native) ?? []).filter((s) => s.route === route);
        if (own.length === 0) continue;
        if (streams.length + own.length > cap && streams.length > 0) {
          add(streams);
          streams = [];
        }
        streams.push(...own);
      }
      if (streams.length > 0) add(streams);
    }
  }

  /** Each connection (shard): its URL (shards of one route share it) and its streams. */
  get layout(): { readonly url: string; readonly streams: readonly string[] }[] {
    return this.shards.map((s) => ({ url: s.url, streams: s.names }));
  }

  get reconnects(): number {
    return this.shards.reduce((n, s) => n + s.reconnects, this.retired.reconnects);
  }

  /** Open sockets (two for a shard while its rollover overlaps). */
  get openConnections(): number {
    return this.shards.reduce((n, s) => n + s.open, 0);
  }

  /** SUBSCRIBE requests sent, every connection together. */
  get requests(): number {
    return this.shards.reduce((n, s) => n + s.requests, this.retired.requests);
  }

  get requestsPeakPerS(): number {
    return this.shards.reduce((n, s) => Math.max(n, s.requestsPeakPerS), this.retired.peak_per_s);
  }

  start(): void {
    this.started = true;
    for (const s of this.shards) s.start();
  }

  /**
   * Instrument refresh: `remove`'s streams are unsubscribed from the shards that carry them;
   * `add`'s go to the first shard of their route with room (one that `remove` emptied included,
   * so a swap reuses its connection), or to a new connection; a shard left without streams is
   * closed. Every other stream stays where it is, on its open connection.
   */
  changeSymbols(add: readonly string[], remove: readonly string[]): void {
    const venue = this.ctx.venue as BinanceVenue;
    const gone = new Set(remove);
    for (const s of this.shards) s.remove(gone);
    const streams = binanceStreams(venue, add, this.ctx.config.data_types);
    for (const route of binanceRoutes(venue)) {
      const url = `${this.ctx.config.ws_url}${route}/stream`;
      for (const native of add) {
        const own = streams.filter((s) => s.native === native && s.route === route);
        if (own.length === 0) continue;
        const shard = this.shards.find((s) => s.url === url && s.size + own.length <= this.cap);
        if (shard !== undefined) {
          shard.add(own);
          continue;
        }
        const fresh = new RollingShard(this.ctx, { url, streams: own, connect_limiter: this.connect_limiter, incoming_per_s: BINANCE_LIMITS[venue].incoming_per_s });
        this.shards.push(fresh);
        if (this.started) fresh.start();
      }
    }
    for (const s of this.shards.filter((s) => s.size === 0)) {
      this.retired.reconnects += s.reconnects;
      this.retired.requests += s.requests;
      this.retired.peak_per_s = Math.max(this.retired.peak_per_s, s.requestsPeakPerS);
      void s.stop();
    }
    this.shards = this.shards.filter((s) => s.size > 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.stop()));
  }
}
