import type { ClickHouseClient } from "@clickhouse/client";
import type { ComponentStats } from "../http/stats-types.ts";

/**
 * Pings ClickHouse every `POLL_MS` for /health and /stats. `stop()` waits for a ping in flight:
 * closing a chDB connection while an operation runs on it aborts the embedded engine for the
 * rest of the process (seen as "The server is shutting down due to a fatal error").
 */
export class ClickHouseMonitor {
  private static readonly POLL_MS = 2000;
  private state: ComponentStats["state"] = "up";
  private latency_ms: number | null = null;
  private last_error: string | null = null;
  private inflight: Promise<void> | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly mode: "embedded" | "server",
    private readonly url: string,
  ) {
    this.timer = setInterval(() => this.track(), ClickHouseMonitor.POLL_MS);
    this.track();
  }

  private track(): void {
    if (this.inflight !== null) return;
    this.inflight = this.ping().finally(() => {
      this.inflight = null;
    });
  }

  private async ping(): Promise<void> {
    const t0 = performance.now();
    const result = await this.client.ping();
    if (result.success) {
      this.state = "up";
      this.latency_ms = performance.now() - t0;
      this.last_error = null;
    } else {
      this.state = "down";
      this.last_error = result.error.message;
    }
  }

  snapshot(): ComponentStats {
    return { state: this.state, mode: this.mode, url: this.mode === "embedded" ? "" : this.url, latency_ms: this.latency_ms, last_error: this.last_error };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inflight;
  }
}
