import type { ClickHouseClient } from "@clickhouse/client";
import type { TieringStateStore } from "./state-store.ts";
import type { TableShape, TableStorage } from "./table-shape.ts";
import { ident, literal, qualified, queryRows, textAt } from "./sql.ts";
import { EMPTY_STAT, sameStat, windowStats } from "./window-stats.ts";

const DAY_MS = 86_400_000;

function dayStart(partition_id: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(partition_id);
  if (m === null) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

const onCluster = (storage: TableStorage): string => (storage.cluster === "" ? "" : ` ON CLUSTER ${ident(storage.cluster)}`);

/** The active partitions of the table storing hot rows; on a cluster, of its local tables on every node. */
export function hotPartitionsSql(storage: TableStorage): string {
  const parts = storage.cluster === "" ? "system.parts" : `clusterAllReplicas(${literal(storage.cluster)}, system.parts)`;
  return `SELECT DISTINCT partition_id FROM ${parts}
     WHERE database = ${literal(storage.database)} AND table = ${literal(storage.table)} AND active ORDER BY partition_id`;
}

/**
 * Drops one partition of the table storing hot rows. On a cluster it is the local tables,
 * `ON CLUSTER` (a Distributed table holds no partitions); replicated tables run it once per shard.
 */
export function dropPartitionSql(storage: TableStorage, partition_id: string): string {
  return `ALTER TABLE ${qualified(storage.database, storage.table)}${onCluster(storage)} DROP PARTITION ID ${literal(partition_id)}`;
}

export interface PartitionDropInput {
  readonly hot: ClickHouseClient;
  readonly cold: ClickHouseClient;
  readonly hot_database: string;
  readonly cold_database: string;
  readonly shape: TableShape;
  readonly state: TieringStateStore;
  /** Only days ending at or before this instant are candidates (watermark - recheck_s). */
  readonly horizon_ms: number;
  readonly dry_run: boolean;
}

/**
 * Drops whole daily hot partitions (`ALTER TABLE … DROP PARTITION`, never a row-level DELETE)
 * once they are safely in cold. A day qualifies when it lies entirely behind the re-check
 * horizon (no re-check will look at it again), no window in it is recorded as failed, and, read
 * again right before the drop, the whole day matches cold by count and checksum. Returns the
 * partition ids dropped (or, in a dry run, that would be).
 */
export async function dropVerifiedPartitions(input: PartitionDropInput): Promise<string[]> {
  const { shape } = input;
  if (!shape.daily_partitions) return [];
  const parts = await queryRows(input.hot, hotPartitionsSql(shape.hot_storage));
  const dropped: string[] = [];
  for (const row of parts) {
    const id = textAt(row, 0);
    const from = dayStart(id);
    if (from === null || from + DAY_MS > input.horizon_ms) continue;
    const recorded = await input.state.windows(shape.table, "", from, from + DAY_MS);
    if ([...recorded.values()].some((w) => w.status === "failed")) continue;
    const hot = (await windowStats(input.hot, input.hot_database, shape, from, from + DAY_MS, DAY_MS, "")).get(from);
    const cold = (await windowStats(input.cold, input.cold_database, shape, from, from + DAY_MS, DAY_MS, "")).get(from);
    if (!sameStat(hot ?? EMPTY_STAT, cold ?? EMPTY_STAT)) continue;
    if (!input.dry_run) {
      await input.hot.command({ query: dropPartitionSql(shape.hot_storage, id) });
    }
    dropped.push(id);
  }
  return dropped;
}
