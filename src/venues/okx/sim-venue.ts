import type { OkxMarkets } from "./sim-rest.ts";
import type { SimEnvironment, SimVenue } from "../../replay/sim-venue.ts";
import * as synth from "./sim-synthetic.ts";
import { OkxGeneratedMarket } from "./sim-generator.ts";
import { OkxSimProtocol } from "./sim-protocol.ts";
import { OkxReplay } from "./sim-replay.ts";
import { okxRest } from "./sim-rest.ts";

/**
 * OKX in the simulator: okx_spot and okx_derivatives are one server, as they are one OKX (one
 * IP's connection limit), replaying one recording (`okx.jsonl`) to both; the `/ws/v5/public`
 * protocol and its rules (sim-protocol.ts), the REST routes (sim-rest.ts), under the built-in
 * generator the generated market in place of the replay (sim-generator.ts), and the pushes that
 * have no recording. Paths under the venue prefix: `/ws/v5/public`, `/api/v5/public/…`,
 * `/api/v5/rubik/…`.
 */
export function startOkxSim(env: SimEnvironment): SimVenue {
  const replay = new OkxReplay(env.read("okx.jsonl"), env.start_ms);
  // The generator's markets when it drives the feeds: REST and pushes read their prices, not the replay's.
  const generated = env.assets === undefined ? undefined : new OkxGeneratedMarket(env.assets);
  const markets: OkxMarkets = generated ?? replay;
  const unlisted = env.refs.listing.unlisted;
  const protocol = new OkxSimProtocol(env);
  const idle = setInterval(() => protocol.closeIdle(Date.now()), Math.min(1000, Math.max(10, protocol.idle_ms / 4)));
  return {
    feed: () => replay,
    generated: generated === undefined ? [] : [generated],
    symbols: (venue) => (venue === "okx_spot" ? markets.instruments.filter((i) => i.split("-").length === 2) : markets.instruments.filter((i) => i.endsWith("-SWAP"))),
    admit: (venue) => protocol.admit(venue),
    rest: (_venue, path, query) => generated?.rest(path, query, Date.now(), unlisted) ?? okxRest(path, query, markets, env.refs),
    push: (_venue, key, now_ms, n) => okxPush(key, markets, now_ms, n),
    isBookUpdate: (frame) => !frame.snapshot && frame.key.startsWith("books"),
    stats: () => ({}),
    stop: () => clearInterval(idle),
  };
}

/**
 * The pushes without a recording, keyed `channel:instId` (`liquidation-orders:<instType>`):
 * `funding-rate`, `open-interest`, `mark-price`, `index-tickers`, and one liquidation a tick,
 * swaps in turn. Null for any other key.
 */
function okxPush(key: string, replay: OkxMarkets, now: number, n: number): string | null {
  const colon = key.indexOf(":");
  const channel = key.slice(0, colon);
  const id = key.slice(colon + 1);
  const price = replay.prices.get(id) ?? replay.prices.get(`${id}-SWAP`) ?? 100;
  let data: object[];
  let arg: object = { channel, instId: id };
  switch (channel) {
    case "funding-rate":
      data = [synth.okxFundingRate(id, now, n)];
      break;
    case "open-interest":
      data = [synth.okxOpenInterest(id, price, now, n)];
      break;
    case "mark-price":
      data = [synth.okxMarkPrice(id, price, now, n)];
      break;
    case "index-tickers":
      data = [synth.okxIndexTicker(id, price, now, n)];
      break;
    case "liquidation-orders": {
      arg = { channel, instType: id };
      const swaps = replay.instruments.filter((i) => i.endsWith("-SWAP"));
      const inst = swaps[n % Math.max(1, swaps.length)];
      if (!inst) return null;
      data = [synth.okxLiquidation(inst, replay.prices.get(inst) ?? 100, now, n)];
      break;
    }
    default:
      return null;
  }
  return JSON.stringify({ arg, data });
}
