import type { VenueErrorEvent } from "../connection/venue-connection.ts";
import { OKX_ERRORS } from "./limits.ts";

/**
 * OKX `{"event":"error","code":"…","msg":"…"}` replies
 * (https://www.okx.com/docs-v5/en/#error-code-websocket-public), and what the engine does next
 * for each. An incident is a run of one code on one connection: its first event is logged, every
 * one is counted; a new connection starts new incidents.
 */

/** What the engine does after each error code (OKX codes as strings, plus the engine's own). */
const NEXT: Readonly<Record<string, string>> = {
  [OKX_ERRORS.please_log_in.code]:
    "the channel that needs a login stays unsubscribed on this connection; set OKX_API_KEY, OKX_API_SECRET and OKX_API_PASSPHRASE or use book_channel books",
  [OKX_ERRORS.too_frequent.code]:
    "reconnecting (paced by the connect limit): a new connection brings a fresh hourly request budget and a fresh snapshot for every book",
  request_budget:
    "reconnecting (paced by the connect limit): a new connection brings a fresh hourly request budget and a fresh snapshot for every book",
};
const OTHERWISE = "the refused request is not sent again; the connection and its other subscriptions go on";

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

export class OkxErrorIncidents {
  private readonly open = new Set<string>();

  /** The event for `code`, first of its incident unless one is already open. */
  event(code: string, msg: string): VenueErrorEvent {
    const first = !this.open.has(code);
    this.open.add(code);
    return { code, msg, next: NEXT[code] ?? OTHERWISE, first };
  }

  /** Whether `code` calls for a new connection. */
  static reconnects(code: string): boolean {
    return code === OKX_ERRORS.too_frequent.code || code === "request_budget";
  }

  /** A new connection: every incident is over. */
  reset(): void {
    this.open.clear();
  }
}
