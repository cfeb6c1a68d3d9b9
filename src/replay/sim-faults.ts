import { VENUE_KEYS, type VenueKey } from "../config/venue-keys.ts";
import { getVenue } from "../venues/registry.ts";
import type { FeedFrame } from "./feed.ts";

/** What a fault sees of a frame: a recorded frame, or a generated one (live-feed.ts). */
export type FaultFrame = Pick<FeedFrame, "key" | "symbol" | "snapshot">;

/**
 * Faults the simulator injects on request (`POST /simulator/faults`, `Simulator.fault`), each
 * for one venue key and a number of seconds:
 * - `disconnect`: the venue's connections close now and new ones are refused until it ends;
 * - `silence`: sockets stay open and nothing is sent on them (data, acks, pongs, pings,
 *   heartbeats), so only a client-side silence timeout notices;
 * - `rate_limit`: every REST request of the venue gets 429 in the venue's own shape (its
 *   `rest_limits.refusalBody`: Binance code -1003, OKX code 50011, Deribit error 10028), with
 *   `Retry-After` (the seconds left) on the venues that send one (Binance);
 * - `sequence_gap`: one book update per symbol a second is not sent, so update chains break
 *   (Binance `U`/`u`/`pu`, OKX `seqId`/`prevSeqId`; on recordings without `seqId` the OKX
 *   checksum catches the hole);
 * - `checksum`: OKX book pushes carry a wrong checksum;
 * - `rest_error`: REST requests of the venue get 503, only those to `path` (a pathname below the
 *   venue, e.g. `/fapi/v1/openInterest`) when one is given: a poll endpoint that fails while its
 *   history endpoint answers, as when a venue's live statistics lag;
 * - `subscribe_refused`: the venue refuses subscriptions of one `symbol` (its native id as the
 *   engine subscribes it: an OKX instId, a Deribit currency) as it refuses an instrument it does
 *   not serve: OKX answers each arg of it with error 60018, Deribit leaves its channels out of the
 *   `public/subscribe` result. Subscriptions made before the fault keep their data; other
 *   symbols are untouched. Several symbols can be refused at once, each for its own seconds.
 * A kind a venue cannot show is refused with a message (400): `checksum` on venues whose books
 * carry no checksum (Binance), `sequence_gap` and `checksum` on venues without books (Deribit),
 * `subscribe_refused` on venues whose simulated server has no refusal to show (Binance).
 */

export const FAULT_KINDS = ["disconnect", "silence", "rate_limit", "sequence_gap", "checksum", "rest_error", "subscribe_refused"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRequest {
  readonly venue: VenueKey;
  readonly kind: FaultKind;
  readonly seconds: number;
  /** `rest_error` only: the one REST pathname refused (every path when absent). */
  readonly path?: string;
  /** `subscribe_refused` only (and required there): the native id whose subscriptions are refused. */
  readonly symbol?: string;
}

/** Longest fault accepted, s (a day: a soak bench's longest outage). */
const MAX_FAULT_S = 86_400;

/** The request, or a message saying what is wrong with it. */
export function parseFaultRequest(body: unknown): FaultRequest | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return 'expected a JSON object {"venue", "kind", "seconds"}';
  const b = body as Record<string, unknown>;
  const venue = b.venue;
  if (typeof venue !== "string" || !(VENUE_KEYS as readonly string[]).includes(venue)) return `"venue" must be one of ${VENUE_KEYS.join(", ")}; got ${JSON.stringify(venue)}`;
  const kind = b.kind;
  if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind)) return `"kind" must be one of ${FAULT_KINDS.join(", ")}; got ${JSON.stringify(kind)}`;
  const seconds = b.seconds;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_FAULT_S) {
    return `"seconds" must be a number in (0, ${MAX_FAULT_S}]; got ${JSON.stringify(seconds)}`;
  }
  const path = b.path;
  if (path !== undefined && (kind !== "rest_error" || typeof path !== "string" || !path.startsWith("/"))) {
    return `"path" goes with "rest_error" only and is a pathname starting with "/"; got ${JSON.stringify(path)} for ${JSON.stringify(kind)}`;
  }
  const symbol = b.symbol;
  if (kind === "subscribe_refused" && (typeof symbol !== "string" || symbol === "")) {
    return `"subscribe_refused" needs "symbol": the native id whose subscriptions the venue refuses; got ${JSON.stringify(symbol)}`;
  }
  if (kind !== "subscribe_refused" && symbol !== undefined) return `"symbol" goes with "subscribe_refused" only; got it for ${JSON.stringify(kind)}`;
  const key = venue as VenueKey;
  const definition = getVenue(key);
  const checks = definition.book_checks;
  if (kind === "checksum" && !checks.includes("checksum")) return `${key} book updates carry no checksum: use "sequence_gap"${checks.length === 0 ? " on a venue with books" : ""}`;
  if (kind === "sequence_gap" && !checks.includes("sequence")) return `${key} serves no order book update chain`;
  if (kind === "subscribe_refused" && definition.refuses_subscriptions !== true) return `${key}'s simulated server has no subscription refusal to show`;
  return { venue: key, kind: kind as FaultKind, seconds, ...(typeof path === "string" ? { path } : {}), ...(typeof symbol === "string" ? { symbol } : {}) };
}

const CHECKSUM = /"checksum":-?\d+/;

/** `text` with its OKX checksum replaced by a wrong one (the true value plus one). */
export function corruptChecksum(text: string): string {
  return text.replace(CHECKSUM, (m) => `"checksum":${Number(m.slice(11)) + 1}`);
}

/**
 * `POST /simulator/faults` with `{"venue", "kind", "seconds"}`: 200 with the fault in force, 400
 * with a message for a bad request, 405 for another method.
 */
export async function handleFaultRequest(req: Request, inject: (f: FaultRequest) => void): Promise<Response> {
  if (req.method !== "POST") return new Response('POST {"venue", "kind", "seconds"} to /simulator/faults\n', { status: 405, headers: { allow: "POST" } });
  let body: unknown;
  try {
    body = await req.json();
  } catch (error) {
    return new Response(`simulator faults: the body is not JSON (${error instanceof Error ? error.message : String(error)})\n`, { status: 400 });
  }
  const f = parseFaultRequest(body);
  if (typeof f === "string") return new Response(`simulator faults: ${f}\n`, { status: 400 });
  inject(f);
  return Response.json(f);
}

export interface ActiveFault {
  readonly venue: VenueKey;
  readonly kind: FaultKind;
  readonly seconds_left: number;
}

export class SimFaults {
  /** End time per `venue|kind`, ms (Date.now()). */
  private readonly until = new Map<string, number>();
  /**
   * What the faults did, per venue and kind: connections closed or refused (disconnect), 429s
   * answered (rate_limit), book updates dropped (sequence_gap) or corrupted (checksum), messages
   * held back (silence), subscriptions refused (subscribe_refused, one per channel).
   */
  private readonly effects = new Map<VenueKey, Map<FaultKind, number>>();
  /** Per venue, the pathname a `rest_error` fault refuses; absent: every path. */
  private readonly errorPaths = new Map<VenueKey, string>();
  /** `venue|symbol` -> the second in which one of its book updates was dropped, and which. */
  private readonly dropped = new Map<string, { second: number; frame: FaultFrame }>();
  /** `venue|symbol` -> when its `subscribe_refused` fault ends (Date.now() ms). */
  private readonly refusedUntil = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  inject(f: FaultRequest): void {
    const key = `${f.venue}|${f.kind}`;
    const end_ms = this.now() + f.seconds * 1000;
    this.until.set(key, Math.max(this.until.get(key) ?? 0, end_ms));
    if (f.kind === "subscribe_refused" && f.symbol !== undefined) {
      const symbol = `${f.venue}|${f.symbol}`;
      this.refusedUntil.set(symbol, Math.max(this.refusedUntil.get(symbol) ?? 0, end_ms));
    }
    if (f.kind !== "rest_error") return;
    if (f.path === undefined) this.errorPaths.delete(f.venue);
    else this.errorPaths.set(f.venue, f.path);
  }

  /** Ms the fault has left (0 = not active). */
  remainingMs(venue: VenueKey, kind: FaultKind): number {
    const until = this.until.get(`${venue}|${kind}`);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return left;
    this.until.delete(`${venue}|${kind}`);
    return 0;
  }

  active(venue: VenueKey, kind: FaultKind): boolean {
    return this.until.size > 0 && this.remainingMs(venue, kind) > 0;
  }

  /**
   * Under `sequence_gap`: whether book update `frame` is the one of its symbol dropped this
   * second (asked once per connection: every connection of the venue misses the same update).
   */
  dropsUpdate(venue: VenueKey, frame: FaultFrame): boolean {
    if (!this.active(venue, "sequence_gap")) return false;
    const second = Math.floor(this.now() / 1000);
    const key = `${venue}|${frame.symbol}`;
    const last = this.dropped.get(key);
    if (last !== undefined && last.second === second) return last.frame === frame;
    this.dropped.set(key, { second, frame });
    this.note(venue, "sequence_gap");
    return true;
  }

  /**
   * A book update's text as a venue under faults sends it: undefined when `sequence_gap` drops
   * it, with a wrong checksum under `checksum`.
   */
  bookUpdate(venue: VenueKey, frame: FaultFrame, text: string): string | undefined {
    if (this.dropsUpdate(venue, frame)) return undefined;
    if (!this.active(venue, "checksum")) return text;
    this.note(venue, "checksum");
    return corruptChecksum(text);
  }

  /** Under `subscribe_refused`: true (and counted) when `venue` refuses a subscription of `symbol` now. */
  refusesSubscription(venue: VenueKey, symbol: string): boolean {
    if (!this.active(venue, "subscribe_refused")) return false;
    const key = `${venue}|${symbol}`;
    const until = this.refusedUntil.get(key);
    if (until === undefined) return false;
    if (until <= this.now()) {
      this.refusedUntil.delete(key);
      return false;
    }
    this.note(venue, "subscribe_refused");
    return true;
  }

  /** Under `silence`: true (and counted) when a message to `venue` is held back. */
  holds(venue: VenueKey): boolean {
    if (!this.active(venue, "silence")) return false;
    this.note(venue, "silence");
    return true;
  }

  /** Under `disconnect`: the refusal of a new connection (503). */
  refuseUpgrade(venue: VenueKey): Response | undefined {
    if (!this.active(venue, "disconnect")) return undefined;
    this.note(venue, "disconnect");
    return new Response(`simulator: ${venue} is down (disconnect fault)`, { status: 503 });
  }

  /** Under `rate_limit`: the venue's 429, with the seconds left as `Retry-After` where the venue sends one. */
  refuseRest(venue: VenueKey): Response | undefined {
    const left_ms = this.remainingMs(venue, "rate_limit");
    if (left_ms <= 0) return undefined;
    this.note(venue, "rate_limit");
    const limits = getVenue(venue).rest_limits;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (limits.sends_retry_after) headers["retry-after"] = String(Math.ceil(left_ms / 1000));
    return new Response(limits.refusalBody(429, Date.now() + left_ms), { status: 429, headers });
  }

  /** Under `rest_error`: the 503 a REST request to `path` (below the venue) gets. */
  failRest(venue: VenueKey, path: string): Response | undefined {
    if (!this.active(venue, "rest_error")) return undefined;
    const only = this.errorPaths.get(venue);
    if (only !== undefined && only !== path) return undefined;
    this.note(venue, "rest_error");
    return new Response(JSON.stringify({ code: -1, msg: "Service unavailable (simulated rest_error fault)." }), { status: 503, headers: { "content-type": "application/json" } });
  }

  /** Whether any fault is set (active or expired but not yet looked at): the hot path's check. */
  get any(): boolean {
    return this.until.size > 0;
  }

  /** Counts one effect of a `kind` fault on `venue`. */
  note(venue: VenueKey, kind: FaultKind, n = 1): void {
    let own = this.effects.get(venue);
    if (own === undefined) {
      own = new Map();
      this.effects.set(venue, own);
    }
    own.set(kind, (own.get(kind) ?? 0) + n);
  }

  /** Effects of `kind` on `venue` since start. */
  effect(venue: VenueKey, kind: FaultKind): number {
    return this.effects.get(venue)?.get(kind) ?? 0;
  }

  /** `{ venue: { kind: effects } }`. */
  effectCounts(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.effects].map(([venue, kinds]) => [venue, Object.fromEntries(kinds)]));
  }

  list(): ActiveFault[] {
    const out: ActiveFault[] = [];
    for (const key of [...this.until.keys()]) {
      const [venue, kind] = key.split("|") as [VenueKey, FaultKind];
      const left = this.remainingMs(venue, kind);
      if (left > 0) out.push({ venue, kind, seconds_left: Math.ceil(left / 1000) });
    }
    return out;
  }
}
