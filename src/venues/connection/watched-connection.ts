import { ChannelWatchdog, watchStaleChannels } from "./channel-watchdog.ts";
import type { ConnectionContext, StaleLimit, VenueConnection } from "./venue-connection.ts";
import type { WsClient } from "./ws-client.ts";

/**
 * One WebSocket client plus the staleness watchdog of its channels: what the OKX and Deribit
 * connections share (Binance rolls several sockets per shard, binance/connection.ts). A
 * subclass arms the watchdog's channels on open, feeds it every frame and builds `client`.
 */
export abstract class WatchedConnection<T extends object = object> implements VenueConnection {
  protected abstract readonly client: WsClient;
  protected readonly watchdog: ChannelWatchdog;
  private watchTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    protected readonly ctx: ConnectionContext<T>,
    staleLimitMs: StaleLimit,
  ) {
    this.watchdog = new ChannelWatchdog((c) => staleLimitMs(c) * ctx.tuning.stale_factor);
  }

  get reconnects(): number {
    return this.client.reconnects;
  }

  start(): void {
    this.client.start();
    this.watchTimer = watchStaleChannels(this.watchdog, this.ctx.onStale, () => this.client.reconnect("stale"));
  }

  async stop(): Promise<void> {
    clearInterval(this.watchTimer);
    await this.client.stop();
  }
}
