import { restJson as json, type ReferenceBodies } from "../../replay/sim-rest.ts";
import * as synth from "./sim-synthetic.ts";

/**
 * The simulator's Deribit public methods (https://docs.deribit.com/#market-data), over REST
 * (`/api/v2/<method>`) and over the JSON-RPC socket alike: instruments from the reference
 * bodies, DVOL candles in their documented shape (sim-synthetic.ts), `public/test`, `public/get_time`.
 */

export function deribitRest(path: string, query: URLSearchParams, refs: ReferenceBodies): Response {
  const method = path.replace(/^\/api\/v2\//, "");
  const params = Object.fromEntries(query);
  const result = deribitResult(method, params, Date.now(), refs);
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
