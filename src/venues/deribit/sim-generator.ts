import { GENERATED_T0_MS } from "../../replay/generated-book.ts";
import type { FrameSink, GeneratedFeed, LiveStream } from "../../replay/live-feed.ts";
import type { RecordedLine } from "../../replay/recording.ts";
import type { SimGenerator } from "../../replay/sim-venue.ts";
import { deribitVolatilityAt } from "./sim-synthetic.ts";

/**
 * Generated Deribit data for the simulator. Spectra takes only the DVOL volatility indices from
 * Deribit, and Deribit publishes DVOL for BTC and ETH, so whatever the asset count these two
 * currencies are listed: `public/get_instruments` answers with each one's perpetual
 * (https://docs.deribit.com/#public-get_instruments), and the index values themselves are the
 * simulator's documented-shape `deribit_volatility_index` pushes and
 * `public/get_volatility_index_data` candles (sim-synthetic.ts). The WebSocket recording
 * is empty: nothing else on Deribit is collected. At the live rate the generated feed pushes
 * each index once a second, as Deribit does
 * (https://docs.deribit.com/subscriptions/market-data/deribit_volatility_indexindex_name).
 */

/** The currencies the engine asks DVOL of and the simulator lists, recorded or generated. */
export const DVOL_CURRENCIES = ["BTC", "ETH"] as const;

function instrumentsBody(currency: string): RecordedLine {
  const perpetual = {
    tick_size: 0.5, taker_commission: 0.0005, settlement_period: "perpetual", settlement_currency: currency, rfq: false,
    quote_currency: "USD", price_index: `${currency.toLowerCase()}_usd`, min_trade_amount: 10, maker_commission: 0,
    kind: "future", is_active: true, instrument_name: `${currency}-PERPETUAL`, instrument_id: currency === "BTC" ? 124972 : 124807,
    expiration_timestamp: 32503708800000, creation_timestamp: 1534242287000, counter_currency: "USD", contract_size: 10,
    block_trade_commission: 0.00025, base_currency: currency, instrument_type: "reversed", future_type: "reversed",
  };
  const us = GENERATED_T0_MS * 1000;
  return {
    source: "http",
    url: `https://www.deribit.com/api/v2/public/get_instruments?currency=${currency}&expired=false`,
    recv_ts: GENERATED_T0_MS / 1000,
    raw: JSON.stringify({ jsonrpc: "2.0", result: [perpetual], usIn: us, usOut: us + 120, usDiff: 120, testnet: false }),
  };
}

/** The DVOL pushes at the live rate: nothing steps, each index is pushed every second. */
export class DeribitGeneratedFeed implements GeneratedFeed {
  readonly venues = ["deribit_derivatives"] as const;
  readonly size = 0;
  readonly phases = new Float64Array(0);
  readonly passed = new Float64Array(0);
  private readonly streams: readonly (LiveStream & { readonly currency: string })[] = DVOL_CURRENCIES.map((currency) => {
    const key = `deribit_volatility_index.${currency.toLowerCase()}_usd`;
    return { key, symbol: key, snapshot: false, currency };
  });

  step(): void {}

  second(second_ms: number, sink: FrameSink): void {
    for (const s of this.streams) {
      if (!sink.wants(s)) continue;
      // The value `public/get_volatility_index_data` gives for this second (sim-synthetic.ts).
      const data = { volatility: deribitVolatilityAt(s.currency, second_ms), timestamp: second_ms, index_name: s.key.slice("deribit_volatility_index.".length) };
      sink.emit(s, JSON.stringify({ jsonrpc: "2.0", method: "subscription", params: { channel: s.key, data } }), 0);
    }
  }
}

/** Deribit's part of the built-in generator: the fixture files its recording and reference bodies would be, whatever the assets (see above). */
export const deribitGenerator: SimGenerator = {
  files: () =>
    new Map([
      ["deribit.jsonl", () => []],
      ["reference/deribit_instruments.jsonl", () => DVOL_CURRENCIES.map(instrumentsBody)],
    ]),
};
