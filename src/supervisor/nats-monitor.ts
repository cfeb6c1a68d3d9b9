import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { Config } from "../config/schema.ts";
import type { ComponentStats } from "../http/stats-types.ts";
import type { Logger } from "../log/logger.ts";
import type { RecordType } from "../records/types.ts";
import { connectNats } from "../bus/nats-connect.ts";
import { untilJetStream } from "../bus/jetstream-ready.ts";
import { ensureDeadLetterStream, ensureStream } from "../bus/stream.ts";
import type { Counters } from "../stats/counters.ts";
import { typeCounter } from "../stats/layout.ts";

/**
 * The supervisor's own NATS connection: ensures the data and dead-letter streams at start,
 * then measures the round trip once per `POLL_MS` for /stats. In a process that publishes but
 * does not store (role collect, or ClickHouse off), it also reads the pending count of each
 * durable consumer it feeds (`pending_types`); where this process stores, each type's
 * StoreConsumer keeps that count, from its deliveries (consumer.ts), and one writer is enough.
 * A consumer info request is not free: nats-server counts the consumer's pending messages per
 * subject. At the scale bench's 2,000 symbols, a request per type and second from the supervisor
 * and from every consumer would take ~14 % of nats-server's CPU (Go pprof of its process during
 * `bun bench/scale.bench.ts --points 2000`).
 * Connection status changes arrive as typed values from `status()`, not exceptions.
 */
export class NatsMonitor {
  private static readonly POLL_MS = 1000;
  private state: ComponentStats["state"] = "up";
  private latency_ms: number | null = null;
  private last_error: string | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly url: string,
    private readonly cfg: Config["nats"],
    private readonly counters: Counters,
    private readonly log: Logger,
    private readonly pendingTypes: readonly RecordType[],
  ) {
    void this.watchStatus();
    this.timer = setInterval(() => void this.poll(), NatsMonitor.POLL_MS);
  }

  /**
   * Connects to `servers` and ensures the streams, waiting up to `nats.jetstream_wait_ms` for a
   * JetStream that does not answer yet (jetstream-ready.ts); a refused stream (e.g. more replicas
   * than the cluster has servers) fails at once with the server's message.
   */
  static async connect(
    servers: readonly string[],
    cfg: Config["nats"],
    counters: Counters,
    log: Logger,
    pending_types: readonly RecordType[],
  ): Promise<NatsMonitor> {
    const nc = await connectNats(cfg, servers, "spectra-supervisor");
    try {
      const jsm = await untilJetStream(
        async () => {
          const manager = await jetstreamManager(nc);
          await ensureStream(manager, cfg.stream);
          await ensureDeadLetterStream(manager, cfg);
          return manager;
        },
        cfg.jetstream_wait_ms,
        log,
      );
      return new NatsMonitor(nc, jsm, servers.join(","), cfg, counters, log, pending_types);
    } catch (cause) {
      await nc.close();
      throw new Error(`NATS at ${servers.join(", ")} could not set up the streams: ${(cause as Error).message}`, { cause });
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect") {
        this.state = "down";
        this.log.warn({ nats: this.url }, "NATS disconnected");
      } else if (s.type === "reconnect") {
        this.state = "up";
        this.log.info({ nats: this.url }, "NATS reconnected");
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      this.latency_ms = await this.nc.rtt();
      for (const type of this.pendingTypes) {
        const name = `${this.cfg.consumer.durable_prefix}_${type}`;
        const info = await this.jsm.consumers.info(this.cfg.stream.name, name).catch(() => null);
        if (info !== null) this.counters.set(this.counters.slot(typeCounter(type, "consumer_pending")), info.num_pending + info.num_ack_pending);
      }
      this.last_error = null;
    } catch (cause) {
      this.last_error = (cause as Error).message;
    }
  }

  /** The JetStream manager on this connection (stream lookups at start). */
  get manager(): JetStreamManager {
    return this.jsm;
  }

  snapshot(): ComponentStats {
    return { state: this.state, mode: this.cfg.servers.length === 0 ? "embedded" : "external", url: this.url, latency_ms: this.latency_ms, last_error: this.last_error };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (!this.nc.isClosed()) await this.nc.close();
  }
}
