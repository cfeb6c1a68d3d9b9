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

function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const where = path === "" ? "the top level" : `'${path}'`;
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")} in ${where}`;
  }
  let value: unknown = root;
  for (const key of issue.path) value = isPlain(value) || Array.isArray(value) ? (value as Plain)[key as string] : undefined;
  // A secret key's value is never repeated, and a URL's credentials are masked.
  const secret = SECRET_CONFIG_KEYS.some(([section, key]) => path === `${section}.${key}`);
  const shown = secret ? (typeof value === "string" ? "(a string, not shown)" : `(a ${typeof value})`) : redactUrlCredentials(JSON.stringify(value) ?? "(missing)");
  return `'${path}' = ${shown}: ${issue.message}`;
}

/** Validates an already-merged config object. */
export function validateConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => describeIssue(issue, raw));
  throw new ConfigError(`invalid configuration: ${lines.join("; ")}`);
}

/** Environment variables that win over the config files. */
export interface ConfigEnv {
  /** NATS servers, comma-separated. */
  NATS_URL?: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  /** Path of a NATS credentials file. */
  NATS_CREDS?: string;
  CLICKHOUSE_URL?: string;
  CLICKHOUSE_USER?: string;
  CLICKHOUSE_PASSWORD?: string;
  SPECTRA_TIERING_COLD_PASSWORD?: string;
  SPECTRA_HTTP_TOKEN?: string;
  SPECTRA_LOG_LEVEL?: string;
  SPECTRA_HTTP_PORT?: string;
  SPECTRA_DATA_DIR?: string;
}

function envOverrides(env: ConfigEnv): Plain {
  const over: Plain = {};
  const section = (name: string): Plain => {
    const existing = over[name];
    if (isPlain(existing)) return existing;
    const created: Plain = {};
    over[name] = created;
    return created;
  };
  if (env.NATS_URL !== undefined) section("nats").servers = env.NATS_URL.split(",").map((u) => u.trim()).filter((u) => u !== "");
  if (env.NATS_USER !== undefined) section("nats").user = env.NATS_USER;
  if (env.NATS_PASSWORD !== undefined) section("nats").password = env.NATS_PASSWORD;
  if (env.NATS_TOKEN !== undefined) section("nats").token = env.NATS_TOKEN;
  if (env.NATS_CREDS !== undefined) section("nats").credentials_file = env.NATS_CREDS;
  if (env.CLICKHOUSE_URL !== undefined) section("clickhouse").url = env.CLICKHOUSE_URL;
  if (env.CLICKHOUSE_USER !== undefined) section("clickhouse").user = env.CLICKHOUSE_USER;
  if (env.CLICKHOUSE_PASSWORD !== undefined) section("clickhouse").password = env.CLICKHOUSE_PASSWORD;
  if (env.SPECTRA_TIERING_COLD_PASSWORD !== undefined) section("tiering").cold_password = env.SPECTRA_TIERING_COLD_PASSWORD;
  if (env.SPECTRA_HTTP_TOKEN !== undefined) section("http").auth_token = env.SPECTRA_HTTP_TOKEN;
  if (env.SPECTRA_LOG_LEVEL !== undefined) section("log").level = env.SPECTRA_LOG_LEVEL;
  if (env.SPECTRA_DATA_DIR !== undefined) section("engine").data_dir = env.SPECTRA_DATA_DIR;
  if (env.SPECTRA_HTTP_PORT !== undefined) {
    const port = Number(env.SPECTRA_HTTP_PORT);
    // Keep the text when it is not a number so validation names the bad value.
    section("http").port = env.SPECTRA_HTTP_PORT.trim() !== "" && Number.isFinite(port) ? port : env.SPECTRA_HTTP_PORT;
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
  merged = mergeConfig(merged, envOverrides(options.env ?? (process.env as ConfigEnv)));
  return validateConfig(merged);
}

/** Loads the defaults alone, merged with `overrides` (for tests and tools). */
export function configWith(overrides: unknown = {}): Config {
  return loadConfig({ overrides, env: {} });
}
