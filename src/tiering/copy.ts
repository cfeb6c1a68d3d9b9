import type { ClickHouseClient } from "@clickhouse/client";
import type { TableShape } from "./table-shape.ts";
import { ident, literal, qualified, queryRows, timeRange } from "./sql.ts";
import { rowHash } from "./window-stats.ts";

/**
 * Copying one window from hot to cold, in the three ways `tiering.mode` names.
 *
 * Every mode copies only the hot rows whose content hash is not yet in cold's window, read from
 * hot with FINAL (one row per sort key, as the merged table will hold). So a window that an
 * interrupted pass half-copied, or that gained late rows, gets exactly the missing rows, and a
 * second pass over a verified window inserts nothing; no row is ever deleted in either database.
 * Each insert also carries `insert_deduplication_token` (the storage schema enables
 * `non_replicated_deduplication_window`): two passes racing on the same window state insert once.
 * The token includes cold's state before the copy, so a retry after a partial copy (different
 * cold state, different missing rows) is never mistaken for a duplicate of the first attempt.
 */
/** A span of one or more windows to copy. */
export interface WindowCopy {
  readonly shape: TableShape;
  readonly from_ms: number;
  readonly to_ms: number;
  /** ` AND …` row filter of the pass. */
  readonly filter_sql: string;
  readonly dedup_token: string;
}

export interface CopyStrategy {
  /** Copies the missing rows of `[from_ms, to_ms)`. */
  copy(window: WindowCopy): Promise<void>;
}

export interface CopyDatabases {
  readonly hot_database: string;
  readonly cold_database: string;
}

/** Where the cold server reaches hot over the native protocol, for `mode: remote`. */
export interface RemoteSource {
  /** `host:port` of hot's native TCP interface (9000 by default, not the HTTP 8123). */
  readonly address: string;
  readonly user: string;
  readonly password: string;
}

function columnList(shape: TableShape): string {
  return shape.columns.map(ident).join(", ");
}

/**
 * A Distributed cold table takes the copy synchronously (`insert_distributed_sync`): the
 * verification that follows reads what the shards committed, not a queue still being sent.
 */
function insertHead(databases: CopyDatabases, w: WindowCopy): string {
  const sync = w.shape.cold_distributed ? ", insert_distributed_sync = 1" : "";
  return `INSERT INTO ${qualified(databases.cold_database, w.shape.table)} (${columnList(w.shape)}) SETTINGS insert_deduplication_token = ${literal(w.dedup_token)}${sync}`;
}

function coldHashes(databases: CopyDatabases, w: WindowCopy, hash = rowHash(w.shape)): string {
  return `SELECT ${hash} FROM ${qualified(databases.cold_database, w.shape.table)} WHERE ${timeRange(w.from_ms, w.to_ms)}${w.filter_sql}`;
}

/**
 * When `source` is read on other servers (a Distributed hot table's shards, or hot through
 * `remote()`), the cold hashes are `GLOBAL`: read once where the copy runs and sent along.
 * Without it each of those servers would run the subquery itself, against a cold table it
 * does not hold.
 */
function missingRowsSelect(source: string, databases: CopyDatabases, w: WindowCopy, source_is_remote: boolean): string {
  const notIn = source_is_remote || w.shape.hot_storage.cluster !== "" ? "GLOBAL NOT IN" : "NOT IN";
  return `SELECT ${columnList(w.shape)} FROM ${source}${w.shape.final}
WHERE ${timeRange(w.from_ms, w.to_ms)}${w.filter_sql}
  AND ${rowHash(w.shape)} ${notIn} (${coldHashes(databases, w)})`;
}

/** `mode: same`: hot and cold databases live on one instance; one `INSERT … SELECT` per window. */
export function sameInstanceCopySql(databases: CopyDatabases, w: WindowCopy): string {
  return `${insertHead(databases, w)}\n${missingRowsSelect(qualified(databases.hot_database, w.shape.table), databases, w, false)}`;
}

/**
 * `mode: remote`: run on the cold server, pulling from hot through `remote()`. The password
 * appears in the cold server's query log; give the tiering user read-only rights on hot.
 */
export function remoteCopySql(databases: CopyDatabases, source: RemoteSource, w: WindowCopy): string {
  const remote = `remote(${literal(source.address)}, ${literal(databases.hot_database)}, ${literal(w.shape.table)}, ${literal(source.user)}, ${literal(source.password)})`;
  return `${insertHead(databases, w)}\n${missingRowsSelect(remote, databases, w, true)}`;
}

/** Runs one generated `INSERT … SELECT` on the cold client. */
class SqlCopy implements CopyStrategy {
  constructor(
    private readonly cold: ClickHouseClient,
    private readonly build: (w: WindowCopy) => string,
  ) {}

  async copy(w: WindowCopy): Promise<void> {
    await this.cold.command({ query: this.build(w) });
  }
}

export function sameInstanceCopy(cold: ClickHouseClient, databases: CopyDatabases): CopyStrategy {
  return new SqlCopy(cold, (w) => sameInstanceCopySql(databases, w));
}

export function remoteCopy(cold: ClickHouseClient, databases: CopyDatabases, source: RemoteSource): CopyStrategy {
  return new SqlCopy(cold, (w) => remoteCopySql(databases, source, w));
}

/**
 * `mode: stream`: rows pass through this process, so it works between any two clients. Rows
 * travel as TabSeparated text, ClickHouse's own exact text form of every type (a JSON number
 * would round Decimal(38,18) and UInt64 values); the first field is the row hash, used to skip
 * rows cold already holds and stripped before the insert. One window is held in memory at a time.
 */
export class StreamCopy implements CopyStrategy {
  constructor(
    private readonly hot: ClickHouseClient,
    private readonly cold: ClickHouseClient,
    private readonly databases: CopyDatabases,
  ) {}

  async copy(w: WindowCopy): Promise<void> {
    const present = new Set<string>();
    for (const row of await queryRows(this.cold, coldHashes(this.databases, w, `toString(${rowHash(w.shape)})`))) {
      const hash = row[0];
      if (typeof hash === "string") present.add(hash);
    }
    const result = await this.hot.query({
      query: `SELECT toString(${rowHash(w.shape)}), ${columnList(w.shape)}
FROM ${qualified(this.databases.hot_database, w.shape.table)}${w.shape.final}
WHERE ${timeRange(w.from_ms, w.to_ms)}${w.filter_sql}`,
      format: "TabSeparated",
    });
    const kept: string[] = [];
    for (const line of (await result.text()).split("\n")) {
      const tab = line.indexOf("\t");
      if (tab < 0 || present.has(line.slice(0, tab))) continue;
      kept.push(line.slice(tab + 1));
    }
    if (kept.length === 0) return;
    await this.cold.command({ query: `${insertHead(this.databases, w)} FORMAT TabSeparated\n${kept.join("\n")}\n` });
  }
}
