import { expect, test } from "bun:test";
import { remoteCopySql, sameInstanceCopySql, type WindowCopy } from "../../src/tiering/copy.ts";

const window: WindowCopy = {
  shape: {
    table: "trades",
    columns: ["timestamp", "symbol", "price", "created_at"],
    hash_columns: ["timestamp", "symbol", "price"],
    final: " FINAL",
    daily_partitions: true,
    has_created_at: true,
    hot_storage: { database: "marketprism_hot", table: "trades", cluster: "" },
    cold_distributed: false,
  },
  from_ms: 1_700_000_000_000,
  to_ms: 1_700_003_600_000,
  filter_sql: " AND exchange = 'okx'",
  dedup_token: "tiering|trades||1700000000000|1700003600000|abc",
};
const databases = { hot_database: "marketprism_hot", cold_database: "marketprism_cold" };
const missing = (notIn: string) => `WHERE timestamp >= fromUnixTimestamp64Milli(toInt64(1700000000000), 'UTC') AND timestamp < fromUnixTimestamp64Milli(toInt64(1700003600000), 'UTC') AND exchange = 'okx'
  AND cityHash64(\`timestamp\`, \`symbol\`, \`price\`) ${notIn} (SELECT cityHash64(\`timestamp\`, \`symbol\`, \`price\`) FROM \`marketprism_cold\`.\`trades\` WHERE timestamp >= fromUnixTimestamp64Milli(toInt64(1700000000000), 'UTC') AND timestamp < fromUnixTimestamp64Milli(toInt64(1700003600000), 'UTC') AND exchange = 'okx')`;

test("remote mode pulls the window's missing rows from hot through remote() on the cold server, sending cold's hashes along (GLOBAL)", () => {
  expect(remoteCopySql(databases, { address: "hot.example:9000", user: "tier", password: "p'w" }, window)).toBe(
    `INSERT INTO \`marketprism_cold\`.\`trades\` (\`timestamp\`, \`symbol\`, \`price\`, \`created_at\`) SETTINGS insert_deduplication_token = 'tiering|trades||1700000000000|1700003600000|abc'
SELECT \`timestamp\`, \`symbol\`, \`price\`, \`created_at\` FROM remote('hot.example:9000', 'marketprism_hot', 'trades', 'tier', 'p\\'w') FINAL
${missing("GLOBAL NOT IN")}`,
  );
});

test("same mode copies the window's missing rows with one INSERT … SELECT", () => {
  expect(sameInstanceCopySql(databases, window)).toBe(
    `INSERT INTO \`marketprism_cold\`.\`trades\` (\`timestamp\`, \`symbol\`, \`price\`, \`created_at\`) SETTINGS insert_deduplication_token = 'tiering|trades||1700000000000|1700003600000|abc'
SELECT \`timestamp\`, \`symbol\`, \`price\`, \`created_at\` FROM \`marketprism_hot\`.\`trades\` FINAL
${missing("NOT IN")}`,
  );
});
