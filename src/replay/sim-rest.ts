import type { VenueKey } from "../config/schema.ts";
import type { BinanceBooks, OkxMarkets } from "./live-feed.ts";
import type { RecordingSource } from "./source.ts";
import * as synth from "./synthetic.ts";

/**
 * The simulator's REST side, one function per venue family. Instrument metadata is served from
 * the source's reference bodies (fixtures `reference/`, or generated ones), depth snapshots from the replay's live
 * books, everything without a recording in its documented shape (synthetic.ts).
 */

export interface RestContext {
  readonly now: () => number;
  readonly binance: ReadonlyMap<VenueKey, BinanceBooks>;
  readonly okx: OkxMarkets;
}

const json = (body: string, status = 200): Response =>
  new Response(body, { status, headers: { "content-type": "application/json" } });

const notFound = (path: string): Response => json(JSON.stringify({ code: -1, msg: `simulator: no route ${path}` }), 404);

const PERIODS: Record<string, number> = { "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000, "1H": 3_600_000, "1D": 86_400_000 };

/**
 * What the simulated venues list: native ids in `unlisted` are left out of the instrument
 * metadata served (Binance exchangeInfo, OKX instruments, Deribit currencies), as a delisting
 * would, and come back
 * when removed from it, as a new listing (tests of the engine's instrument refresh).
 */
export interface SimListing {
  readonly unlisted: Set<string>;
}

/** Reference bodies, read once on first use (the spot exchangeInfo is 2 MB). */
export class ReferenceBodies {
  private readonly cache = new Map<string, { url: string; raw: string }[]>();
  readonly listing: SimListing = { unlisted: new Set() };
  constructor(private readonly source: RecordingSource) {}

  /** `raw` with the unlisted ids taken out of its `key` array (items named by `id`). */
  listed(raw: string, key: "symbols" | "data", id: "symbol" | "instId"): string {
    if (this.listing.unlisted.size === 0) return raw;
    const body = JSON.parse(raw) as Record<string, unknown>;
    const items = body[key];
    if (Array.isArray(items)) body[key] = items.filter((i: Record<string, unknown>) => !this.listing.unlisted.has(String(i[id])));
    return JSON.stringify(body);
  }

  lines(file: string): { url: string; raw: string }[] {
    let lines = this.cache.get(file);
    if (!lines) {
      lines = this.source.read(`reference/${file}`).map((l) => ({ url: l.url, raw: l.raw }));
      this.cache.set(file, lines);
    }
    return lines;
  }
}

export function binanceRest(venue: VenueKey, path: string, query: URLSearchParams, ctx: RestContext, refs: ReferenceBodies): Response {
  const replay = ctx.binance.get(venue);
  const futures = venue === "binance_derivatives";
  const symbol = query.get("symbol") ?? "";
  const price = replay?.prices.get(symbol) ?? 100;
  const now = ctx.now();
  const unknownSymbol = json(JSON.stringify({ code: -1121, msg: "Invalid symbol." }), 400);
  if (path === "/api/v3/exchangeInfo" || path === "/fapi/v1/exchangeInfo") {
    const body = refs.lines(futures ? "binance_derivatives_exchangeInfo.jsonl" : "binance_spot_exchangeInfo.jsonl")[0];
    return body ? json(refs.listed(body.raw, "symbols", "symbol")) : notFound(path);
  }
  if (path === "/api/v3/ticker/24hr" || path === "/fapi/v1/ticker/24hr") {
    const all = (replay?.symbols ?? []).map((s) => synth.binanceTicker24h(s, replay?.prices.get(s) ?? 100, now));
    return json(`[${all.join(",")}]`);
  }
  if (path === "/api/v3/depth" || path === "/fapi/v1/depth") {
    const body = replay?.depthBody(symbol, Math.min(5000, Number(query.get("limit") ?? 100) || 100), now);
    return body ? json(body) : unknownSymbol;
  }
  if (!futures) return notFound(path);
  if (path === "/fapi/v1/openInterest") return symbol ? json(synth.binanceOpenInterest(symbol, now)) : unknownSymbol;
  if (path === "/fapi/v1/premiumIndex") {
    if (symbol) return json(synth.binancePremiumIndex(symbol, price, now));
    const all = (replay?.symbols ?? []).map((s) => synth.binancePremiumIndex(s, replay?.prices.get(s) ?? 100, now));
    return json(`[${all.join(",")}]`);
  }
  const ratio = /^\/futures\/data\/(topLongShortPositionRatio|topLongShortAccountRatio|globalLongShortAccountRatio)$/.exec(path);
  if (ratio?.[1]) {
    const period = PERIODS[query.get("period") ?? ""];
    if (!symbol || period === undefined) return json(JSON.stringify({ code: -1102, msg: "Mandatory parameter missing or malformed." }), 400);
    const limit = Math.min(500, Math.max(1, Number(query.get("limit") ?? 30) || 30));
    return json(synth.binanceRatioRows(symbol, ratio[1], period, limit, now));
  }
  return notFound(path);
}

export function okxRest(path: string, query: URLSearchParams, ctx: RestContext, refs: ReferenceBodies): Response {
  const now = ctx.now();
  const ok = (data: unknown): Response => json(JSON.stringify({ code: "0", data, msg: "" }));
  const instId = query.get("instId") ?? "";
  const price = ctx.okx.prices.get(instId) ?? 100;
  if (path === "/api/v5/public/instruments") {
    const type = query.get("instType");
    const line = refs.lines("okx_instruments.jsonl").find((l) => new URL(l.url).searchParams.get("instType") === type);
    return line ? json(refs.listed(line.raw, "data", "instId")) : json(JSON.stringify({ code: "51000", data: [], msg: `Parameter instType error` }), 400);
  }
  if (path === "/api/v5/market/tickers") {
    const swap = query.get("instType") === "SWAP";
    const ids = ctx.okx.instruments.filter((i) => i.endsWith("-SWAP") === swap && (swap || i.split("-").length === 2));
    return ok(ids.map((id) => synth.okxTicker(id, ctx.okx.prices.get(id) ?? 100, swap, now)));
  }
  const n = Math.floor(now / 1000);
  if (path === "/api/v5/public/open-interest") {
    const ids = instId ? [instId] : ctx.okx.instruments.filter((i) => i.endsWith("-SWAP"));
    return ok(ids.map((id) => synth.okxOpenInterest(id, ctx.okx.prices.get(id) ?? 100, now, n)));
  }
  if (path === "/api/v5/public/funding-rate") return ok([synth.okxFundingRate(instId, now, n)]);
  const rubik = /^\/api\/v5\/rubik\/stat\/contracts\/(long-short-account-ratio|long-short-account-ratio-contract|long-short-account-ratio-contract-top-trader|long-short-position-ratio-contract-top-trader|open-interest-history)$/.exec(path);
  if (rubik?.[1]) {
    const period = PERIODS[query.get("period") ?? "5m"];
    if (period === undefined) return json(JSON.stringify({ code: "51000", data: [], msg: "Parameter period error" }), 400);
    const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 100) || 100));
    const key = `${rubik[1]}:${instId || query.get("ccy") || ""}`;
    if (rubik[1] === "open-interest-history") {
      return ok(synth.okxRubikRows(key, period, limit, now).map(([ts, r]) => [ts, String(Number(r) * 50000), String(Number(r) * 500), String(Number(r) * price * 500)]));
    }
    return ok(synth.okxRubikRows(key, period, limit, now));
  }
  return notFound(path);
}

export function deribitRest(path: string, query: URLSearchParams, ctx: RestContext, refs: ReferenceBodies): Response {
  const method = path.replace(/^\/api\/v2\//, "");
  const params = Object.fromEntries(query);
  const result = deribitResult(method, params, ctx.now(), refs);
  if (result === undefined) return json(JSON.stringify({ jsonrpc: "2.0", error: { code: -32601, message: "Method not found" } }), 400);
  return json("body" in result ? result.body : `{"jsonrpc":"2.0","result":${result.result}}`);
}

/** A whole recorded response body, or the text of a `result` value. */
export type DeribitReply = { readonly body: string } | { readonly result: string };

/** A Deribit method's reply, shared by REST and the JSON-RPC socket; undefined = unknown method. */
export function deribitResult(method: string, params: Record<string, unknown>, now_ms: number, refs: ReferenceBodies): DeribitReply | undefined {
  if (method === "public/get_instruments") {
    const currency = String(params.currency ?? "BTC");
    // An unlisted currency lists no instruments, so its DVOL drops out of the engine's metadata.
    if (refs.listing.unlisted.has(currency)) return { result: "[]" };
    const line = refs.lines("deribit_instruments.jsonl").find((l) => new URL(l.url).searchParams.get("currency") === currency);
    return line ? { body: line.raw } : { result: "[]" };
  }
  if (method === "public/get_volatility_index_data") {
    const end = Number(params.end_timestamp ?? now_ms);
    const start = Number(params.start_timestamp ?? end - 3_600_000);
    const resolution = params.resolution === "1D" ? 86_400 : Number(params.resolution ?? 60);
    const data = synth.deribitVolatilityCandles(String(params.currency ?? "BTC"), start, end, resolution);
    return { result: JSON.stringify({ data, continuation: null }) };
  }
  if (method === "public/test") return { result: JSON.stringify({ version: "1.2.26" }) };
  if (method === "public/get_time") return { result: String(now_ms) };
  return undefined;
}
