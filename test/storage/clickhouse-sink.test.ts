import { beforeAll, expect, test } from "bun:test";
import { ClickHouseError } from "@clickhouse/client";
import { RECORD_TYPES, type MarketRecord } from "../../src/records/types.ts";
import { ClickHouseSink } from "../../src/storage/clickhouse-sink.ts";
import { classifyInsertError, InsertError, InvalidRecordError } from "../../src/storage/insert-errors.ts";
import { ensureSchema, tableColumns } from "../../src/storage/schema.ts";
import { TABLES } from "../../src/storage/types.ts";
import { validateRecord } from "../../src/storage/validate-record.ts";
import { testClickHouse, uniqueDatabase } from "../support/chdb.ts";
import { SAMPLES, trades } from "./sample-records.ts";

const client = testClickHouse();
const hot = uniqueDatabase("sink_hot");
const sink = new ClickHouseSink(client, { database: hot, close_client: false });

beforeAll(async () => {
  await ensureSchema(client, { hot_database: hot, cold_database: uniqueDatabase("sink_cold") });
});

async function rows<T>(query: string): Promise<T[]> {
  return (await client.query({ query, format: "JSONEachRow" })).json<T>();
}

/** ClickHouse prints Decimals without trailing zeros; compare the same number in that form. */
function canonicalDecimal(s: string): string {
  if (!s.includes(".")) return s;
  const trimmed = s.replace(/0+$/, "").replace(/\.$/, "");
  return trimmed === "-0" ? "0" : trimmed;
}

test("every column of every record type is stored exactly: decimals beyond Decimal64(8), ms times, strings", async () => {
  for (const type of RECORD_TYPES) {
    const record = SAMPLES[type];
    await sink.insert(type, [record], `roundtrip-${type}`);
    const select = tableColumns(type)
      .map((c) => (c.kind === "decimal" || c.type === "UInt64" ? `toString(${c.name})` : c.kind === "time" ? `toUnixTimestamp64Milli(${c.name})` : c.name))
      .map((expr, i) => `${expr} AS c${i}`)
      .join(", ");
    const [row] = await rows<Record<string, unknown>>(
      `SELECT ${select} FROM ${hot}.${TABLES[type]} SETTINGS output_format_json_quote_64bit_integers = 0`,
    );
    expect(row).toBeDefined();
    const fields = record as unknown as Record<string, unknown>;
    tableColumns(type).forEach((c, i) => {
      const stored = row?.[`c${i}`];
      const label = `${type}.${c.name}`;
      if (c.name === "created_at") expect([label, typeof stored]).toEqual([label, "number"]);
      else if (c.kind === "source") expect([label, stored]).toEqual([label, "spectra"]);
      else if (c.kind === "decimal") expect([label, stored]).toEqual([label, canonicalDecimal(String(fields[c.field]))]);
      else if (c.type === "UInt64") expect([label, stored]).toEqual([label, String(fields[c.field])]);
      else if (c.kind === "levels") expect([label, JSON.parse(String(stored))]).toEqual([label, fields[c.field]]);
      else expect([label, stored]).toEqual([label, fields[c.field]]);
    });
  }
});

test("the same batch inserted twice with the same token is stored once", async () => {
  const batch = trades(50, 10_000);
  await sink.insert("trade", batch, "dedup-token-a");
  await sink.insert("trade", batch, "dedup-token-a");
  const [r] = await rows<{ n: number }>(
    `SELECT count() AS n FROM ${hot}.trades WHERE toUInt64(trade_id) BETWEEN 10000 AND 10049 SETTINGS output_format_json_quote_64bit_integers = 0`,
  );
  expect(r?.n).toBe(50);
});

test("a token stays per insert: a later insert with another token is not deduplicated", async () => {
  await sink.insert("trade", trades(5, 20_000), "token-one");
  await sink.insert("trade", trades(5, 20_005), "token-two");
  const [r] = await rows<{ n: number }>(
    `SELECT count() AS n FROM ${hot}.trades WHERE toUInt64(trade_id) BETWEEN 20000 AND 20009 SETTINGS output_format_json_quote_64bit_integers = 0`,
  );
  expect(r?.n).toBe(10);
});

test("replayed natural keys in different batches collapse under FINAL; same-millisecond trades are all kept", async () => {
  const batch = trades(30, 30_000);
  // Hold background merges so the unmerged state is observable (a merge would collapse it early).
  await client.command({ query: `SYSTEM STOP MERGES ${hot}.trades` });
  try {
    await sink.insert("trade", batch, "replay-1");
    await sink.insert("trade", batch.slice(0, 10), "replay-2");
    const q = (final: string) =>
      `SELECT count() AS n, uniqExact(trade_id) AS ids FROM ${hot}.trades ${final} WHERE toUInt64(trade_id) BETWEEN 30000 AND 30029 SETTINGS output_format_json_quote_64bit_integers = 0`;
    expect(await rows(q(""))).toEqual([{ n: 40, ids: 30 }]);
    expect(await rows(q("FINAL"))).toEqual([{ n: 30, ids: 30 }]);
  } finally {
    await client.command({ query: `SYSTEM START MERGES ${hot}.trades` });
  }
});

test("validateRecord names the missing or mistyped field", () => {
  expect(validateRecord("trade", SAMPLES.trade)).toBeNull();
  const { price: _price, ...noPrice } = SAMPLES.trade;
  expect(validateRecord("trade", noPrice)).toBe("trade.price: expected a decimal string fitting Decimal(38,18), missing");
  expect(validateRecord("trade", { ...SAMPLES.trade, price: 37000.5 })).toBe(
    "trade.price: expected a decimal string fitting Decimal(38,18), got 37000.5",
  );
  expect(validateRecord("trade", { ...SAMPLES.trade, price: "1e-7" })).toBe(
    'trade.price: expected a decimal string fitting Decimal(38,18), got "1e-7"',
  );
  expect(validateRecord("trade", { ...SAMPLES.trade, price: "0.0000000000000000001" })).toContain("trade.price");
  expect(validateRecord("trade", { ...SAMPLES.trade, ts_ms: 1.5 })).toBe("trade.ts_ms: expected an integer ms UTC >= 0, got 1.5");
  expect(validateRecord("trade", { ...SAMPLES.trade, is_maker: 1 })).toBe("trade.is_maker: expected a boolean, got 1");
  expect(validateRecord("orderbook", { ...SAMPLES.orderbook, bids: [["1", 2]] })).toStartWith("orderbook.bids: expected an array of");
  expect(validateRecord("trade", SAMPLES.orderbook)).toBe('trade.data_type: expected "trade", got "orderbook"');
  expect(validateRecord("gap", null)).toBe("gap: expected a record object, got null");
});

test("a batch with a bad record is refused before anything is stored", async () => {
  const bad = { ...SAMPLES.trade, trade_id: "40001", quantity: "" } as unknown as MarketRecord;
  const good = { ...SAMPLES.trade, trade_id: "40000" };
  const err = await sink.insert("trade", [good, bad], "bad-batch").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidRecordError);
  expect((err as InvalidRecordError).index).toBe(1);
  expect((err as Error).message).toBe('record 1: trade.quantity: expected a decimal string fitting Decimal(38,18), got ""');
  expect(classifyInsertError(err)).toBe("permanent");
  expect(await rows(`SELECT trade_id FROM ${hot}.trades WHERE trade_id IN ('40000', '40001')`)).toEqual([]);
});

test("insert errors are classified: unknown table is permanent, TOO_MANY_PARTS and transport errors retryable", async () => {
  const missing = new ClickHouseSink(client, { database: uniqueDatabase("nowhere"), close_client: false });
  const err = await missing.insert("trade", [SAMPLES.trade], "t").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InsertError);
  expect((err as InsertError).kind).toBe("permanent");
  expect(classifyInsertError(err)).toBe("permanent");
  expect(classifyInsertError(new ClickHouseError({ message: "Too many parts", code: "252", type: "TOO_MANY_PARTS" }))).toBe("retryable");
  expect(classifyInsertError(new ClickHouseError({ message: "Cannot parse", code: "6", type: "CANNOT_PARSE_TEXT" }))).toBe("permanent");
  expect(classifyInsertError(new ClickHouseError({ message: "Auth", code: "516", type: "AUTHENTICATION_FAILED" }))).toBe("permanent");
  expect(classifyInsertError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8123"), { code: "ECONNREFUSED" }))).toBe("retryable");
  expect(classifyInsertError(new Error("Timeout error."))).toBe("retryable");
});

test("order books go to embedded chDB as bytes: a repeated token stores them once, a token per insert, and refusals are classified", async () => {
  const books = (from: number) => [0, 1, 2].map((i) => ({ ...SAMPLES.orderbook, last_update_id: from + i }));
  await sink.insert("orderbook", books(500), "book-token-a");
  await sink.insert("orderbook", books(500), "book-token-a");
  await sink.insert("orderbook", books(600), "book-token-b");
  const [r] = await rows<{ n: number; ids: number }>(
    `SELECT count() AS n, uniqExact(last_update_id) AS ids FROM ${hot}.orderbooks WHERE last_update_id >= 500 AND last_update_id < 700 SETTINGS output_format_json_quote_64bit_integers = 0`,
  );
  expect(r).toEqual({ n: 6, ids: 6 });
  const missing = new ClickHouseSink(client, { database: uniqueDatabase("nobooks"), close_client: false });
  const err = await missing.insert("orderbook", books(700), "t").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InsertError);
  expect((err as InsertError).kind).toBe("permanent");
});
