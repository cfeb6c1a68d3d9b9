/**
 * REST GETs that obey the venue's rate limiter: a 429 (too many requests) or 418 (IP banned
 * after ignoring 429s, Binance) blocks every later request of this client until the
 * `Retry-After` deadline has passed, instead of hammering the venue into a longer ban.
 */

export type RestResult =
  | { readonly ok: true; readonly status: number; readonly body: string; readonly recv_ts_ms: number }
  | { readonly ok: false; readonly status: number; readonly error: string; readonly retry_after_ms: number };

export interface RestClientOptions {
  readonly timeout_ms: number;
  /** Block used when a 429/418 carries no usable Retry-After, ms. */
  readonly default_retry_after_ms: number;
  readonly now?: () => number;
}

/** Parses `Retry-After`: delta seconds or an HTTP date. Undefined when absent or malformed. */
export function parseRetryAfter(value: string | null, now_ms: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now_ms);
}

export class RestClient {
  requests = 0;
  rate_limited = 0;
  errors = 0;
  /** Until this time (ms) no request is sent. */
  blocked_until_ms = 0;
  private readonly now: () => number;
  private readonly abort = new AbortController();

  constructor(private readonly options: RestClientOptions) {
    this.now = options.now ?? Date.now;
  }

  async get(url: string): Promise<RestResult> {
    const wait = this.blocked_until_ms - this.now();
    if (wait > 0) await this.pause(wait);
    if (this.abort.signal.aborted) return { ok: false, status: 0, error: "stopped", retry_after_ms: 0 };
    this.requests++;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeout_ms)]) });
    } catch (error) {
      this.errors++;
      return { ok: false, status: 0, error: error instanceof Error ? error.message : String(error), retry_after_ms: 0 };
    }
    const body = await response.text().catch(() => "");
    const recv = this.now();
    if (response.status === 429 || response.status === 418) {
      this.rate_limited++;
      const after = parseRetryAfter(response.headers.get("retry-after"), recv) ?? this.options.default_retry_after_ms;
      this.blocked_until_ms = Math.max(this.blocked_until_ms, recv + after);
      return { ok: false, status: response.status, error: `rate limited: ${body.slice(0, 200)}`, retry_after_ms: after };
    }
    if (!response.ok) {
      this.errors++;
      return { ok: false, status: response.status, error: body.slice(0, 200), retry_after_ms: 0 };
    }
    return { ok: true, status: response.status, body, recv_ts_ms: recv };
  }

  /** Aborts requests in flight and any Retry-After wait. */
  stop(): void {
    this.abort.abort();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });
  }
}
