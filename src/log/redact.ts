/**
 * Keeps secrets out of everything the engine shows: log lines, `/stats`, `/health`, error
 * messages. Two mechanisms, both generic:
 * - credentials inside URLs (`nats://user:pass@host`, `http://u:p@ch:8123`) and secret-looking
 *   query parameters (`?password=…`) are masked wherever they appear;
 * - secret values registered at start (`registerSecrets`, fed from the config keys listed in
 *   src/config/secrets.ts) are masked wherever they appear, also JSON-escaped, so a password
 *   echoed inside a ClickHouse error or a SQL text is caught too.
 */

export const REDACTED = "***";

/** `scheme://userinfo@`: everything between `//` and the `@` before the host is a credential. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"`<>]*@/gi;

/** Query parameters that carry credentials. */
const SECRET_PARAMS = /([?&](?:password|passwd|pass|pwd|token|auth_token|access_token|secret|api_key|apikey|key)=)[^&#\s"'`<>]*/gi;

/**
 * Values shorter than this are not masked by value: masking every "ab" in every log line would
 * garble the logs and tell a reader the password anyway. URL credentials are masked at any length.
 */
export const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();

/** Masks `values` (the secrets themselves, not their names) from now on in this thread. */
export function registerSecrets(values: Iterable<string>): void {
  for (const value of values) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    secrets.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) secrets.add(escaped);
  }
}

/** Credentials in URLs masked: `nats://***@host:4222`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, `$1${REDACTED}@`).replace(SECRET_PARAMS, `$1${REDACTED}`);
}

/** `text` with URL credentials and every registered secret masked. */
export function redactSecrets(text: string): string {
  let out = redactUrlCredentials(text);
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
