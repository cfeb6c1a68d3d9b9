import type { SimEnvironment, SimVenue } from "../../replay/sim-venue.ts";
import * as synth from "./sim-synthetic.ts";
import { DeribitGeneratedFeed, DVOL_CURRENCIES } from "./sim-generator.ts";
import { DeribitSimProtocol } from "./sim-protocol.ts";
import { DeribitReplay } from "./sim-replay.ts";
import { deribitRest } from "./sim-rest.ts";

/**
 * Deribit in the simulator: the recorded notifications (`deribit.jsonl`), the JSON-RPC protocol
 * and its connection cap (sim-protocol.ts), the public methods over REST (sim-rest.ts), and the
 * DVOL pushes (`deribit_volatility_index.<index>`), which have no recording (under the built-in
 * generator at the live rate, its feed pushes them: sim-generator.ts). Paths under the
 * venue prefix: `/ws/api/v2`, `/api/v2/public/…`.
 */

export function startDeribitSim(env: SimEnvironment): SimVenue {
  const replay = new DeribitReplay(env.read("deribit.jsonl"), env.start_ms);
  const protocol = new DeribitSimProtocol(env);
  return {
    feed: () => replay,
    generated: env.assets === undefined ? [] : [new DeribitGeneratedFeed()],
    symbols: () => [...DVOL_CURRENCIES],
    admit: (venue) => protocol.admit(venue),
    rest: (_venue, path, query) => deribitRest(path, query, env.refs),
    push(_venue, key, now_ms, n) {
      const m = /^deribit_volatility_index\.(\w+)$/.exec(key);
      if (!m?.[1]) return null;
      return JSON.stringify({ jsonrpc: "2.0", method: "subscription", params: { channel: key, data: synth.deribitVolatility(m[1], now_ms, n) } });
    },
    isBookUpdate: () => false,
    stats: () => ({}),
    stop: () => undefined,
  };
}
