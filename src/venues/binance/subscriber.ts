import { WindowLimiter } from "../connection/window-limiter.ts";

/**
 * Binance SUBSCRIBE requests for one connection, paced under the venue's incoming-message limit
 * (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams, "Live
 * Subscribing/Unsubscribing to streams";
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams).
 *
 * Streams are subscribed with requests, not put in the URL: a URL with 1024 streams is ~25 KB,
 * past the 8 KB request line many proxies accept, and the requests' replies tell when the
 * connection is up (every stream subscribed), which the rollover waits for. A request carries at
 * most SUBSCRIBE_BATCH streams, so 1024 streams take 6 requests: 2 s at spot's pace.
 */

/** Streams per SUBSCRIBE request: Binance states no bound; 200 keeps a request near 6 KB. */
export const SUBSCRIBE_BATCH = 200;

/**
 * Incoming messages per second left unused by SUBSCRIBE requests: the venue counts the pongs
 * Bun sends for its pings (every 20 s on spot, 3 min on USDⓈ-M) in the same limit, and our
 * one-second window and the server's are measured at different ends of the socket.
 */
export const PONG_HEADROOM_PER_S = 2;

/** What a non-stream frame says: a request's reply, the server's shutdown notice, or nothing known. */
export type BinanceControl =
  | { readonly kind: "reply"; readonly id: number; readonly error: string | undefined }
  | { readonly kind: "shutdown" }
  | { readonly kind: "other" };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads a frame that is not a combined-stream event: `{"result":…,"id":n}`,
 * `{"error":{"code":…,"msg":…},"id":n}`, or `serverShutdown` (`{"e":"serverShutdown",…}`, or
 * wrapped in `"event"` as the WebSocket API sends it).
 */
export function parseControl(text: string): BinanceControl {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: "other" };
  }
  if (!isRecord(msg)) return { kind: "other" };
  const event = isRecord(msg.event) ? msg.event : msg;
  if (event.e === "serverShutdown") return { kind: "shutdown" };
  if (typeof msg.id === "number" && ("result" in msg || "error" in msg)) {
    const error = isRecord(msg.error) ? `${String(msg.error.code)} ${String(msg.error.msg)}` : undefined;
    return { kind: "reply", id: msg.id, error };
  }
  return { kind: "other" };
}

export class BinanceSubscriber {
  /** SUBSCRIBE requests sent since the subscriber was made (every connection of it). */
  requests = 0;
  /** The most requests one connection of this subscriber sent within one second. */
  peak_per_s = 0;
  /** True once every request of the current connection's opening subscription has its reply. */
  subscribed = false;
  /** Streams subscribed on every open, changed by `add` and `remove`. */
  private readonly streams: string[];
  /** Requests waiting for the pace, in order. */
  private queue: { readonly method: "SUBSCRIBE" | "UNSUBSCRIBE"; readonly params: readonly string[] }[] = [];
  /** Requests of the opening subscription not yet sent; their ids wait in `pending` for replies. */
  private openingLeft = 0;
  /** Between `start` (open) and `stop` (closed). */
  private live = false;
  /** Requests a second this subscriber sends; halved by each 1008 close. */
  rate_per_s: number;
  /** One request per 1000 / rate_per_s ms. */
  private limiter: WindowLimiter;
  /** The current connection's requests of the last second, for `peak_per_s`. */
  private lastSecond: WindowLimiter;
  private seq = 0;
  private readonly pending = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `per_s` is the venue's incoming-message limit; requests go at `per_s - PONG_HEADROOM_PER_S`
   * a second (at least one), evenly spaced. Requests sent in a burst at the start of each of our
   * seconds arrive as two bursts less than a second apart whenever the first one is delayed more
   * than the second on its way (or in the server's queue), and the server counts both in one
   * second: evenly spaced, a whole interval of delay is needed before two requests count in the
   * same second of the venue's.
   */
  constructor(
    streams: readonly string[],
    private readonly per_s: number,
    private readonly send: (text: string) => void,
    private readonly onSubscribed: () => void,
  ) {
    this.streams = [...streams];
    this.rate_per_s = Math.max(1, per_s - PONG_HEADROOM_PER_S);
    this.limiter = this.newLimiter();
    this.lastSecond = new WindowLimiter(per_s, 1000);
  }

  /** On every open: the server starts each connection with no subscriptions and a fresh count. */
  start(): void {
    this.stop();
    this.limiter = this.newLimiter();
    this.lastSecond = new WindowLimiter(this.per_s, 1000);
    this.subscribed = false;
    this.pending.clear();
    this.queue = [];
    this.live = true;
    this.enqueue("SUBSCRIBE", this.streams);
    this.openingLeft = this.queue.length;
    this.sendDue();
  }

  stop(): void {
    this.live = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Subscribes `streams` now if the connection is open, and on every later open. */
  add(streams: readonly string[]): void {
    const fresh = streams.filter((s) => !this.streams.includes(s));
    this.streams.push(...fresh);
    if (this.live && fresh.length > 0) {
      this.enqueue("SUBSCRIBE", fresh);
      if (this.timer === undefined) this.sendDue();
    }
  }

  /** Unsubscribes `streams` now if the connection is open; later opens leave them out. */
  remove(streams: readonly string[]): void {
    const gone = new Set(streams);
    const removed = this.streams.filter((s) => gone.has(s));
    this.streams.splice(0, this.streams.length, ...this.streams.filter((s) => !gone.has(s)));
    if (this.live && removed.length > 0) {
      this.enqueue("UNSUBSCRIBE", removed);
      if (this.timer === undefined) this.sendDue();
    }
  }

  /** A reply to request `id` (an error reply ends the request too: its streams stay away). */
  reply(id: number): void {
    if (!this.pending.delete(id)) return;
    if (this.openingLeft === 0 && this.pending.size === 0 && !this.subscribed) {
      this.subscribed = true;
      this.onSubscribed();
    }
  }

  private enqueue(method: "SUBSCRIBE" | "UNSUBSCRIBE", streams: readonly string[]): void {
    for (let i = 0; i < streams.length; i += SUBSCRIBE_BATCH) this.queue.push({ method, params: streams.slice(i, i + SUBSCRIBE_BATCH) });
  }

  /**
   * After a 1008 close the venue counted more than our pace allows for (pongs bunched, or a lower
   * limit than documented): the next connections send at half the rate, at least one a second.
   */
  slowDown(): void {
    this.rate_per_s = Math.max(1, Math.floor(this.rate_per_s / 2));
  }

  private newLimiter(): WindowLimiter {
    return new WindowLimiter(1, 1000 / this.rate_per_s);
  }

  private sendDue(): void {
    this.timer = undefined;
    while (this.queue.length > 0) {
      const wait_ms = this.limiter.delayMs(performance.now());
      if (wait_ms > 0) {
        this.timer = setTimeout(() => this.sendDue(), wait_ms);
        return;
      }
      const now = performance.now();
      this.limiter.take(now);
      this.lastSecond.take(now);
      this.peak_per_s = Math.max(this.peak_per_s, this.lastSecond.inWindow(now));
      const id = ++this.seq;
      const request = this.queue.shift() as (typeof this.queue)[number];
      // Only the opening subscription's replies are awaited (they tell the rollover it is up).
      if (this.openingLeft > 0) {
        this.openingLeft--;
        this.pending.add(id);
      }
      this.requests++;
      this.send(JSON.stringify({ method: request.method, params: request.params, id }));
    }
  }
}
