import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { redactUrlCredentials } from "../log/redact.ts";
import { configSchema, type Config } from "./schema.ts";
import { SECRET_CONFIG_KEYS } from "./secrets.ts";

export const DEFAULT_CONFIG_PATH = join(dirname(fileURLToPath(import.meta.url)), "../../config/default.yaml");

/** A configuration that cannot be used; the message names the key, the value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Plain = { [key: string]: unknown };

function isPlain(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep-merges `over` onto `base`: objects merge key by key, everything else replaces. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlain(base) || !isPlain(over)) return over === undefined ? base : over;
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = mergeConfig(base[key], value);
  return out;
}

function readYaml(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`config file ${path} cannot be read: ${(cause as Error).message}`, { cause });
  }
  try {
    return parseYaml(text) ?? {};
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
}

/** Which environment variable set each key path (`http.host` → `SPECTRA__HTTP__HOST`), to name it in errors. */
type EnvSources = ReadonlyMap<string, string>;

function fromEnv(path: string, sources: EnvSources): string {
  const name = sources.get(path);
  return name === undefined ? "" : ` (set by ${name})`;
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown, sources: EnvSources = new Map()): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const where = path === "" ? "the top level" : `'${path}'`;
    const keys = issue.keys.map((k) => `'${k}'${fromEnv(path === "" ? k : `${path}.${k}`, sources)}`);
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${keys.join(", ")} in ${where}`;
  }
  let value: unknown = root;
  for (const key of issue.path) value = isPlain(value) || Array.isArray(value) ? (value as Plain)[key as string] : undefined;
  // A secret key's value is never repeated, and a URL's credentials are masked.
  const secret = SECRET_CONFIG_KEYS.some(([section, key]) => path === `${section}.${key}`);
  const shown = secret ? (typeof value === "string" ? "(a string, not shown)" : `(a ${typeof value})`) : redactUrlCredentials(JSON.stringify(value) ?? "(missing)");
  return `'${path}' = ${shown}: ${issue.message}${fromEnv(path, sources)}`;
}

/** Validates an already-merged config object; `sources` names the variables that set key paths. */
export function validateConfig(raw: unknown, sources: EnvSources = new Map()): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => describeIssue(issue, raw, sources));
  throw new ConfigError(`invalid configuration: ${lines.join("; ")}`);
}

/**
 * Environment variables that win over the config files: the named ones below, and any key path
 * as `SPECTRA__<SECTION>__<KEY>…` (`SPECTRA__HTTP__HOST=0.0.0.0` sets `http.host`), whose value
 * is read as a YAML scalar or flow list (`3`, `true`, `[BTCUSDT, ETHUSDT]`), so containers can set
 * any key without a config file.
 */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** The prefix of key-path variables; `__` separates the path's parts. */
export const KEY_PATH_ENV_PREFIX = "SPECTRA__";

/** The named environment variables, each with the key path it sets. */
export const NAMED_ENV_KEYS: Readonly<Record<string, string>> = {
  NATS_URL: "nats.url",
  CLICKHOUSE_URL: "clickhouse.url",
  CLICKHOUSE_USER: "clickhouse.user",
  CLICKHOUSE_PASSWORD: "clickhouse.password",
  SPECTRA_TIERING_COLD_PASSWORD: "tiering.cold_password",
  SPECTRA_HTTP_TOKEN: "http.auth_token",
  SPECTRA_LOG_LEVEL: "log.level",
  SPECTRA_HTTP_PORT: "http.port",
  SPECTRA_DATA_DIR: "engine.data_dir",
};

/** The key path a `SPECTRA__…` variable sets (`SPECTRA__NATS__STREAM__REPLICAS` → `nats.stream.replicas`), or null for any other name. */
export function keyPathOfEnv(name: string): string | null {
  if (!name.startsWith(KEY_PATH_ENV_PREFIX)) return null;
  const parts = name.slice(KEY_PATH_ENV_PREFIX.length).toLowerCase().split("__");
  return parts.some((p) => p === "") ? null : parts.join(".");
}

function valueAt(root: unknown, path: string): unknown {
  let at = root;
  for (const part of path.split(".")) at = isPlain(at) ? at[part] : undefined;
  return at;
}

/**
 * A key-path variable's value: YAML, so numbers, booleans and lists come through typed, except
 * where the key holds text (`SPECTRA__CLICKHOUSE__PASSWORD=123456` stays the string "123456").
 */
function keyPathValue(text: string, current: unknown): unknown {
  if (typeof current === "string") return text;
  try {
    return parseYaml(text) ?? "";
  } catch {
    // Not YAML (an unbalanced bracket): the text itself is the value, which validation judges.
    return text;
  }
}

function setPath(target: Plain, path: string, value: unknown): void {
  const parts = path.split(".");
  let at = target;
  for (const part of parts.slice(0, -1)) {
    const next = at[part];
    at = isPlain(next) ? next : (at[part] = {});
  }
  at[parts[parts.length - 1] as string] = value;
}

/** Key-path variables over `base` (the config so far), in name order, so overlapping paths resolve the same way every time. */
function keyPathOverrides(env: ConfigEnv, base: unknown, sources: Map<string, string>): Plain {
  const over: Plain = {};
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    const path = keyPathOfEnv(name);
    if (path === null || text === undefined) continue;
    setPath(over, path, keyPathValue(text, valueAt(base, path)));
    sources.set(path, name);
  }
  return over;
}

/** The named variables: their text as it is (a password of digits stays a string), a port as a number. */
function namedOverrides(env: ConfigEnv, sources: Map<string, string>): Plain {
  const over: Plain = {};
  for (const [name, path] of Object.entries(NAMED_ENV_KEYS)) {
    const text = env[name];
    if (text === undefined) continue;
    const port = Number(text);
    // Keep the text when it is not a number so validation names the bad value.
    setPath(over, path, path === "http.port" && text.trim() !== "" && Number.isFinite(port) ? port : text);
    sources.set(path, name);
  }
  return over;
}

export interface LoadOptions {
  /** User config file merged over the defaults. */
  file?: string;
  /** Overrides from the command line (e.g. --data-dir), applied after the file, before env. */
  overrides?: unknown;
  env?: ConfigEnv;
}

/** Loads defaults, the user file, CLI overrides and the environment, then validates. */
export function loadConfig(options: LoadOptions = {}): Config {
  let merged = readYaml(DEFAULT_CONFIG_PATH);
  if (options.file !== undefined) {
    const user = readYaml(options.file);
    if (!isPlain(user)) throw new ConfigError(`config file ${options.file} must hold a mapping of keys, not ${JSON.stringify(user)}`);
    merged = mergeConfig(merged, user);
  }
  if (options.overrides !== undefined) merged = mergeConfig(merged, options.overrides);
  const env: ConfigEnv = options.env ?? process.env;
  const sources = new Map<string, string>();
  merged = mergeConfig(merged, keyPathOverrides(env, merged, sources));
  merged = mergeConfig(merged, namedOverrides(env, sources));
  return validateConfig(merged, sources);
}

/** Loads the defaults alone, merged with `overrides` (for tests and tools). */
export function configWith(overrides: unknown = {}): Config {
  return loadConfig({ overrides, env: {} });
}
