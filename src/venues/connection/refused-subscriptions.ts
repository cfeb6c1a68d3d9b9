import { retryMs, type SymbolFailure } from "./symbol-failure.ts";

/**
 * The subscriptions of one connection that the venue refused (OKX error 60018 for an instrument
 * it does not serve, a Deribit `public/subscribe` that errs or leaves a channel out of its
 * result), each listed under its symbol as a `subscribe_refused` failure until the venue accepts
 * it. The connection and its other subscriptions go on untouched.
 *
 * Refused subscriptions are asked for again together, in rounds: one round (one request on
 * OKX, where each spends one of the connection's 480 an hour) per retryMs(n) after the n-th,
 * 1 s doubling to 5 min, for as long as any subscription stays refused. So a refusal that lasts
 * costs 12 requests an hour at most, whatever the number of symbols refused, and one that
 * comes while the rounds are slow waits for the next round. A round of a connection that cannot
 * send (closed, or out of requests) is skipped by the connection; the failures stay listed and
 * the next round tries again. A new connection subscribes everything anyway, so the round
 * waiting then is dropped (`reopened`).
 */

interface Refused {
  readonly native: string;
  /** The venue's answer: code and message, or what was missing from it. */
  readonly answer: string;
  readonly attempts: number;
  /** The first refusal since the venue last accepted the subscription, and the latest (Date.now() ms). */
  readonly since_ms: number;
  readonly last_ms: number;
}

export class RefusedSubscriptions {
  /** Refused subscription key (the connection's name for one channel of one symbol) -> its refusal. */
  private readonly refused = new Map<string, Refused>();
  /** Rounds since nothing was refused: the next one waits retryMs(round + 1). */
  private round = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `retry` subscribes the given keys again; `now` is Date.now() ms. */
  constructor(
    private readonly retry: (keys: ReadonlySet<string>) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any subscription is refused now (the hot path's check before looking for an ack). */
  get any(): boolean {
    return this.refused.size > 0;
  }

  /** The venue refused subscription `key` of `native` with `answer`: listed, and asked for again in the next round. */
  refuse(key: string, native: string, answer: string): void {
    const before = this.refused.get(key);
    const now = this.now();
    this.refused.set(key, { native, answer, attempts: (before?.attempts ?? 0) + 1, since_ms: before?.since_ms ?? now, last_ms: now });
    this.schedule();
  }

  /** The venue accepted subscription `key`; true when it had been refused (its failure ends). */
  accepted(key: string): boolean {
    if (!this.refused.delete(key)) return false;
    if (this.refused.size === 0) this.rest();
    return true;
  }

  /** Keys no longer subscribed (an instrument refresh dropped their symbol): never asked for again. */
  forget(keys: Iterable<string>): void {
    for (const key of keys) this.refused.delete(key);
    if (this.refused.size === 0) this.rest();
  }

  /** A new connection subscribes every key again, refused ones included: the waiting round is dropped; the failures stay until the venue answers. */
  reopened(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * One failure per symbol: its refused channels and the venue's latest answer, the most
   * attempts of any of them, since the first was refused.
   */
  failures(): SymbolFailure[] {
    const bySymbol = new Map<string, { keys: string[]; latest: Refused; attempts: number; since_ms: number }>();
    for (const [key, r] of this.refused) {
      const entry = bySymbol.get(r.native);
      if (entry === undefined) {
        bySymbol.set(r.native, { keys: [key], latest: r, attempts: r.attempts, since_ms: r.since_ms });
        continue;
      }
      entry.keys.push(key);
      if (r.last_ms >= entry.latest.last_ms) entry.latest = r;
      entry.attempts = Math.max(entry.attempts, r.attempts);
      entry.since_ms = Math.min(entry.since_ms, r.since_ms);
    }
    return [...bySymbol].map(([native, { keys, latest, attempts, since_ms }]) => ({
      native,
      kind: "subscribe_refused",
      detail: `${keys.join(", ")}: ${latest.answer}`,
      attempts,
      since_ms,
    }));
  }

  stop(): void {
    this.rest();
    this.refused.clear();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.round++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.refused.size === 0) return;
      this.retry(new Set(this.refused.keys()));
      // The next round is set now, not when the answers come: a venue that answers nothing to
      // a retry still gets asked again, later each time.
      this.schedule();
    }, retryMs(this.round));
  }

  /** Nothing refused any more: no round waits, and the next refusal is retried after RETRY_INITIAL_MS again. */
  private rest(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.round = 0;
  }
}
