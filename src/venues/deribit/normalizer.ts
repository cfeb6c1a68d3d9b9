import type { Exchange, MarketRecord } from "../../records/types.ts";
import { numberText } from "../decimal-text.ts";
import { countError, countUnrecognized, countingEmit, emptyStats, isDecimal, isObject, isUint, parseJson, queryParam, urlPath } from "../normalizer-stats.ts";
import { SymbolScope } from "../symbol-scope.ts";
import { NO_REQUESTS, type BookHealth, type BookVerdict, type Instrument, type Normalizer, type NormalizerOptions, type RawFrame } from "../types.ts";

/**
 * Deribit JSON-RPC frames -> volatility_index records (the only Deribit data type in SPEC
 * section 1). Option books, tickers and trades in the same stream are counted as ignored.
 * https://docs.deribit.com/subscriptions/market-data/deribit_volatility_indexindex_name
 * https://docs.deribit.com/api-reference/market-data/public-get_volatility_index_data
 *
 * Deribit sends JSON numbers; they become decimal text through `numberText` (never exponent
 * form), so a volatility of 0.0000001 is stored as "0.0000001", not "1e-7".
 */

const EXCHANGE: Exchange = "deribit";
const VOL_PREFIX = "deribit_volatility_index.";
/** Subscription channels that are recognized but carry no record here (by name prefix). */
const IGNORED_PREFIXES = ["book.", "ticker.", "trades.", "deribit_price_index.", "incremental_ticker.", "quote.", "chart."];

const SUBSCRIPTION_PREFIX = '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"';

/**
 * Whether a subscription push is on an ignored channel, told from its prefix so it costs no
 * JSON.parse. Option books and tickers are every WS frame of the Deribit recording, so there
 * the normalizer went from 0.87 to 17 × the bare JSON.parse loop (bench/normalize.bench.ts,
 * medians of 7 interleaved runs): that bench row now measures this classification only.
 * A frame cut short (no closing `}}`) still goes through the parser, so it stays an error.
 */
function ignoredSubscription(raw: string): boolean {
  if (!raw.startsWith(SUBSCRIPTION_PREFIX) || !raw.endsWith("}}")) return false;
  for (const p of IGNORED_PREFIXES) if (raw.startsWith(p, SUBSCRIPTION_PREFIX.length)) return true;
  return false;
}

export class DeribitNormalizer implements Normalizer {
  readonly stats = emptyStats();
  private readonly emit: (r: MarketRecord) => void;
  private readonly scope: SymbolScope;
  private readonly wanted: boolean;

  constructor(options: NormalizerOptions) {
    this.scope = new SymbolScope(options, "options");
    this.emit = countingEmit(this.stats, options.emit);
    this.wanted = options.data_types.includes("volatility_index");
  }

  push(frame: RawFrame): void {
    this.stats.frames++;
    if (frame.source !== "http" && ignoredSubscription(frame.raw)) {
      this.stats.ignored++;
      return;
    }
    const msg = parseJson(frame.raw);
    if (msg === undefined) return countError(this.stats, "json");
    if (!isObject(msg)) return countUnrecognized(this.stats, "unknown");
    if (frame.source === "http") return this.history(frame, msg);
    if (msg.method === "subscription") {
      const params = msg.params;
      if (!isObject(params) || typeof params.channel !== "string") return countError(this.stats, "subscription");
      const channel = params.channel;
      if (channel.startsWith(VOL_PREFIX)) return this.volatility(params.data, frame.recv_ts_ms);
      if (IGNORED_PREFIXES.some((p) => channel.startsWith(p))) {
        this.stats.ignored++;
        return;
      }
      return countUnrecognized(this.stats, channel.split(".")[0] ?? "unknown");
    }
    // JSON-RPC replies (subscribe results, test/heartbeat answers) and heartbeat notifications.
    if ("result" in msg || msg.method === "heartbeat") {
      this.stats.ignored++;
      return;
    }
    if ("error" in msg) return countError(this.stats, "rpc_error");
    countUnrecognized(this.stats, "unknown");
  }

  takeSnapshotRequests(): readonly string[] {
    return NO_REQUESTS;
  }

  takeResubscribeRequests(): readonly string[] {
    return NO_REQUESTS;
  }

  setSymbols(symbols: readonly string[]): void {
    this.scope.setSymbols(symbols);
  }

  connectionLost(_recv_ts_ms: number): void {
    // No local state survives a connection here: indices are stateless pushes.
  }

  resyncBooks(): void {
    // No books.
  }

  bookHealth(): BookHealth[] {
    return [];
  }

  verifyBooks(): BookVerdict[] {
    return [];
  }

  /** `index_name` `btc_usd` -> currency `BTC`, which must be a currency in the metadata. */
  private currency(indexName: string): Instrument | undefined {
    const cut = indexName.indexOf("_");
    return this.scope.get((cut < 0 ? indexName : indexName.slice(0, cut)).toUpperCase());
  }

  /** `{"volatility":129.36,"timestamp":1619777946007,"index_name":"btc_usd"}`. */
  private volatility(d: unknown, recv: number): void {
    if (!isObject(d) || typeof d.index_name !== "string" || typeof d.volatility !== "number" || !isUint(d.timestamp))
      return countError(this.stats, "deribit_volatility_index");
    const value = numberText(d.volatility);
    if (value === undefined || d.volatility < 0 || !isDecimal(value)) return countError(this.stats, "deribit_volatility_index");
    const inst = this.wanted ? this.currency(d.index_name) : undefined;
    if (inst === undefined) {
      this.stats.ignored++;
      return;
    }
    this.emit(this.record(inst, d.timestamp, recv, value));
  }

  /** `get_volatility_index_data` rows `[ts, open, high, low, close]`: one record per candle, at its close. */
  private history(frame: RawFrame, msg: Record<string, unknown>): void {
    if (!urlPath(frame.url).endsWith("/get_volatility_index_data")) {
      if (urlPath(frame.url).endsWith("/get_instruments")) this.stats.ignored++;
      else countUnrecognized(this.stats, "http");
      return;
    }
    const result = msg.result;
    const currency = queryParam(frame.url, "currency");
    if (!isObject(result) || !Array.isArray(result.data) || currency === undefined)
      return countError(this.stats, "get_volatility_index_data");
    const inst = this.wanted ? this.scope.get(currency.toUpperCase()) : undefined;
    if (inst === undefined) {
      this.stats.ignored++;
      return;
    }
    if (result.data.length === 0) this.stats.ignored++;
    for (const row of result.data) {
      const ts: unknown = Array.isArray(row) ? row[0] : undefined;
      const close: unknown = Array.isArray(row) ? row[4] : undefined;
      const value = typeof close === "number" && close >= 0 ? numberText(close) : undefined;
      if (!isUint(ts) || value === undefined || !isDecimal(value)) {
        countError(this.stats, "get_volatility_index_data");
        continue;
      }
      this.emit(this.record(inst, ts, frame.recv_ts_ms, value));
    }
  }

  private record(inst: Instrument, ts: number, recv: number, value: string): MarketRecord {
    return {
      data_type: "volatility_index",
      exchange: EXCHANGE,
      market_type: inst.market_type,
      symbol: inst.symbol,
      ts_ms: ts,
      recv_ts_ms: recv,
      index_value: value,
      underlying_asset: inst.base,
      // DVOL is a perpetual 30-day index with no maturity.
      maturity_date: "",
    };
  }
}
