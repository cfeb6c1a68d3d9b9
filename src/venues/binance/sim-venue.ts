import type { VenueKey } from "../../config/schema.ts";
import type { BinanceBooks } from "./sim-rest.ts";
import type { SimEnvironment, SimVenue } from "../../replay/sim-venue.ts";
import * as synth from "./sim-synthetic.ts";
import type { BinanceVenue } from "./channels.ts";
import { BinanceGeneratedMarket } from "./sim-generator.ts";
import { BinanceSimProtocol } from "./sim-protocol.ts";
import { BinanceReplay } from "./sim-replay.ts";
import { binanceRest } from "./sim-rest.ts";

/**
 * Binance spot and USDⓈ-M in the simulator: one replay per venue (`binance_spot.jsonl`,
 * `binance_derivatives.jsonl`) with the server-side books its depth snapshots come from, the
 * market-stream protocol and its rules (sim-protocol.ts), the REST routes (sim-rest.ts), under
 * the built-in generator the generated markets in place of the replays (sim-generator.ts), server
 * pings every 20 s (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams;
 * USDⓈ-M pings less often, so 20 s is the stricter test of pongs), and the USDⓈ-M pushes that
 * have no recording. Paths under the venue prefix:
 *   binance_spot         /ws, /stream                    /api/v3/{depth,exchangeInfo}
 *   binance_derivatives  /{public,market}/{ws,stream}    /fapi/v1/…, /futures/data/…
 */

const PING_INTERVAL_MS = 20_000;

export function startBinanceSim(env: SimEnvironment): SimVenue {
  const spot = new BinanceReplay(env.read("binance_spot.jsonl"), false, env.start_ms);
  const futures = new BinanceReplay(env.read("binance_derivatives.jsonl"), true, env.start_ms);
  const replays: Record<BinanceVenue, BinanceReplay> = { binance_spot: spot, binance_derivatives: futures };
  const replay = (venue: VenueKey): BinanceReplay => replays[binanceVenue(venue)];
  // The generator's markets when it drives the feeds: REST and pushes read their books, not the replay's.
  const assets = env.assets;
  const generated: Record<BinanceVenue, BinanceGeneratedMarket> | undefined =
    assets === undefined ? undefined : { binance_spot: new BinanceGeneratedMarket(assets, false), binance_derivatives: new BinanceGeneratedMarket(assets, true) };
  const books = (venue: VenueKey): BinanceBooks => generated?.[binanceVenue(venue)] ?? replay(venue);
  const unlisted = env.refs.listing.unlisted;
  const protocol = new BinanceSimProtocol(env);
  const pingEvery = env.options.ping_interval_ms ?? PING_INTERVAL_MS;
  const pings =
    pingEvery > 0
      ? setInterval(() => {
          for (const ws of protocol.sockets) if (!env.silenced(ws.data.venue)) ws.ping();
        }, pingEvery)
      : undefined;
  return {
    feed: replay,
    generated: generated === undefined ? [] : [generated.binance_spot, generated.binance_derivatives],
    symbols: (venue) => [...books(venue).symbols],
    admit: (venue, path, query) => protocol.upgrade(binanceVenue(venue), path, query),
    rest: (venue, path, query) =>
      generated?.[binanceVenue(venue)].rest(path, query, Date.now(), unlisted) ?? binanceRest(path, query, books(venue), venue === "binance_derivatives", env.refs),
    push: (venue, key, now_ms, n) => (venue === "binance_derivatives" ? futuresPush(key, books(venue), now_ms, n) : null),
    isBookUpdate: (frame) => !frame.snapshot && frame.key.includes("@depth"),
    stats: () => ({ peak_incoming_per_s: { ...protocol.peak_incoming_per_s } }),
    stop: () => clearInterval(pings),
  };
}

function binanceVenue(venue: VenueKey): BinanceVenue {
  if (venue === "binance_spot" || venue === "binance_derivatives") return venue;
  throw new Error(`simulator: ${venue} is not a Binance venue`);
}

/**
 * The USDⓈ-M pushes without a recording, in the combined-stream envelope: `<s>@markPrice[@1s]`,
 * `<s>@forceOrder` and `!forceOrder@arr` (one liquidation a tick, symbols in turn). Null for
 * any other key.
 */
function futuresPush(key: string, replay: Pick<BinanceBooks, "symbols" | "prices">, now: number, n: number): string | null {
  const envelope = (stream: string, data: string): string => `{"stream":${JSON.stringify(stream)},"data":${data}}`;
  const price = (s: string): number => replay.prices.get(s) ?? 100;
  let m = /^([a-z0-9]+)@markprice(@1s)?$/.exec(key);
  if (m?.[1]) {
    const s = m[1].toUpperCase();
    return envelope(`${m[1]}@markPrice${m[2] ?? ""}`, synth.binanceMarkPrice(s, price(s), now, n));
  }
  m = /^([a-z0-9]+)@forceorder$/.exec(key);
  if (m?.[1]) {
    const s = m[1].toUpperCase();
    return envelope(`${m[1]}@forceOrder`, synth.binanceForceOrder(s, price(s), now, n));
  }
  if (key === "!forceorder@arr") {
    const s = replay.symbols[n % Math.max(1, replay.symbols.length)] ?? "BTCUSDT";
    return envelope("!forceOrder@arr", synth.binanceForceOrder(s, price(s), now, n));
  }
  return null;
}
