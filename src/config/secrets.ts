import type { Config } from "./schema.ts";

/**
 * Config keys that hold secrets. Each can come from the environment (src/config/load.ts) and
 * is masked in logs, `/stats`, `/health` and error messages (src/log/redact.ts); a new secret
 * key only needs a line here (and its env variable in load.ts).
 */
export const SECRET_CONFIG_KEYS: readonly (readonly [section: string, key: string])[] = [
  ["clickhouse", "password"],
  ["tiering", "cold_password"],
  ["http", "auth_token"],
  ["nats", "password"],
  ["nats", "token"],
];

/** Config keys holding URLs, or lists of them, that may carry credentials (`scheme://user:pass@host`). */
const URL_CONFIG_KEYS: readonly (readonly [section: string, key: string])[] = [
  ["clickhouse", "url"],
  ["nats", "servers"],
  ["tiering", "cold_url"],
];

function valueAt(config: Config, [section, key]: readonly [string, string]): unknown {
  const block = (config as unknown as Record<string, Record<string, unknown> | undefined>)[section];
  return block?.[key];
}

/**
 * Environment variables whose values are secrets wherever they are read (the OKX API key,
 * secret and passphrase of src/venues/okx/requests.ts, the env forms of the keys above): any
 * name ending in one of these words.
 */
const SECRET_ENV_NAME = /(?:^|_)(?:PASSWORD|PASSPHRASE|SECRET|TOKEN|API_KEY)$/;

/**
 * The secret values in `config` (passwords and tokens, and the password inside URLs) and in
 * `env` (variables named like secrets). Every thread registers them (src/log/redact.ts keeps
 * them per thread): the supervisor and each worker.
 */
export function secretValues(config: Config, env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const values: string[] = [];
  for (const [name, v] of Object.entries(env)) {
    if (SECRET_ENV_NAME.test(name) && v !== undefined && v !== "") values.push(v);
  }
  for (const path of SECRET_CONFIG_KEYS) {
    const v = valueAt(config, path);
    if (typeof v === "string" && v !== "") values.push(v);
  }
  for (const path of URL_CONFIG_KEYS) {
    const v = valueAt(config, path);
    for (const text of Array.isArray(v) ? v : [v]) {
      if (typeof text !== "string" || text === "") continue;
      try {
        const u = new URL(text);
        if (u.password !== "") values.push(...new Set([decodeURIComponent(u.password), u.password]));
      } catch {
        // Not a URL: nothing inside it to find; the schema has refused it already.
      }
    }
  }
  return values;
}

/** pino `redact` paths for the secret keys: the key at the top of a log object, one level down, and under `config`. */
export function secretLogPaths(): string[] {
  return SECRET_CONFIG_KEYS.flatMap(([section, key]) => [key, `*.${key}`, `${section}.${key}`, `config.${section}.${key}`]).concat([
    "authorization",
    "headers.authorization",
    "*.headers.authorization",
  ]);
}
