import type { ClickHouseClient } from "@clickhouse/client";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { ClickHouseSink } from "./clickhouse-sink.ts";
import { createClickHouse } from "./client.ts";

/**
 * The sinks the supervisor runs storing batch workers' inserts on (see ManagedWorker).
 *
 * Embedded chDB runs the queries of one session one after another. With one session for every
 * worker, a trade insert waited behind an order-book insert: in three paired 15 s e2e bench runs
 * the p99 latency of each trade insert's freshest row was 458-564 ms with one session and
 * 125-216 ms with a session per worker. So each storing batch worker gets a session of its own
 * on the engine's data path; a restarted worker gets its old one back. A ClickHouse server is
 * reached over HTTP, whose client already sends concurrent inserts side by side, so there every
 * worker shares one sink.
 */
export class InsertSinks {
  readonly #shared: ClickHouseSink;
  readonly #own: Map<string, ClickHouseSink> = new Map();

  constructor(
    client: ClickHouseClient,
    private readonly cfg: Config["clickhouse"],
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {
    this.#shared = new ClickHouseSink(client, { database: cfg.hot_database, close_client: false, distributed: cfg.cluster !== "" });
  }

  /** The sink worker `id`'s inserts run on. */
  forWorker(id: string): ClickHouseSink {
    if (this.cfg.url !== "") return this.#shared;
    let sink = this.#own.get(id);
    if (sink === undefined) {
      const client = createClickHouse(this.cfg, this.dataDir, this.log.child({ client: id }));
      sink = new ClickHouseSink(client, { database: this.cfg.hot_database, close_client: false, distributed: this.cfg.cluster !== "" });
      this.#own.set(id, sink);
    }
    return sink;
  }
}
