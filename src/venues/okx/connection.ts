import { okxSubscribeArgs, type OkxSubscribeArg } from "./channels.ts";
import type { ConnectionContext } from "../connection/venue-connection.ts";
import { WatchedConnection } from "../connection/watched-connection.ts";
import { WsClient } from "../connection/ws-client.ts";

/**
 * OKX v5 public WebSocket (https://www.okx.com/docs-v5/en/#overview-websocket-connect).
 * - Subscriptions are sent on every open; OKX allows many args per frame.
 * - OKX drops a socket silent for 30 s: after `okx_ping_idle_ms` of silence the client sends
 *   the text "ping" and expects "pong" (which is not passed on) before reconnecting.
 * - A book whose checksum or sequence failed is resubscribed (unsubscribe + subscribe): OKX
 *   answers a subscribe with a fresh snapshot.
 */

const ARGS_PER_FRAME = 100;

const channelKey = (text: string): string => {
  // `{"arg":{"channel":"books","instId":"BTC-USDT"},…}`: channel and id, without a parse.
  const c = text.indexOf('"channel":"');
  if (c < 0) return "";
  const ce = text.indexOf('"', c + 11);
  const i = text.indexOf('"inst', ce);
  const is = text.indexOf(':"', i) + 2;
  const ie = text.indexOf('"', is);
  return i < 0 ? text.slice(c + 11, ce) : `${text.slice(c + 11, ce)}:${text.slice(is, ie)}`;
};

export class OkxConnection extends WatchedConnection {
  protected readonly client: WsClient;
  private readonly args: OkxSubscribeArg[];
  readonly url: string;

  constructor(ctx: ConnectionContext) {
    super(ctx);
    this.url = `${ctx.config.ws_url}/ws/v5/public`;
    this.args = okxSubscribeArgs(ctx.symbols, ctx.config.data_types, ctx.instruments);
    this.client = new WsClient({
      url: () => this.url,
      backoff: ctx.tuning.backoff,
      heartbeat: { idle_ms: ctx.tuning.okx_ping_idle_ms, message: "ping", timeout_ms: ctx.tuning.heartbeat_timeout_ms },
      onOpen: (client) => {
        const now = Date.now();
        for (const a of this.args) this.watchdog.arm(`${a.channel}:${a.instId ?? a.instType ?? ""}`, now);
        for (let i = 0; i < this.args.length; i += ARGS_PER_FRAME) {
          client.send(JSON.stringify({ op: "subscribe", args: this.args.slice(i, i + ARGS_PER_FRAME) }));
        }
      },
      onMessage: (text, recv) => {
        if (text === "pong") return;
        this.watchdog.seen(channelKey(text), recv);
        ctx.onFrame(text, recv, this.url);
      },
      onGap: (gap) => ctx.onGap(gap, ctx.symbols),
      onDisconnect: (recv) => ctx.onDisconnect(recv),
    });
  }

  resubscribeBooks(natives: readonly string[]): void {
    const args = this.args.filter((a) => a.channel.startsWith("books") && a.instId !== undefined && natives.includes(a.instId));
    if (args.length === 0) return;
    this.client.send(JSON.stringify({ op: "unsubscribe", args }));
    this.client.send(JSON.stringify({ op: "subscribe", args }));
  }

}
