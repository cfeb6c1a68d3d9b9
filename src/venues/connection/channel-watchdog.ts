import type { SymbolFailure } from "./symbol-failure.ts";

/**
 * Staleness per channel: each channel has a silence limit sized to its cadence (a 1 s mark
 * price stream is stale after a few seconds; a trade stream of a quiet symbol never is, so it
 * gets no limit). A channel is reported once per silence, and reported again as resumed when
 * it is seen, armed afresh or forgotten.
 */
export class ChannelWatchdog {
  private readonly lastSeen = new Map<string, number>();
  private readonly reported = new Set<string>();
  private resumedChannels: string[] = [];

  /** `limitFor` gives a channel's silence limit in ms, or 0 for channels without a cadence. */
  constructor(private readonly limitFor: (channel: string) => number) {}

  /** Starts watching `channel` from `now_ms` (at subscribe time), before any message. */
  arm(channel: string, now_ms: number): void {
    if (this.limitFor(channel) <= 0) return;
    this.lastSeen.set(channel, now_ms);
    this.unreport(channel);
  }

  /** Stops watching `channel` (unsubscribed). */
  forget(channel: string): void {
    this.lastSeen.delete(channel);
    this.unreport(channel);
  }

  seen(channel: string, now_ms: number): void {
    if (!this.lastSeen.has(channel)) return;
    this.lastSeen.set(channel, now_ms);
    this.unreport(channel);
  }

  /**
   * Channels reported stale that are no longer known to be silent since the last call: seen
   * again, armed afresh (a new connection; reported again if it stays silent) or forgotten.
   */
  takeResumed(): string[] {
    const out = this.resumedChannels;
    if (out.length > 0) this.resumedChannels = [];
    return out;
  }

  /** Whether every channel with a limit is silent past it: the connection, not one symbol, is starved. */
  allSilent(now_ms: number): boolean {
    if (this.lastSeen.size === 0) return false;
    for (const [channel, seen] of this.lastSeen) if (now_ms - seen < this.limitFor(channel)) return false;
    return true;
  }

  /** Channels silent past their limit and not reported since they were last seen. */
  stale(now_ms: number): string[] {
    const out: string[] = [];
    for (const [channel, seen] of this.lastSeen) {
      if (this.reported.has(channel)) continue;
      if (now_ms - seen >= this.limitFor(channel)) {
        this.reported.add(channel);
        out.push(channel);
      }
    }
    return out;
  }

  private unreport(channel: string): void {
    if (this.reported.delete(channel)) this.resumedChannels.push(channel);
  }

  clear(): void {
    this.lastSeen.clear();
    this.reported.clear();
    this.resumedChannels = [];
  }
}

/** How often stale channels are looked for, ms. */
const STALE_CHECK_MS = 1000;

/**
 * Checks `watchdog` every second: each channel that fell silent is reported (`silent` true), and
 * again when it delivers (`silent` false). The connection is reconnected (a `stale` gap) only
 * once every channel it watches is silent: one symbol's silent stream (a delisted or settled
 * instrument) is that symbol's failure, and must not cost every other symbol on the connection
 * a gap and its books a resync, once per silence limit. Returns the timer for `clearInterval`.
 */
export function watchStaleChannels(
  watchdog: ChannelWatchdog,
  onStale: (channel: string, silent: boolean) => void,
  reconnect: () => void,
): ReturnType<typeof setInterval> {
  return setInterval(() => {
    const now = Date.now();
    for (const channel of watchdog.takeResumed()) onStale(channel, false);
    const stale = watchdog.stale(now);
    for (const channel of stale) onStale(channel, true);
    if (stale.length > 0 && watchdog.allSilent(now)) reconnect();
  }, STALE_CHECK_MS);
}

/**
 * The channels of one ingest thread that are silent now, as per-symbol failures for `/stats`.
 * A channel names its symbol as the venue spells it (`btcusdt@markPrice@1s`,
 * `funding-rate:BTC-USDT-SWAP`, `deribit_volatility_index.btc_usd`): the failure goes to the
 * longest of the thread's native symbols the channel contains, or to the channel itself. A
 * symbol with several silent channels is one failure that names them all.
 */
export class SilentStreams {
  /** Silent channel -> its symbol and since when it is silent. */
  private readonly silent = new Map<string, { native: string; since_ms: number }>();

  /** `symbols`: the thread's native symbols now (an instrument refresh changes the array in place). */
  constructor(
    private readonly symbols: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  mark(channel: string, silent: boolean): void {
    if (!silent) {
      this.silent.delete(channel);
      return;
    }
    // Rare (once per silence), so the symbols are searched here rather than indexed.
    const lower = channel.toLowerCase();
    let native = channel;
    let length = 0;
    for (const s of this.symbols) {
      if (s.length > length && lower.includes(s.toLowerCase())) {
        native = s;
        length = s.length;
      }
    }
    this.silent.set(channel, { native, since_ms: this.now() });
  }

  /** Forgets the silent streams of `natives` (dropped by an instrument refresh). */
  drop(natives: ReadonlySet<string>): void {
    for (const [channel, { native }] of this.silent) if (natives.has(native)) this.silent.delete(channel);
  }

  failures(): SymbolFailure[] {
    const bySymbol = new Map<string, { channels: string[]; since_ms: number }>();
    for (const [channel, { native, since_ms }] of this.silent) {
      const entry = bySymbol.get(native);
      if (entry === undefined) bySymbol.set(native, { channels: [channel], since_ms });
      else {
        entry.channels.push(channel);
        entry.since_ms = Math.min(entry.since_ms, since_ms);
      }
    }
    return [...bySymbol].map(([native, { channels, since_ms }]) => ({
      native,
      kind: "stream_silent",
      detail: `${channels.join(", ")} silent past ${channels.length === 1 ? "its" : "their"} cadence`,
      attempts: 0,
      since_ms,
    }));
  }
}
