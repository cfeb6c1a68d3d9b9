import { createHmac } from "node:crypto";
import { WindowLimiter } from "../connection/window-limiter.ts";
import type { VenueConfig, VenueKey } from "../../config/schema.ts";
import { okxBookChannel, type OkxSubscribeArg } from "./channels.ts";
import { HOUR_MS, needsLogin, OKX_MAX_REQUEST_BYTES, OKX_REQUESTS_PER_HOUR } from "./limits.ts";

/**
 * The requests an OKX connection sends (https://www.okx.com/docs-v5/en/#overview-websocket-subscribe,
 * https://www.okx.com/docs-v5/en/#overview-websocket-login) and the hourly budget they draw on.
 */

/**
 * `{"op", "args"}` frames holding every arg, each at most `max_bytes` long (OKX refuses a
 * subscribe request over 64 KB). Fewer frames spend less of the hourly request budget, so each
 * frame takes as many args as fit. An arg too long for a frame alone is an error in the caller.
 */
export function okxRequestFrames(op: "subscribe" | "unsubscribe", args: readonly OkxSubscribeArg[], max_bytes = OKX_MAX_REQUEST_BYTES): string[] {
  const head = `{"op":"${op}","args":[`;
  // Bytes of a frame besides its args: the head and the closing `]}`.
  const base = head.length + 2;
  const frames: string[] = [];
  let parts: string[] = [];
  let used = 0;
  for (const arg of args) {
    const text = JSON.stringify(arg);
    const len = Buffer.byteLength(text);
    if (base + len > max_bytes) throw new RangeError(`OKX subscribe arg of ${len} bytes cannot fit a ${max_bytes}-byte request`);
    if (parts.length > 0 && base + used + 1 + len > max_bytes) {
      frames.push(`${head}${parts.join(",")}]}`);
      parts = [];
      used = 0;
    }
    used += (parts.length > 0 ? 1 : 0) + len;
    parts.push(text);
  }
  if (parts.length > 0) frames.push(`${head}${parts.join(",")}]}`);
  return frames;
}

/**
 * One connection's subscribe/unsubscribe/login requests of the last hour (OKX allows 480). A
 * new connection starts a new budget.
 */
export class OkxRequestBudget {
  private window = new WindowLimiter(OKX_REQUESTS_PER_HOUR, HOUR_MS);

  constructor(private readonly now: () => number = performance.now.bind(performance)) {}

  /** Requests left in the hour. */
  left(): number {
    return OKX_REQUESTS_PER_HOUR - this.window.inWindow(this.now());
  }

  /** Records `n` requests sent now; false (nothing recorded) when fewer than `n` are left. */
  spend(n: number): boolean {
    if (n > this.left()) return false;
    const now = this.now();
    for (let i = 0; i < n; i++) this.window.take(now);
    return true;
  }

  reset(): void {
    this.window = new WindowLimiter(OKX_REQUESTS_PER_HOUR, HOUR_MS);
  }
}

export interface OkxCredentials {
  readonly api_key: string;
  readonly secret: string;
  readonly passphrase: string;
}

/** Environment variables holding the OKX API key (secrets come from the environment, SPEC 14). */
export const OKX_CREDENTIAL_ENV = ["OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"] as const;

/** The credentials in `env`, or undefined unless all three are set. */
export function okxCredentials(env: Readonly<Record<string, string | undefined>>): OkxCredentials | undefined {
  const [api_key, secret, passphrase] = OKX_CREDENTIAL_ENV.map((k) => env[k] ?? "");
  if (!api_key || !secret || !passphrase) return undefined;
  return { api_key, secret, passphrase };
}

/** `{"op":"login"}`: sign = Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")). */
export function okxLoginFrame(c: OkxCredentials, now_ms: number): string {
  const timestamp = String(Math.floor(now_ms / 1000));
  const sign = createHmac("sha256", c.secret).update(`${timestamp}GET/users/self/verify`).digest("base64");
  return JSON.stringify({ op: "login", args: [{ apiKey: c.api_key, passphrase: c.passphrase, timestamp, sign }] });
}

/** A config error when `venues.<venue>.book_channel` needs a login and `env` has no credentials. */
export function okxLoginConfigErrors(venue: VenueKey, config: VenueConfig, env: Readonly<Record<string, string | undefined>>): string[] {
  const channel = okxBookChannel(config);
  if (!config.data_types.includes("orderbook") || !needsLogin(channel) || okxCredentials(env) !== undefined) return [];
  return [
    `'venues.${venue}.book_channel' = "${channel}" needs an OKX login: set ${OKX_CREDENTIAL_ENV.join(", ")} in the environment, or use "books" (public)`,
  ];
}
