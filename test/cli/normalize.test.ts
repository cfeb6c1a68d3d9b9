import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES_DIR } from "../venues/capture.ts";
import { recordingTest } from "../support/recordings.ts";

const ROOT = join(import.meta.dir, "../..");
const BUN = process.execPath;

interface Run {
  readonly code: number;
  readonly lines: Record<string, unknown>[];
  readonly summary: Record<string, unknown>;
  readonly stderr: string;
}

function normalize(args: string[]): Run {
  const p = Bun.spawnSync([BUN, join(ROOT, "src/cli/normalize.ts"), ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const stdout = p.stdout.toString();
  const stderr = p.stderr.toString();
  const lines = stdout === "" ? [] : stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = stderr.trimEnd().split("\n").at(-1) ?? "";
  return { code: p.exitCode ?? -1, lines, summary: last.startsWith("{") ? (JSON.parse(last) as Record<string, unknown>) : {}, stderr };
}

describe("bun run normalize", () => {
  recordingTest("binance_derivatives recording: one record per line, summary counts on stderr, exit 0", () => {
    const r = normalize(["--venue", "binance_derivatives", "--input", join(FIXTURES_DIR, "binance_derivatives.jsonl")]);
    expect(r.code).toBe(0);
    expect(r.lines.length).toBe(843);
    expect(r.lines.every((l) => typeof l.data_type === "string")).toBe(true);
    expect(r.summary).toMatchObject({
      venue: "binance_derivatives",
      frames: 1539,
      records: { orderbook: 752, trade: 91 },
      ignored: 688,
      absorbed: 8,
      unrecognized: 0,
      errors: 0,
    });
    expect(r.lines.find((l) => l.data_type === "trade")).toEqual({
      data_type: "trade",
      exchange: "binance",
      market_type: "perpetual",
      symbol: "CTK-USDT",
      ts_ms: 1626992741575,
      recv_ts_ms: 1626992742290,
      trade_id: "16599292",
      price: "1.01100",
      quantity: "10",
      side: "buy",
      is_maker: false,
      trade_time: 1626992741421,
    });
  });

  recordingTest("okx_spot and okx_derivatives split one mixed recording by instrument", () => {
    const spot = normalize(["--venue", "okx_spot", "--input", join(FIXTURES_DIR, "okx.jsonl"), "--depth", "1"]);
    const swap = normalize(["--venue", "okx_derivatives", "--input", join(FIXTURES_DIR, "okx.jsonl")]);
    expect([spot.code, swap.code]).toEqual([0, 0]);
    expect(spot.summary.records).toEqual({ trade: 69, orderbook: 98 });
    expect(swap.summary.records).toEqual({ trade: 1, orderbook: 93 });
    const book = spot.lines.find((l) => l.data_type === "orderbook")!;
    expect([book.bids, book.asks, book.bids_count]).toEqual([[["30243.4", "0.0012029"]], [["30243.5", "1.44679"]], 1]);
  });

  recordingTest("--deltas adds orderbook_delta rows: the synced 400-level book as snapshot rows, then each change", () => {
    const r = normalize(["--venue", "okx_spot", "--input", join(FIXTURES_DIR, "okx.jsonl"), "--deltas"]);
    expect(r.code).toBe(0);
    expect(r.summary.records).toEqual({ trade: 69, orderbook_delta: 4968, orderbook: 98 });
    const deltas = r.lines.filter((l) => l.data_type === "orderbook_delta");
    const snapshot = deltas.filter((l) => l.is_snapshot === true);
    expect(snapshot.length).toBe(800);
    expect(deltas.slice(0, 800)).toEqual(snapshot);
    expect(snapshot[0]).toEqual({
      data_type: "orderbook_delta",
      exchange: "okx",
      market_type: "spot",
      symbol: "BTC-USDT",
      ts_ms: 1652459225381,
      recv_ts_ms: 1652459225702,
      update_id: 1652459225381,
      is_snapshot: true,
      side: "bid",
      price: "30243.4",
      amount: "0.0012029",
    });
    expect(deltas[800]).toMatchObject({ is_snapshot: false, update_id: 1652459225453, side: "bid", price: "30237.2", amount: "0" });
    expect(normalize(["--venue", "okx_spot", "--input", join(FIXTURES_DIR, "okx.jsonl")]).summary.records).toEqual({ trade: 69, orderbook: 98 });
  });

  test("deribit documented shapes through --instruments", () => {
    const r = normalize([
      "--venue",
      "deribit_derivatives",
      "--input",
      join(import.meta.dir, "../venues/fixtures/deribit_doc.jsonl"),
      "--instruments",
      join(import.meta.dir, "../venues/fixtures/instruments/deribit.jsonl"),
    ]);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => [l.symbol, l.index_value])).toEqual([
      ["BTC", "129.36"],
      ["ETH", "0.0000001"],
      ["BTC", "0.212860821"],
      ["BTC", "0.001"],
    ]);
    expect(r.summary).toMatchObject({ records: { volatility_index: 4 }, ignored: 2, errors: 0 });
  });

  test("a bad line is counted as an error and the rest still normalize", () => {
    const dir = mkdtempSync(join(tmpdir(), "spectra-normalize-"));
    const file = join(dir, "mixed.jsonl");
    const good = '{"source":"ws","url":"wss://x","recv_ts":1.5,"raw":"{\\"stream\\":\\"btcusdt@trade\\",\\"data\\":{\\"e\\":\\"trade\\",\\"E\\":7,\\"s\\":\\"BTCUSDT\\",\\"t\\":9,\\"p\\":\\"1.5\\",\\"q\\":\\"2\\",\\"T\\":7,\\"m\\":false}}"}';
    writeFileSync(file, `not json\n${good}\n`);
    const r = normalize(["--venue", "binance_spot", "--input", file, "--instruments", join(import.meta.dir, "../venues/fixtures/instruments/binance_spot.jsonl")]);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => [l.trade_id, l.recv_ts_ms])).toEqual([["9", 1500]]);
    expect(r.summary).toMatchObject({ frames: 1, errors: 1, bad_lines: 1, records: { trade: 1 } });
  });

  test("an unreadable input exits 2 with a message naming the file", () => {
    const r = normalize(["--venue", "okx_spot", "--input", "/nonexistent/capture.jsonl"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot read input /nonexistent/capture.jsonl");
    expect(r.lines).toEqual([]);
  });

  test("an unknown venue exits 2 naming the allowed keys", () => {
    const r = normalize(["--venue", "kraken", "--input", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("binance_spot, binance_derivatives, okx_spot, okx_derivatives, deribit_derivatives");
  });
});
