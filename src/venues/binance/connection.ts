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
  private readonly shards: RollingShard[] = [];
  readonly connect_limiter: WindowLimiter;

  constructor(ctx: ConnectionContext<BinanceTuning>) {
    const venue = ctx.venue as BinanceVenue;
    const limits = BINANCE_LIMITS[venue];
    const connect = ctx.tuning.binance_connect_limit ?? { max: limits.connect_max, window_ms: limits.connect_window_ms };
    const share = Math.max(1, Math.floor(connect.max / Math.max(1, ctx.config.workers)));
    this.connect_limiter = new WindowLimiter(share, Math.ceil(connect.window_ms * CONNECT_WINDOW_MARGIN));
    const cap = Math.max(1, Math.min(limits.max_streams, ctx.tuning.binance_max_streams));
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
    return this.shards.reduce((n, s) => n + s.reconnects, 0);
  }

  /** Open sockets (two for a shard while its rollover overlaps). */
  get openConnections(): number {
    return this.shards.reduce((n, s) => n + s.open, 0);
  }

  /** SUBSCRIBE requests sent, every connection together. */
  get requests(): number {
    return this.shards.reduce((n, s) => n + s.requests, 0);
  }

  get requestsPeakPerS(): number {
    return this.shards.reduce((n, s) => Math.max(n, s.requestsPeakPerS), 0);
  }

  start(): void {
    for (const s of this.shards) s.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.stop()));
  }
}
