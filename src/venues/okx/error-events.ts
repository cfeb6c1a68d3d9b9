import { OKX_ERRORS } from "./limits.ts";

/**
 * OKX `{"event":"error","code":"…","msg":"…"}` replies
 * (https://www.okx.com/docs-v5/en/#error-code-websocket-public), and what the engine does next
 * for each (incidents: connection/error-incidents.ts).
 *
 * OKX acks each arg of a subscribe request on its own, `{"event":"subscribe","arg":{…}}`
 * (https://www.okx.com/docs-v5/en/#overview-websocket-subscribe). An arg it does not serve (an
 * instrument it does not list, e.g. one delisted since the engine read the metadata) gets error
 * 60018 instead, `Wrong URL or channel:books,instId:FOO-USDT doesn't exist. …` (sometimes
 * prefixed `Subscribe failed, wrong URL or …`). The reply carries no `arg` and no request id:
 * the arg is named only inside `msg`, which `okxRefusedArg` reads back.
 */

const RECONNECT =
  "reconnecting (paced by the connect limit): a new connection brings a fresh hourly request budget and a fresh snapshot for every book";

const LOGIN_FAILED =
  "no login on this connection: books of the login channel are not collected until a reconnect logs in; check OKX_API_KEY, OKX_API_SECRET, OKX_API_PASSPHRASE and the clock";
/** Login refusals: invalid timestamp, apiKey, expired timestamp, sign, login failed, passphrase, unknown key. */
const LOGIN_CODES = ["60004", "60005", "60006", "60007", "60009", "60024", "60032"];

/** What the engine does after each error code (OKX codes as strings, plus the engine's own). */
const NEXT: Readonly<Record<string, string>> = {
  ...Object.fromEntries(LOGIN_CODES.map((c) => [c, LOGIN_FAILED])),
  [OKX_ERRORS.please_log_in.code]:
    "the channel that needs a login stays unsubscribed on this connection; set OKX_API_KEY, OKX_API_SECRET and OKX_API_PASSPHRASE or use book_channel books",
  [OKX_ERRORS.too_frequent.code]: RECONNECT,
  // The engine's own: a resubscription round the connection's hourly budget cannot pay for.
  request_budget: RECONNECT,
};
const OTHERWISE = "the refused request is not sent again; the connection and its other subscriptions go on";

/** What follows a subscribe arg the venue refused on its own (refused-subscriptions.ts). */
export const OKX_SUBSCRIBE_REFUSED_NEXT =
  "its symbol is listed in /stats failing_symbols (subscribe_refused) and the arg is subscribed again after 1 s, doubling to 5 min, while the venue refuses it; the connection and its other subscriptions go on";

/** `channel:books,instId:BTC-USDT` (or `instType:SWAP`) inside an error message. */
const REFUSED_ARG = /channel:([^,\s"]+),(?:instId|instType):([^,\s"]+)/;

/** The arg an error message names, as `channel:id` (the connection's key of a subscribe arg), or undefined. */
export function okxRefusedArg(msg: string): string | undefined {
  const m = REFUSED_ARG.exec(msg);
  return m === null ? undefined : `${m[1]}:${m[2]}`;
}

/** The code and message of an error event, or undefined when `text` is not one. */
export function parseOkxError(text: string): { code: string; msg: string } | undefined {
  if (!text.startsWith('{"event":"error"')) return undefined;
  try {
    const v = JSON.parse(text) as { code?: unknown; msg?: unknown };
    return { code: typeof v.code === "string" ? v.code : String(v.code ?? ""), msg: typeof v.msg === "string" ? v.msg : "" };
  } catch {
    return { code: "", msg: text.slice(0, 200) };
  }
}

/** What the engine does after an error event with `code`. */
export function okxNextAction(code: string): string {
  return NEXT[code] ?? OTHERWISE;
}

/** Whether `code` calls for a new connection (a fresh hourly request budget). */
export function okxErrorReconnects(code: string): boolean {
  return code === OKX_ERRORS.too_frequent.code || code === "request_budget";
}
