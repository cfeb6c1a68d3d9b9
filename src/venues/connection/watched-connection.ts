import type { BookHealth } from "../types.ts";
import { ChannelWatchdog, watchStaleChannels } from "./channel-watchdog.ts";
import { RefusedSubscriptions } from "./refused-subscriptions.ts";
import type { SymbolFailure } from "./symbol-failure.ts";
import type { ConnectionContext, StaleLimit, VenueConnection } from "./venue-connection.ts";
import type { WsClient } from "./ws-client.ts";

/**
 * One WebSocket client plus the staleness watchdog of its channels and the subscriptions the
 * venue refused: what the OKX and Deribit connections share (Binance rolls several sockets per
 * shard, binance/connection.ts). A subclass arms the watchdog's channels on open, feeds it every
 * frame, builds `client`, reports the venue's refusals and acceptances of its subscriptions
 * (`refused`, `subscribed`) and subscribes refused channels again when asked (`retrySubscribe`).
 * Channel keys are the subclass's own (OKX `books:BTC-USDT`, a Deribit channel name), the same
 * for the watchdog and the refusals.
 */
export abstract class WatchedConnection<T extends object = object> implements VenueConnection {
  protected abstract readonly client: WsClient;
  protected readonly watchdog: ChannelWatchdog;
  /** Subscriptions the venue refused, listed per symbol and asked for again in rounds. */
  protected readonly refusals: RefusedSubscriptions;
  private watchTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    protected readonly ctx: ConnectionContext<T>,
    staleLimitMs: StaleLimit,
  ) {
    this.watchdog = new ChannelWatchdog((c) => staleLimitMs(c) * ctx.tuning.stale_factor);
    this.refusals = new RefusedSubscriptions((keys) => this.retrySubscribe(keys));
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
    this.refusals.stop();
    await this.client.stop();
  }

  failures(_books: readonly BookHealth[]): SymbolFailure[] {
    return this.refusals.failures();
  }

  /** Subscribes the channels `keys` again on the open connection (a round of refused ones); skipped when it cannot. */
  protected abstract retrySubscribe(keys: ReadonlySet<string>): void;

  /**
   * The venue refused channel `key` of `native` with `answer`: it is listed and asked for again
   * in the next round, and is not watched for silence meanwhile (it is refused, not silent, and
   * must not count towards a connection whose channels are all silent).
   */
  protected refused(key: string, native: string, answer: string): void {
    this.watchdog.forget(key);
    this.refusals.refuse(key, native, answer);
  }

  /** The venue accepted channel `key`: if it had been refused, its failure ends and it is watched from `now_ms`. */
  protected subscribed(key: string, now_ms: number): void {
    if (this.refusals.accepted(key)) this.watchdog.arm(key, now_ms);
  }
}
