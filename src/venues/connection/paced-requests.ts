import { WindowLimiter } from "./window-limiter.ts";

/**
 * Runs requests one after another, at most `max` starts per `window_ms`: one connection at a
 * time and a bounded share of a venue's request budget (Deribit backfills, deribit/limits.ts).
 */
export class PacedRequests {
  private chain: Promise<void> = Promise.resolve();
  private readonly limiter: WindowLimiter;
  private stopped = false;

  constructor(max: number, window_ms: number) {
    this.limiter = new WindowLimiter(max, window_ms);
  }

  run(task: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      const wait_ms = this.limiter.delayMs(performance.now());
      if (wait_ms > 0) await Bun.sleep(wait_ms);
      if (this.stopped) return;
      this.limiter.take(performance.now());
      await task();
    });
  }

  /** Requests not started yet are dropped. */
  stop(): void {
    this.stopped = true;
  }
}
