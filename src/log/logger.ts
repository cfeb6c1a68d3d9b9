import pino, { type Logger } from "pino";
import { secretLogPaths } from "../config/secrets.ts";
import { REDACTED, redactSecrets } from "./redact.ts";

export type { Logger } from "pino";

/**
 * The root logger. Every thread builds its own root with the same level and takes one child
 * per worker (`worker`, `kind`, `venue` or `type`, `index`), so each line names its thread.
 *
 * Secrets never reach the output: pino's `redact` masks the secret config keys wherever a log
 * object carries them (src/config/secrets.ts), and every finished line passes `redactSecrets`,
 * which masks credentials inside URLs and the secret values registered at start, in messages
 * and error stacks as well as in fields.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    redact: { paths: secretLogPaths(), censor: REDACTED },
    hooks: { streamWrite: redactSecrets },
  });
}
