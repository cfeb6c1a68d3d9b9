import { Backoff, type BackoffOptions } from "./backoff.ts";
import type { GapCause } from "../../records/types.ts";
import type { WindowLimiter } from "./window-limiter.ts";

/**
 * One reconnecting WebSocket over Bun's built-in client. It owns reconnects (exponential
 * backoff with jitter), an application-level heartbeat for venues that need one (OKX "ping",
 * sent only after silence), and a silence deadline. A lost connection is not an exception:
 * when data flows again the client reports the hole as a `WsGap` (start = last message before,
 * end = first message after), which the ingest layer turns into `gap` records.
 */

export interface WsGap {
  readonly start_ts_ms: number;
  readonly end_ts_ms: number;
  readonly cause: GapCause;
}

export interface WsHeartbeat {
  /**
   * Ms after which `message` is sent when nothing arrived, or nothing was sent, for that long
   * (OKX closes a connection idle for 30 s, and the simulator reads that as client silence).
   */
  readonly idle_ms: number;
  readonly message: string;
  /** Ms to wait for any message after the heartbeat before reconnecting. */
  readonly timeout_ms: number;
}

export interface WsClientOptions {
  /** Evaluated on each connect, so a shard can change its stream list between connects. */
  readonly url: () => string;
  readonly backoff: BackoffOptions;
  /** Called on every open, first and after each reconnect: send subscriptions here. */
  readonly onOpen: (client: WsClient) => void;
  readonly onMessage: (text: string, recv_ts_ms: number) => void;
  readonly onGap?: (gap: WsGap) => void;
  /**
   * Called when a connection is lost, with the close code and reason (1008 = the venue's
   * message-rate limit); a client stopped here does not reconnect.
   */
  readonly onDisconnect?: (recv_ts_ms: number, code: number, reason: string) => void;
  /**
   * Called when `silence_ms` passed without a message, or a heartbeat went unanswered, before
   * the `stale` reconnect.
   */
  readonly onSilence?: (silent_ms: number) => void;
  readonly heartbeat?: WsHeartbeat;
  /** Reconnect when nothing at all arrived for this long, ms (0 = never). */
  readonly silence_ms?: number;
  readonly now?: () => number;
  /**
   * Connection attempts of every client sharing it stay within its window (the venue's
   * connection-attempt limit per IP); a connect that would pass it waits.
   */
  readonly connect_limiter?: WindowLimiter;
}

export type WsState = "connecting" | "open" | "waiting" | "stopped";

const decoder = new TextDecoder();

export class WsClient {
  state: WsState = "waiting";
  reconnects = 0;
  messages = 0;
  last_message_ms = 0;
  private socket: WebSocket | undefined;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private pendingGap: GapCause | undefined;
  private gapStartMs = 0;
  private lastActivityMs = 0;
  private heartbeatSentMs = 0;
  private lastSentMs = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private closed: (() => void) | undefined;
  private forced = false;

  constructor(private readonly options: WsClientOptions) {
    this.backoff = new Backoff(options.backoff);
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.state !== "waiting") return;
    this.connect();
    const hb = this.options.heartbeat;
    const silence = this.options.silence_ms ?? 0;
    const period = Math.max(10, Math.min(hb ? hb.idle_ms / 4 : Infinity, silence > 0 ? silence / 4 : Infinity, 1000));
    if (hb || silence > 0) this.tickTimer = setInterval(() => this.tick(), period);
  }

  send(text: string): void {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(text);
      this.lastSentMs = this.now();
    }
  }

  /** Drops the connection and reconnects at once; the hole is reported with `cause`. */
  reconnect(cause: GapCause): void {
    if (this.state === "stopped") return;
    this.pendingGap ??= cause;
    this.forced = true;
    if (this.socket) this.socket.close(4000, cause);
    else if (this.state === "waiting") {
      clearTimeout(this.reconnectTimer);
      this.connect();
    }
  }

  /** Closes the socket and stops reconnecting; resolves once the socket is closed. */
  stop(): Promise<void> {
    this.state = "stopped";
    clearTimeout(this.reconnectTimer);
    clearInterval(this.tickTimer);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.closed = resolve;
      socket.close(1000, "stop");
    });
  }

  private connect(): void {
    const limiter = this.options.connect_limiter;
    if (limiter !== undefined) {
      const wait_ms = limiter.delayMs(performance.now());
      if (wait_ms > 0) {
        this.state = "waiting";
        this.reconnectTimer = setTimeout(() => this.connect(), wait_ms);
        return;
      }
      limiter.take(performance.now());
    }
    this.state = "connecting";
    const socket = new WebSocket(this.options.url());
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.state = "open";
      this.lastActivityMs = this.now();
      this.lastSentMs = this.lastActivityMs;
      this.heartbeatSentMs = 0;
      this.options.onOpen(this);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      const recv = this.now();
      const data: unknown = event.data;
      const text = typeof data === "string" ? data : data instanceof ArrayBuffer ? decoder.decode(new Uint8Array(data)) : String(data);
      this.messages++;
      this.lastActivityMs = recv;
      this.heartbeatSentMs = 0;
      if (this.pendingGap !== undefined) {
        const cause = this.pendingGap;
        this.pendingGap = undefined;
        this.backoff.reset();
        const start = this.gapStartMs;
        this.gapStartMs = 0;
        this.options.onGap?.({ start_ts_ms: start, end_ts_ms: recv, cause });
      }
      this.last_message_ms = recv;
      this.options.onMessage(text, recv);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.state === "stopped") {
        this.closed?.();
        return;
      }
      const now = this.now();
      if (this.gapStartMs === 0) this.gapStartMs = this.last_message_ms || now;
      this.pendingGap ??= "reconnect";
      this.reconnects++;
      this.state = "waiting";
      this.options.onDisconnect?.(now, event.code, event.reason);
      if (this.stopped()) return;
      // A reconnect we asked for goes at once; one the network forced backs off with jitter.
      const delay = this.forced ? 0 : this.backoff.next();
      this.forced = false;
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    };
  }

  private tick(): void {
    if (this.state !== "open") return;
    const now = this.now();
    const silentFor = now - this.lastActivityMs;
    const hb = this.options.heartbeat;
    if (hb) {
      if (this.heartbeatSentMs === 0 && (silentFor >= hb.idle_ms || now - this.lastSentMs >= hb.idle_ms)) {
        this.heartbeatSentMs = now;
        this.send(hb.message);
      } else if (this.heartbeatSentMs !== 0 && now - this.heartbeatSentMs >= hb.timeout_ms) {
        this.options.onSilence?.(silentFor);
        this.reconnect("stale");
        return;
      }
    }
    const silence = this.options.silence_ms ?? 0;
    if (silence > 0 && silentFor >= silence) {
      this.options.onSilence?.(silentFor);
      this.reconnect("stale");
    }
  }

  /** `state` read through a call, so the compiler does not narrow it across callbacks that stop the client. */
  private stopped(): boolean {
    return this.state === "stopped";
  }
}
