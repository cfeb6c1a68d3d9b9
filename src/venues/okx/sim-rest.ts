import type { SentTrades } from "../../replay/sent-trades.ts";
import { noRoute, queryRange, restJson as json, type ReferenceBodies } from "../../replay/sim-rest.ts";
import * as synth from "./sim-synthetic.ts";

/** What the REST side and the pushes without a recording read from a generated or replayed OKX feed. */
export interface OkxMarkets {
  readonly instruments: readonly string[];
  readonly prices: ReadonlyMap<string, number>;
  /** The trades a replay sent (the generated market serves its trade history itself). */
  readonly trades?: SentTrades;
}

/** The `period` names Rubik statistics take (5m, 1H, 1D; channels.ts okxRubikPeriod), in ms. */
const PERIOD_MS: Readonly<Record<string, number>> = { "5m": 300_000, "1H": 3_600_000, "1D": 86_400_000 };

/**
 * The simulator's OKX v5 public REST routes (https://www.okx.com/docs-v5/en/#public-data-rest-api,
 * https://www.okx.com/docs-v5/en/#trading-statistics-rest-api): instruments from the reference
 * bodies, open interest, funding rate and the Rubik statistics in their documented shape
 * (sim-synthetic.ts), priced from the replayed or generated markets, and the trade history
 * (`history-trades`) from the trades a replay sent (../../replay/sent-trades.ts). Rubik takes
 * `begin`/`end` (ms) as OKX does; a bucket's row is the same whichever way it is asked for.
 */
export function okxRest(path: string, query: URLSearchParams, replay: OkxMarkets, refs: ReferenceBodies): Response {
  const now = Date.now();
  const ok = (data: unknown): Response => json(JSON.stringify({ code: "0", data, msg: "" }));
  const instId = query.get("instId") ?? "";
  const price = replay.prices.get(instId) ?? 100;
  if (path === "/api/v5/public/instruments") {
    const type = query.get("instType");
    const line = refs.lines("okx_instruments.jsonl").find((l) => new URL(l.url).searchParams.get("instType") === type);
    return line ? json(refs.listed(line.raw, "data", "instId")) : json(JSON.stringify({ code: "51000", data: [], msg: `Parameter instType error` }), 400);
  }
  if (path === "/api/v5/market/tickers") {
    const swap = query.get("instType") === "SWAP";
    const ids = replay.instruments.filter((i) => i.endsWith("-SWAP") === swap && (swap || i.split("-").length === 2));
    return ok(ids.map((id) => synth.okxTicker(id, replay.prices.get(id) ?? 100, swap, now)));
  }
  const n = Math.floor(now / 1000);
  if (path === "/api/v5/public/open-interest") {
    const ids = instId ? [instId] : replay.instruments.filter((i) => i.endsWith("-SWAP"));
    return ok(ids.map((id) => synth.okxOpenInterest(id, replay.prices.get(id) ?? 100, now, n)));
  }
  if (path === "/api/v5/public/funding-rate") return ok([synth.okxFundingRate(instId, now, n)]);
  if (path === "/api/v5/market/history-trades" && replay.trades !== undefined) {
    // By trade id (type 1) below `after`, or the newest without it; newest first, at most `limit` (max 100).
    if (!replay.instruments.includes(instId)) return json(JSON.stringify({ code: "51001", data: [], msg: "Instrument ID does not exist." }), 400);
    if ((query.get("type") ?? "1") !== "1") return json(JSON.stringify({ code: "51000", data: [], msg: "Parameter type error" }), 400);
    const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 100) || 100));
    const after = query.get("after");
    const rows = replay.trades.before(instId, after === null ? undefined : Number(after), limit);
    return json(`{"code":"0","msg":"","data":[${rows.join(",")}]}`);
  }
  const rubik = /^\/api\/v5\/rubik\/stat\/contracts\/(long-short-account-ratio|long-short-account-ratio-contract|long-short-account-ratio-contract-top-trader|long-short-position-ratio-contract-top-trader|open-interest-history)$/.exec(path);
  if (rubik?.[1]) {
    const period = PERIOD_MS[query.get("period") ?? "5m"];
    if (period === undefined) return json(JSON.stringify({ code: "51000", data: [], msg: "Parameter period error" }), 400);
    const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 100) || 100));
    const key = `${rubik[1]}:${instId || query.get("ccy") || ""}`;
    const range = queryRange(query, "begin", "end");
    if (rubik[1] === "open-interest-history") {
      return ok(synth.okxRubikRows(key, period, limit, now, range).map(([ts, r]) => [ts, String(Number(r) * 50000), String(Number(r) * 500), String(Number(r) * price * 500)]));
    }
    return ok(synth.okxRubikRows(key, period, limit, now, range));
  }
  return noRoute(path);
}
