import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCapture, unclaimedMessage } from "../../src/replay/capture-source.ts";
import { defaultRecordingsDir } from "../../src/replay/recording.ts";
import { recordingsSource } from "../../src/replay/source.ts";
import { VENUES } from "../../src/venues/registry.ts";

const venues = Object.values(VENUES);
const owner = (url: string): string[] => venues.filter((v) => v.claims(url)).map((v) => v.key);

describe("venue URL claims", () => {
  test("today's and old hosts go to their venue", () => {
    expect(owner("wss://stream.binance.com:9443/stream")).toEqual(["binance_spot"]);
    expect(owner("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000")).toEqual(["binance_spot"]);
    expect(owner("https://www.binance.com/api/v1/depth?symbol=BTCUSDT")).toEqual(["binance_spot"]);
    expect(owner("https://binance.com/api/v1/depth?symbol=BTCUSDT")).toEqual(["binance_spot"]);
    expect(owner("wss://fstream.binance.com/stream")).toEqual(["binance_derivatives"]);
    expect(owner("wss://dstream.binance.com/stream")).toEqual(["binance_derivatives"]);
    expect(owner("https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT")).toEqual(["binance_derivatives"]);
    expect(owner("wss://fstream.binance.com/public/stream")).toEqual(["binance_derivatives"]);
    expect(owner("wss://real.okex.com:8443/ws/v3")).toEqual(["okx_spot", "okx_derivatives"]);
    expect(owner("https://www.okex.com/api/v5/public/instruments?instType=SPOT")).toEqual(["okx_spot", "okx_derivatives"]);
    expect(owner("wss://ws.okx.com:8443/ws/v5/public")).toEqual(["okx_spot", "okx_derivatives"]);
    expect(owner("wss://www.deribit.com/ws/api/v2")).toEqual(["deribit_derivatives"]);
  });

  test("the simulator's /<venue> prefix goes to that venue; foreign hosts and non-URLs to none", () => {
    expect(owner("ws://127.0.0.1:4321/binance_derivatives/public/stream")).toEqual(["binance_derivatives"]);
    expect(owner("http://127.0.0.1:4321/okx_derivatives/api/v5/market/books?instId=BTC-USDT-SWAP")).toEqual(["okx_derivatives"]);
    expect(owner("wss://ws.kraken.com")).toEqual([]);
    expect(owner("https://notbinance.com/api/v3/depth")).toEqual([]);
    expect(owner("not a url")).toEqual([]);
  });
});

describe("readCapture", () => {
  const dir = mkdtempSync(join(tmpdir(), "spectra-capture-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const line = (source: "ws" | "http", url: string, recv_ts: number, raw: string): string => JSON.stringify({ source, url, recv_ts, raw });

  test("reads every *.jsonl in subfolders, assigns by URL, sorts by receipt and reports unclaimed lines", () => {
    mkdirSync(join(dir, "day1", "okx"), { recursive: true });
    writeFileSync(
      join(dir, "day1", "whatever.jsonl"),
      [
        line("ws", "wss://stream.binance.com:9443/stream", 3, "b3"),
        line("ws", "wss://ws.kraken.com", 4, "k"),
        line("http", "https://api.binance.com/api/v3/exchangeInfo", 1, "info"),
      ].join("\n") + "\n",
    );
    writeFileSync(join(dir, "a.jsonl"), `${line("ws", "wss://stream.binance.com:9443/stream", 2, "b2")}\n\n${line("http", "https://api.binance.com/api/v1/depth?symbol=X", 5, "depth")}\n`);
    writeFileSync(join(dir, "day1", "okx", "x.jsonl"), `${line("ws", "wss://real.okex.com:8443/ws/v3", 1, "o")}\n${line("ws", "ftp://x", 1, "?")}\n`);
    writeFileSync(join(dir, "notes.txt"), "not a capture");

    const capture = readCapture(dir, venues);
    expect(capture.read_files).toBe(3);
    expect(capture.files.get("binance_spot.jsonl")!.map((l) => l.raw)).toEqual(["b2", "b3", "depth"]);
    expect(capture.files.get("reference/binance_spot_exchangeInfo.jsonl")!.map((l) => l.raw)).toEqual(["info"]);
    expect(capture.files.get("okx.jsonl")!.map((l) => l.raw)).toEqual(["o"]);
    expect(capture.unclaimed).toEqual([
      { file: join("day1", "okx", "x.jsonl"), line: 2, url: "ftp://x" },
      { file: join("day1", "whatever.jsonl"), line: 2, url: "wss://ws.kraken.com" },
    ]);
    expect(unclaimedMessage(capture.unclaimed)).toBe(
      `2 capture line(s) claimed by no venue, not replayed: ${join("day1", "okx", "x.jsonl")}:2 (ftp://x), ${join("day1", "whatever.jsonl")}:2 (wss://ws.kraken.com)`,
    );
  });

  test("a line that is not a capture line is an error naming file and line", () => {
    const bad = mkdtempSync(join(dir, "bad-"));
    writeFileSync(join(bad, "c.jsonl"), `${line("ws", "wss://ws.okx.com", 1, "o")}\n{"source":"ws"}\n`);
    expect(() => readCapture(bad, venues)).toThrow(`${join(bad, "c.jsonl")}:2: not a recording line`);
  });
});

const fixtures = defaultRecordingsDir();
describe.skipIf(!existsSync(fixtures))("the shared fixtures read as a capture", () => {
  if (!existsSync(fixtures)) console.warn(`skipping: ${fixtures} is absent (../shared/fixtures/exchanges)`);
  test("every line is claimed and lands in the file the simulated servers read", () => {
    const source = recordingsSource(fixtures);
    expect(source.unclaimed).toEqual([]);
    expect(source.read("binance_spot.jsonl")).toHaveLength(269);
    expect(source.read("binance_derivatives.jsonl")).toHaveLength(1539);
    expect(source.read("okx.jsonl")).toHaveLength(410);
    expect(source.read("deribit.jsonl")).toHaveLength(136);
    expect(source.read("reference/okx_instruments.jsonl")).toHaveLength(5);
    expect(source.read("reference/deribit_instruments.jsonl")).toHaveLength(4);
    expect(source.read("reference/binance_spot_exchangeInfo.jsonl")).toHaveLength(1);
    expect(source.read("reference/binance_derivatives_exchangeInfo.jsonl")).toHaveLength(1);
  });
});
