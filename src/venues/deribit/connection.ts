import { deribitChannels, deribitStaleLimitMs } from "./channels.ts";
import { ErrorIncidents } from "../connection/error-incidents.ts";
import { isObject } from "../normalizer-stats.ts";
import type { ConnectionContext } from "../connection/venue-connection.ts";
import { WatchedConnection } from "../connection/watched-connection.ts";
import { WsClient } from "../connection/ws-client.ts";

/**
 * Deribit JSON-RPC over WebSocket (https://docs.deribit.com/#public-set_heartbeat,
 * https://docs.deribit.com/#public-subscribe). On every open: `public/set_heartbeat`, then
 * `public/subscribe`. Deribit sends `heartbeat` with `type:"test_request"` and closes the socket
 * unless `public/test` answers it; heartbeats are answered here and not passed on. A JSON-RPC
 * error reply is counted and the first of each incident logged with what happens next: after
 * `too_many_requests` (10028) Deribit closes the session and the client reconnects with backoff
 * (https://docs.deribit.com/articles/rate-limits); any other refused request is not repeated.
 *
 * The answer to `public/subscribe` is "a list of subscribed channels"
 * (https://docs.deribit.com/api-reference/subscription-management/public-subscribe). A channel
 * missing from it, or every channel of a subscribe answered with an error, is refused: listed
 * under its currency as `subscribe_refused` and subscribed again in rounds, 1 s doubling to
 * 5 min (connection/refused-subscriptions.ts), while the connection and its other channels go on.
 */

/** `{"jsonrpc":"2.0","id":7,"error":{"code":10028,"message":"too_many_requests"}}`: code and message. */
function rpcError(text: string): { code: string; msg: string } | undefined {
  if (!text.includes('"error":{')) return undefined;
  try {
    const v = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof v.error !== "object" || v.error === null) return undefined;
    return { code: String(v.error.code ?? ""), msg: typeof v.error.message === "string" ? v.error.message : "" };
  } catch {
    return undefined;
  }
}

const NEXT_TOO_MANY = "Deribit closes the session: the client reconnects with backoff and subscribes again";
const NEXT_OTHER = "the refused request is not sent again; the connection and its subscriptions go on";

const channelOf = (text: string): string => {
  const c = text.indexOf('"channel":"');
  if (c < 0) return "";
  return text.slice(c + 11, text.indexOf('"', c + 11));
};

/** Deribit connection tuning; tests shrink it. */
export interface DeribitTuning {
  /** `public/set_heartbeat` interval, seconds (Deribit's minimum is 10). */
  readonly deribit_heartbeat_s: number;
}

export const DERIBIT_TUNING: DeribitTuning = { deribit_heartbeat_s: 30 };

export class DeribitConnection extends WatchedConnection<DeribitTuning> {
  protected readonly client: WsClient;
  private channels: string[];
  private nextId = 1;
  /** `public/subscribe` requests waiting for their answer: id -> the channels asked for. */
  private readonly pending = new Map<number, readonly string[]>();
  private readonly incidents: ErrorIncidents;
  readonly url: string;

  constructor(ctx: ConnectionContext<DeribitTuning>) {
    super(ctx, deribitStaleLimitMs);
    this.url = `${ctx.config.ws_url}/ws/api/v2`;
    this.incidents = new ErrorIncidents(this.url);
    this.channels = deribitChannels(ctx.symbols, ctx.config.data_types);
    const interval_s = ctx.tuning.deribit_heartbeat_s;
    this.client = new WsClient({
      url: () => this.url,
      backoff: ctx.tuning.backoff,
      // Deribit's own test_request arrives every interval; silence past two of them is a dead socket.
      silence_ms: interval_s * 2000 + ctx.tuning.heartbeat_timeout_ms,
      onSilence: (silent_ms) =>
        ctx.onIncident?.({ kind: "silent", url: this.url, detail: `nothing received for ${silent_ms} ms`, next: "reconnects now and records a stale gap for the hole" }),
      onOpen: (client) => {
        const now = Date.now();
        this.incidents.reset();
        this.pending.clear();
        this.refusals.reopened();
        for (const c of this.channels) this.watchdog.arm(c, now);
        client.send(this.rpc("public/set_heartbeat", { interval: interval_s }));
        this.subscribe(this.channels);
      },
      onMessage: (text, recv) => {
        if (text.includes('"method":"heartbeat"')) {
          if (text.includes("test_request")) this.client.send(this.rpc("public/test", {}));
          return;
        }
        if (this.pending.size > 0 && !text.includes('"method":"subscription"')) this.subscribeAnswer(text, recv);
        const error = rpcError(text);
        if (error !== undefined) {
          ctx.onVenueError?.(this.incidents.event(error.code, error.msg, error.code === "10028" ? NEXT_TOO_MANY : NEXT_OTHER));
          return;
        }
        this.watchdog.seen(channelOf(text), recv);
        ctx.onFrame(text, recv, this.url);
      },
      onGap: (gap) => ctx.onGap(gap, ctx.symbols),
      onDisconnect: (recv) => ctx.onDisconnect(recv),
    });
  }

  /**
   * Subscribes the channels the runner's symbols (`ctx.symbols`, already changed) now need and
   * unsubscribes those they no longer do, on the open connection (instrument refresh).
   */
  changeSymbols(): void {
    const next = deribitChannels(this.ctx.symbols, this.ctx.config.data_types);
    const fresh = next.filter((c) => !this.channels.includes(c));
    const gone = this.channels.filter((c) => !next.includes(c));
    this.channels = next;
    this.refusals.forget(gone);
    if (this.client.state !== "open") return;
    const now = Date.now();
    for (const c of gone) this.watchdog.forget(c);
    for (const c of fresh) this.watchdog.arm(c, now);
    if (gone.length > 0) this.client.send(this.rpc("public/unsubscribe", { channels: gone }));
    this.subscribe(fresh);
  }

  protected retrySubscribe(keys: ReadonlySet<string>): void {
    if (this.client.state === "open") this.subscribe(this.channels.filter((c) => keys.has(c)));
  }

  /** Sends `public/subscribe` for `channels` (none: nothing), remembering them until the answer. */
  private subscribe(channels: readonly string[]): void {
    if (channels.length === 0) return;
    const id = this.nextId;
    this.pending.set(id, channels);
    this.client.send(this.rpc("public/subscribe", { channels }));
  }

  /** Reads the answer to a pending subscribe: channels it lists are subscribed, the others refused. */
  private subscribeAnswer(text: string, recv_ms: number): void {
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      return;
    }
    if (!isObject(reply) || typeof reply.id !== "number") return;
    const asked = this.pending.get(reply.id);
    if (asked === undefined) return;
    this.pending.delete(reply.id);
    const error = isObject(reply.error) ? `${String(reply.error.code ?? "")} ${typeof reply.error.message === "string" ? reply.error.message : ""}` : undefined;
    const listed = new Set(Array.isArray(reply.result) ? reply.result.filter((c): c is string => typeof c === "string") : []);
    for (const channel of asked) {
      if (error === undefined && listed.has(channel)) this.subscribed(channel, recv_ms);
      else this.refused(channel, this.nativeOf(channel) ?? channel, error ?? `not in the public/subscribe result (${listed.size} of ${asked.length} channels subscribed)`);
    }
  }

  /** The currency whose channel `channel` is. */
  private nativeOf(channel: string): string | undefined {
    return this.ctx.symbols.find((s) => deribitChannels([s], this.ctx.config.data_types).includes(channel));
  }

  private rpc(method: string, params: object): string {
    return JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params });
  }
}
