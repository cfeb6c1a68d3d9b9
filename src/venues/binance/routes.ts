import type { DataType } from "../../records/types.ts";
import type { BinanceVenue } from "./channels.ts";

/**
 * Where each Binance stream is served and what a connection may carry: the rules the engine
 * follows and the simulator enforces (src/venues/binance/sim-protocol.ts).
 * Spot:    https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * USDⓈ-M:  https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 * Routes:  https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Important-WebSocket-Change-Notice
 *          (announcement https://www.binance.com/en/support/announcement/detail/ebf9b0aa9eca4ff3804eef6fb09ba32a)
 *
 * Since 2026-04-23 USDⓈ-M serves market streams only under routed paths: `/public` carries the
 * high-frequency book streams (`depth`, `bookTicker`), `/market` everything else (`aggTrade`,
 * `markPrice`, `forceOrder`, `kline`, `ticker`, …); the legacy `/ws` and `/stream` deliver
 * nothing for them (ccxt PR #28091 and cryptofeed PR #1101 route the same way). Spot has no
 * routes. A venue's `ws_url` is its root (`wss://fstream.binance.com`); a connection's URL is
 * `ws_url + route + "/stream"` (combined streams, subscribed with SUBSCRIBE requests).
 */

export type BinanceRoute = "" | "/public" | "/market";

export interface BinanceLimits {
  /** Incoming messages (SUBSCRIBE/UNSUBSCRIBE/LIST requests, pings, pongs) per connection per second. */
  readonly incoming_per_s: number;
  /** Streams one connection may carry. */
  readonly max_streams: number;
  /** Connection attempts per IP in `window_ms`. */
  readonly connect_max: number;
  readonly connect_window_ms: number;
  /** A connection is closed after this long, ms. */
  readonly lifetime_ms: number;
}

/**
 * Spot: 5 messages/s, 1024 streams, 300 connection attempts per 5 min per IP, 24 h. USDⓈ-M: 10
 * messages/s, 1024 streams, 24 h; its page states no connection-attempt limit, so spot's 300 per
 * 5 min is applied to it as well (the ban for repeated disconnects is the same IP's).
 */
export const BINANCE_LIMITS: Record<BinanceVenue, BinanceLimits> = {
  binance_spot: { incoming_per_s: 5, max_streams: 1024, connect_max: 300, connect_window_ms: 300_000, lifetime_ms: 86_400_000 },
  binance_derivatives: { incoming_per_s: 10, max_streams: 1024, connect_max: 300, connect_window_ms: 300_000, lifetime_ms: 86_400_000 },
};

/** The route a USDⓈ-M stream is served on (`stream` lower-case); spot streams have none. */
export function binanceRoute(venue: BinanceVenue, stream: string): BinanceRoute {
  if (venue === "binance_spot") return "";
  const at = stream.indexOf("@");
  const kind = at < 0 ? stream : stream.slice(at + 1);
  return kind.startsWith("depth") || kind.startsWith("rpidepth") || kind === "bookticker" || stream === "!bookticker" ? "/public" : "/market";
}

/** The routes a venue's streams are served on. */
export function binanceRoutes(venue: BinanceVenue): readonly BinanceRoute[] {
  return venue === "binance_spot" ? [""] : ["/public", "/market"];
}

/** One stream the engine subscribes: its name, its route and the record type it feeds. */
export interface BinanceStream {
  readonly native: string;
  readonly stream: string;
  readonly route: BinanceRoute;
  readonly data_type: DataType;
}

/**
 * The streams of `symbols` for `data_types`. USDⓈ-M open interest is polled over REST, but its
 * quote value needs the mark price, so `open_interest` also subscribes `@markPrice@1s` (which
 * feeds `funding_rate` records).
 */
export function binanceStreams(venue: BinanceVenue, symbols: readonly string[], data_types: readonly DataType[]): BinanceStream[] {
  const futures = venue === "binance_derivatives";
  const wants = (t: DataType): boolean => data_types.includes(t);
  const out: BinanceStream[] = [];
  const add = (native: string, stream: string, data_type: DataType): void => {
    out.push({ native, stream, route: binanceRoute(venue, stream.toLowerCase()), data_type });
  };
  for (const native of symbols) {
    const s = native.toLowerCase();
    if (wants("orderbook")) add(native, `${s}@depth@100ms`, "orderbook");
    if (wants("trade")) add(native, futures ? `${s}@aggTrade` : `${s}@trade`, "trade");
    if (!futures) continue;
    if (wants("funding_rate") || wants("open_interest")) add(native, `${s}@markPrice@1s`, "funding_rate");
    if (wants("liquidation")) add(native, `${s}@forceOrder`, "liquidation");
  }
  return out;
}
