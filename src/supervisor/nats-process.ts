import type { Logger } from "../log/logger.ts";
import { startEmbeddedNats, type EmbeddedNats, type EmbeddedNatsOptions } from "../bus/embedded-nats.ts";
import { Backoff } from "../venues/connection/backoff.ts";

/**
 * The embedded nats-server, kept running: when it exits for any reason other than `stop`
 * (a crash, `kill -9`, the OOM killer), it is started again on the port it had bound (also
 * when the config said port 0) with the same JetStream store, after the capped backoff
 * workers get (engine.restart_initial_ms / restart_max_ms). A start that fails (the port
 * taken meanwhile, the binary gone) is tried again on the same schedule, never given up.
 * Clients (supervisor, batch workers) reconnect by themselves (maxReconnectAttempts -1);
 * what JetStream acknowledged is in the file store and survives the restart.
 */
export class ManagedNats {
  /** Times nats-server was started again after an unplanned exit. */
  restarts = 0;
  private current: EmbeddedNats;
  private stopping = false;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private healthyTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly backoff: Backoff;
  /** Up this long after a start, the backoff resets (as for workers). */
  private static readonly HEALTHY_AFTER_MS = 30_000;

  private constructor(
    first: EmbeddedNats,
    private readonly options: EmbeddedNatsOptions,
    restart: { initial_ms: number; max_ms: number },
    private readonly log: Logger,
    private readonly onStart: (server: EmbeddedNats) => void,
  ) {
    this.current = first;
    onStart(first);
    this.backoff = new Backoff({ initial_ms: restart.initial_ms, max_ms: restart.max_ms, random: () => 1 });
    this.watch(first);
  }

  /**
   * Starts nats-server; a failure here is the engine's start failure (nothing is retried).
   * `onStart` sees this server and each one started after it.
   */
  static async start(
    options: EmbeddedNatsOptions,
    restart: { initial_ms: number; max_ms: number },
    log: Logger,
    onStart: (server: EmbeddedNats) => void = () => {},
  ): Promise<ManagedNats> {
    const first = await startEmbeddedNats(options);
    // Later starts reuse the bound port, so clients' URL stays valid.
    return new ManagedNats(first, { ...options, port: first.port }, restart, log, onStart);
  }

  get url(): string {
    return this.current.url;
  }

  /** pid of the nats-server process now running (or last run). */
  get pid(): number {
    return this.current.pid;
  }

  private watch(server: EmbeddedNats): void {
    this.healthyTimer = setTimeout(() => this.backoff.reset(), ManagedNats.HEALTHY_AFTER_MS);
    void server.exited.then((code) => {
      if (this.stopping || server !== this.current) return;
      if (this.healthyTimer !== null) clearTimeout(this.healthyTimer);
      const how = server.signal === null ? `exit code ${code}` : `signal ${server.signal}`;
      this.schedule({ nats_pid: server.pid, exit: how }, "embedded nats-server exited unexpectedly; starting it again on the same port and store");
    });
  }

  private schedule(context: Record<string, unknown>, message: string): void {
    const delay_ms = this.backoff.next();
    this.log.error({ ...context, port: this.options.port, store_dir: this.options.store_dir, restart_in_ms: delay_ms, restarts_so_far: this.restarts }, message);
    this.restartTimer = setTimeout(() => void this.restart(), delay_ms);
  }

  private async restart(): Promise<void> {
    this.restartTimer = null;
    if (this.stopping) return;
    try {
      const server = await startEmbeddedNats(this.options);
      if (this.stopping) {
        await server.stop();
        return;
      }
      this.current = server;
      this.restarts += 1;
      this.onStart(server);
      this.watch(server);
      this.log.info({ nats_pid: server.pid, url: server.url, restarts: this.restarts }, "embedded nats-server running again; clients reconnect and publishes retried from the rings");
    } catch (err) {
      this.schedule({ err }, "embedded nats-server did not start again; trying again");
    }
  }

  /** Stops nats-server for good (the engine's own stop): no restart follows. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    if (this.healthyTimer !== null) clearTimeout(this.healthyTimer);
    await this.current.stop();
  }
}
