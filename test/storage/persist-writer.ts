import { drainPending } from "chdb";
import { configWith } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createClickHouse } from "../../src/storage/client.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { ensureSchema, schemaNames } from "../../src/storage/schema.ts";
import { SAMPLES } from "./sample-records.ts";

/**
 * Child process for query.test.ts: writes one trade into embedded ClickHouse under
 * `argv[2]`/clickhouse, prints it as JSON and exits, so another process can read it after a
 * "restart" (libchdb allows one data path per process, so this cannot run inside the test
 * process). The sample's times follow the clock's minute, so the test compares with the trade
 * printed here, not with its own copy of the samples.
 */
const data_dir = process.argv[2];
if (data_dir === undefined) throw new Error("usage: persist-writer.ts DATA_DIR");
const cfg = configWith({}).clickhouse;
const client = createClickHouse(cfg, data_dir, createLogger("warn"));
await ensureSchema(client, schemaNames(cfg));
const sink = new ClickHouseSink(client, { database: cfg.hot_database, close_client: true });
await sink.insert("trade", [SAMPLES.trade], "persist");
await sink.close();
await drainPending();
console.log(JSON.stringify(SAMPLES.trade));
