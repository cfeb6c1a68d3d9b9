import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/**
 * The root logger. Every thread builds its own root with the same level and takes one child
 * per worker (`worker`, `kind`, `venue` or `type`, `index`), so each line names its thread.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } });
}
