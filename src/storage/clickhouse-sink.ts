import type { ClickHouseClient } from "@clickhouse/client";
import type { RecordType } from "../records/types.ts";
import type { StorageRecord } from "../codec/storage-record.ts";
import { rawInsertOf, type RawInsert } from "./client.ts";
import { validatedBatch, type ColumnarBatch, type InsertFormat } from "./columnar-batch.ts";
import { classifyInsertError, InsertError } from "./insert-errors.ts";
import { literal } from "./sql-quote.ts";
import { TABLES, type InsertResult, type StorageSink } from "./types.ts";

/**
 * Settings of every row document handed to embedded chDB (order books). Parallel parsing splits
 * a document into chunks parsed on ClickHouse's pool, which costs more CPU in all than one
 * thread reading it, and here that CPU is the engine's own: 79-84 µs of chDB's threads a book
 * without it against 90-93 µs with it (bench/book-store.bench.ts, two runs each). A ClickHouse
 * server keeps its own defaults.
 */
const EMBEDDED_ROW_SETTINGS: Readonly<Record<string, string>> = { input_format_parallel_parsing: "0" };

/**
 * Inserts columnar batches into one database (the hot one).
 *
 * Settings go into the INSERT statement itself (`SETTINGS insert_deduplication_token = …`),
 * never through the client's `clickhouse_settings`: on embedded chDB those become `SET`s that
 * stay on the connection and would stamp the same token on every later insert of that client
 * (including tiering's INSERT … SELECT), silently deduplicating them away.
 *
 * Threads: chDB accepts clients on the same data path from several threads, but a worker
 * thread that is terminated or crashes while its chDB session is open leaves the engine hung
 * for every other thread (tested in test/storage/port-sink.test.ts). Batch workers are
 * restarted on crash, so they never open chDB: the supervisor thread owns this sink and serves
 * inserts to them over a MessagePort (insert-server.ts / port-sink.ts).
 */
export interface ClickHouseSinkOptions {
  readonly database: string;
  /** Close the client on `close()` (the sink owns it). */
  readonly close_client: boolean;
  /**
   * The tables are `Distributed` (`clickhouse.cluster`): each insert also sets
   * `insert_distributed_sync = 1` (a server only: embedded chDB has no cluster), so it resolves only once every shard's replicated table has
   * committed its part of the batch, and the token reaches those tables with it: a retried
   * batch splits into the same shard blocks, which Keeper's block ids recognise and drop.
   */
  readonly distributed?: boolean;
}

export class ClickHouseSink implements StorageSink {
  readonly #client: ClickHouseClient;
  readonly #opts: ClickHouseSinkOptions;
  readonly #statement_heads: Map<string, string> = new Map();
  /** Embedded chDB's byte insert; undefined on a ClickHouse server. */
  readonly #raw: RawInsert | undefined;
  /** Extra insert settings of a Distributed schema, in SQL. */
  readonly #sync: string;

  constructor(client: ClickHouseClient, opts: ClickHouseSinkOptions) {
    this.#client = client;
    this.#opts = opts;
    this.#raw = rawInsertOf(client);
    this.#sync = opts.distributed === true ? ", insert_distributed_sync = 1" : "";
  }

  /**
   * Validates every record, then inserts them as one batch. A bad record rejects the whole
   * call with `InvalidRecordError` before anything is sent; callers that want to dead-letter
   * single records call `validateRecord` first.
   */
  async insert(type: RecordType, records: readonly StorageRecord[], dedup_token: string, validated = false): Promise<InsertResult> {
    return this.insertBatch(validatedBatch(type, records, validated), dedup_token);
  }

  /** Inserts an already built batch (records validated when appended) as one INSERT. */
  insertBatch(batch: ColumnarBatch, dedup_token: string): Promise<InsertResult> {
    if (batch.rows === 0) return Promise.resolve({ rows: 0, latency_ms: 0 });
    return this.insertEncoded(batch.type, batch.columnNames(), batch.document(), batch.format, batch.rows, dedup_token);
  }

  /**
   * Inserts a document (`ColumnarBatch.document()`) built elsewhere, e.g. in a batch worker that
   * hands it to this thread through `serveInserts`. Rows go to embedded chDB as bytes; anything
   * else goes in the statement's text.
   */
  async insertEncoded(
    type: RecordType,
    columns: readonly string[],
    body: Uint8Array,
    format: InsertFormat,
    rows: number,
    dedup_token: string,
  ): Promise<InsertResult> {
    const started = performance.now();
    try {
      if (format === "JSONCompactEachRow" && this.#raw !== undefined) {
        const table = `${this.#opts.database}.${TABLES[type]}`;
        await this.#raw({ table, columns, values: body, format, settings: { insert_deduplication_token: dedup_token, ...EMBEDDED_ROW_SETTINGS } });
      } else {
        // Buffer's UTF-8 decode, not TextDecoder's: Bun's TextDecoder makes two-byte strings, and
        // the client's copies and chDB's UTF-8 conversion of a long statement take slower paths.
        const document = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
        const query = `${this.#head(type, columns)} SETTINGS insert_deduplication_token = ${literal(dedup_token)}${this.#sync} FORMAT ${format}\n${document}`;
        await this.#client.command({ query });
      }
    } catch (err) {
      const table = `${this.#opts.database}.${TABLES[type]}`;
      const kind = classifyInsertError(err);
      const message = err instanceof Error ? err.message : String(err);
      throw new InsertError(`insert of ${rows} rows into ${table} failed (${kind}): ${message}`, kind, err);
    }
    return { rows, latency_ms: performance.now() - started };
  }

  async close(): Promise<void> {
    if (this.#opts.close_client) await this.#client.close();
  }

  #head(type: RecordType, columns: readonly string[]): string {
    const key = `${type}:${columns.join(",")}`;
    let head = this.#statement_heads.get(key);
    if (head === undefined) {
      const list = columns.map((c) => `\`${c}\``).join(", ");
      head = `INSERT INTO \`${this.#opts.database}\`.\`${TABLES[type]}\` (${list})`;
      this.#statement_heads.set(key, head);
    }
    return head;
  }
}
