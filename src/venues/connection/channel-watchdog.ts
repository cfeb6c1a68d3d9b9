/**
 * Staleness per channel: each channel has a silence limit sized to its cadence (a 1 s mark
 * price stream is stale after a few seconds; a trade stream of a quiet symbol never is, so it
 * gets no limit). A channel is reported once per silence; seeing it again re-arms it.
 */
export class ChannelWatchdog {
  private readonly lastSeen = new Map<string, number>();
  private readonly reported = new Set<string>();

  /** `limitFor` gives a channel's silence limit in ms, or 0 for channels without a cadence. */
  constructor(private readonly limitFor: (channel: string) => number) {}

  /** Starts watching `channel` from `now_ms` (at subscribe time), before any message. */
  arm(channel: string, now_ms: number): void {
    if (this.limitFor(channel) <= 0) return;
    this.lastSeen.set(channel, now_ms);
    this.reported.delete(channel);
  }

  /** Stops watching `channel` (unsubscribed). */
  forget(channel: string): void {
    this.lastSeen.delete(channel);
    this.reported.delete(channel);
  }

  seen(channel: string, now_ms: number): void {
    if (!this.lastSeen.has(channel)) return;
    this.lastSeen.set(channel, now_ms);
    this.reported.delete(channel);
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

  clear(): void {
    this.lastSeen.clear();
    this.reported.clear();
  }
}

/** How often stale channels are looked for, ms. */
const STALE_CHECK_MS = 1000;

/**
 * Checks `watchdog` every second; each stale channel is reported and its connection is
 * reconnected (a `stale` gap). Returns the timer for `clearInterval` on stop.
 */
export function watchStaleChannels(
  watchdog: ChannelWatchdog,
  onStale: (channel: string) => void,
  reconnect: () => void,
): ReturnType<typeof setInterval> {
  return setInterval(() => {
    for (const channel of watchdog.stale(Date.now())) {
      onStale(channel);
      reconnect();
    }
  }, STALE_CHECK_MS);
}
