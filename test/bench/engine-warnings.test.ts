import { expect, test } from "bun:test";
import { engineWarnings } from "../../bench/engine-child.ts";

const line = (entry: object): string => JSON.stringify(entry);

test("engine warnings are listed once per kind with a count of the rest, so one kind cannot crowd out the others", () => {
  const log = [
    line({ level: 40, worker: "ingest:binance_derivatives:0", msg: "venue channel error", err: { message: "G462USDT: The operation timed out." } }),
    line({ level: 40, worker: "ingest:binance_derivatives:0", msg: "venue channel error", err: { message: "G463USDT: The operation timed out." } }),
    line({ level: 30, worker: "ingest:okx_spot:0", msg: "book live" }),
    line({ level: 40, worker: "ingest:binance_derivatives:0", msg: "venue channel error", err: { message: "G464USDT: The operation timed out." } }),
    line({ level: 50, worker: "batch:shared:0", msg: "insert failed", detail: { rows: 3 } }),
    line({ level: 40, worker: "ingest:shared:0", shard: "ingest:okx_spot:0", msg: "venue connection incident", detail: "429" }),
    line({ level: 40, msg: "polls fall behind", error: "futures_data" }),
    '{"level":40,"msg":"cut off',
  ].join("\n");
  expect(engineWarnings(log)).toEqual([
    "ingest:binance_derivatives:0: venue channel error (G462USDT: The operation timed out.) (and 2 more like it)",
    'batch:shared:0: insert failed ({"rows":3})',
    "ingest:okx_spot:0: venue connection incident (429)",
    "polls fall behind (futures_data)",
  ]);
  expect(engineWarnings(log, 2)).toEqual([
    "ingest:binance_derivatives:0: venue channel error (G462USDT: The operation timed out.) (and 2 more like it)",
    'batch:shared:0: insert failed ({"rows":3})',
  ]);
});
