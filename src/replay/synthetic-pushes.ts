import type { BinanceBooks, OkxMarkets } from "./live-feed.ts";
import type { SimSocket } from "./sim-connection.ts";
import * as synth from "./synthetic.ts";

/**
 * Pushes of channels that have no recording, once per synthetic tick, to the connections
 * subscribed to them: Binance `@markPrice[@1s]`, `@forceOrder`, `!forceOrder@arr`; OKX
 * `funding-rate`, `open-interest`, `mark-price`, `index-tickers`, `liquidation-orders`;
 * Deribit `deribit_volatility_index.*`. Each text is built once per key per tick.
 */

type Socket = SimSocket;

export interface SyntheticSources {
  readonly all: ReadonlySet<Socket>;
  readonly futures: Pick<BinanceBooks, "symbols" | "prices">;
  readonly okx: OkxMarkets;
  readonly send: (ws: Socket, text: string) => void;
}

export class SyntheticPushes {
  private n = 0;

  constructor(private readonly src: SyntheticSources) {}

  tick(now_ms: number): void {
    const n = this.n++;
    const texts = new Map<string, string | null>();
    for (const ws of this.src.all) {
      for (const key of ws.data.subs) {
        let text = texts.get(key);
        if (text === undefined) {
          text = this.build(ws.data.venue, key, now_ms, n);
          texts.set(key, text);
        }
        if (text !== null) this.src.send(ws, text);
      }
    }
  }

  private build(venue: string, key: string, now: number, n: number): string | null {
    if (venue === "binance_derivatives") return this.binance(key, now, n);
    if (venue.startsWith("okx")) return this.okx(key, now, n);
    if (venue === "deribit_derivatives") {
      const m = /^deribit_volatility_index\.(\w+)$/.exec(key);
      if (!m?.[1]) return null;
      return JSON.stringify({ jsonrpc: "2.0", method: "subscription", params: { channel: key, data: synth.deribitVolatility(m[1], now, n) } });
    }
    return null;
  }

  private binance(key: string, now: number, n: number): string | null {
    const envelope = (stream: string, data: string): string => `{"stream":${JSON.stringify(stream)},"data":${data}}`;
    const symbolOf = (s: string): string => s.toUpperCase();
    const price = (s: string): number => this.src.futures.prices.get(s) ?? 100;
    let m = /^([a-z0-9]+)@markprice(@1s)?$/.exec(key);
    if (m?.[1]) {
      const s = symbolOf(m[1]);
      return envelope(`${m[1]}@markPrice${m[2] ?? ""}`, synth.binanceMarkPrice(s, price(s), now, n));
    }
    m = /^([a-z0-9]+)@forceorder$/.exec(key);
    if (m?.[1]) {
      const s = symbolOf(m[1]);
      return envelope(`${m[1]}@forceOrder`, synth.binanceForceOrder(s, price(s), now, n));
    }
    if (key === "!forceorder@arr") {
      const s = this.src.futures.symbols[n % Math.max(1, this.src.futures.symbols.length)] ?? "BTCUSDT";
      return envelope("!forceOrder@arr", synth.binanceForceOrder(s, price(s), now, n));
    }
    return null;
  }

  private okx(key: string, now: number, n: number): string | null {
    const colon = key.indexOf(":");
    const channel = key.slice(0, colon);
    const id = key.slice(colon + 1);
    const price = this.src.okx.prices.get(id) ?? this.src.okx.prices.get(`${id}-SWAP`) ?? 100;
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
        const swaps = this.src.okx.instruments.filter((i) => i.endsWith("-SWAP"));
        const inst = swaps[n % Math.max(1, swaps.length)];
        if (!inst) return null;
        data = [synth.okxLiquidation(inst, this.src.okx.prices.get(inst) ?? 100, now, n)];
        break;
      }
      default:
        return null;
    }
    return JSON.stringify({ arg, data });
  }
}
