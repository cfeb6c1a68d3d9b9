import type { Logger } from "../log/logger.ts";

/**
 * Waiting for JetStream at start. A cluster that has just come up accepts client connections
 * before its JetStream meta leader is elected, and until then stream requests go unanswered
 * (nats.js: TimeoutError), find no responder (NoRespondersError), or get JetStream's
 * "temporarily unavailable" (API error 10008, JSClusterNotAvailErr:
 * https://github.com/nats-io/nats-server/blob/main/server/errors.json); just after the
 * election, before the other servers have reported to the new leader, a replicated stream finds
 * "no suitable peers for placement" (10005, JSClusterNoPeersErrF). Containers started
 * together (config/docker/compose.yaml) meet exactly this: the servers' health check passes
 * before the election. Those answers are tried again until `nats.jetstream_wait_ms`; any other
 * failure (a refused stream, more replicas than servers) is the operator's to fix and is thrown
 * at once.
 */

/** Pause between two attempts, ms. */
const RETRY_MS = 500;
/** JetStream API error codes of "JetStream system temporarily unavailable" and "no suitable peers for placement". */
const NOT_YET: ReadonlySet<number> = new Set([10008, 10005]);

/** Whether `error` (or an error it wraps) says JetStream is not answering yet, rather than refusing. */
export function isJetStreamUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === "TimeoutError" || e.name === "NoRespondersError") return true;
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === "number" && NOT_YET.has(code)) return true;
    if (e.message.includes("no suitable peers for placement")) return true;
  }
  return false;
}

/**
 * Runs `attempt` until it resolves, trying again after an unavailable JetStream until `wait_ms`
 * have passed since the first try; logs once when it starts waiting. The last failure is thrown
 * with how long it waited.
 */
export async function untilJetStream<T>(attempt: () => Promise<T>, wait_ms: number, log: Logger, now: () => number = performance.now.bind(performance)): Promise<T> {
  const deadline = now() + wait_ms;
  let waiting = false;
  for (;;) {
    try {
      const result = await attempt();
      if (waiting) log.info("JetStream answered");
      return result;
    } catch (error) {
      if (!isJetStreamUnavailable(error)) throw error;
      if (now() + RETRY_MS > deadline) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`JetStream did not answer within nats.jetstream_wait_ms (${wait_ms} ms): ${message}`, { cause: error });
      }
      if (!waiting) log.warn({ error: error instanceof Error ? error.message : String(error), wait_ms }, "waiting for JetStream (a cluster elects its meta leader first)");
      waiting = true;
      await Bun.sleep(RETRY_MS);
    }
  }
}
