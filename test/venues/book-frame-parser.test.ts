import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { defaultRecordingsDir, readRecording } from "../../src/replay/recording.ts";
import { parseBookFrame } from "../../src/venues/book-frame-parser.ts";

const DIR = defaultRecordingsDir();
const FILES = ["binance_spot.jsonl", "binance_derivatives.jsonl", "okx.jsonl", "deribit.jsonl"];
const LEVEL_KEYS = new Set(["bids", "asks", "b", "a"]);

/** What parseBookFrame promises: JSON.parse's value with level lists as [price, qty] pairs. */
function expected(value: unknown, levels = false): {} | null {
  if (Array.isArray(value)) return levels ? value.map((l: string[]) => [l[0], l[1]]) : value.map((v) => expected(v));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expected(v, LEVEL_KEYS.has(k) && Array.isArray(v) && v.every((l) => Array.isArray(l) && l.every((s) => typeof s === "string")))]));
  return value as {} | null;
}

function recordedFrames(): string[] {
  if (!existsSync(DIR)) throw new Error(`exchange recordings folder missing: ${DIR}`);
  return FILES.flatMap((f) => readRecording(DIR, f).map((l) => l.raw));
}

test("every recorded frame parses to JSON.parse's value (level lists as pairs), and every book frame takes the fast path", () => {
  let books = 0;
  for (const raw of recordedFrames()) {
    const fast = parseBookFrame(raw);
    const isBook = raw.includes('"depthUpdate"') || raw.startsWith('{"lastUpdateId"') || raw.startsWith('{"arg":{"channel":"books"');
    if (isBook) {
      books++;
      expect({ raw: raw.slice(0, 80), fast: fast !== undefined }).toEqual({ raw: raw.slice(0, 80), fast: true });
    }
    if (fast !== undefined) expect(fast).toEqual(expected(JSON.parse(raw)));
  }
  expect(books).toBeGreaterThan(400);
});

test("an OKX level keeps price and size and drops the deprecated field and order count", () => {
  const raw = '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["30000.1","0.5","0","3"]],"bids":[],"ts":"1652459225561","checksum":-1497329017}]}';
  expect(parseBookFrame(raw)).toEqual({
    arg: { channel: "books", instId: "BTC-USDT" },
    action: "update",
    data: [{ asks: [["30000.1", "0.5"]], bids: [], ts: "1652459225561", checksum: -1497329017 }],
  });
});

test("numbers, literals and nesting read as JSON.parse reads them", () => {
  for (const raw of ['{"n":[0,-0,1.5,-2.25e3,1E+2,3e-2,123456789012345],"t":true,"f":false,"z":null,"o":{},"e":[],"s":""}', "[1,[2,[3]]]", '"x"', "-7"])
    expect(parseBookFrame(raw)).toEqual(JSON.parse(raw));
});

test("anything outside compact JSON is left to JSON.parse: whitespace, escapes, bad numbers and levels, __proto__, truncation", () => {
  for (const raw of [
    '{"a": []}',
    ' {"a":[]}',
    '{"a":[]}\n',
    '{"s":"a\\"b"}',
    '{"b":[["1\\u0030","2"]]}',
    '{"s":"a\tb"}',
    '{"b":[["1\t","2"]]}',
    '{"n":01}',
    '{"n":1.}',
    '{"n":-}',
    '{"n":1e}',
    '{"n":.5}',
    '{"b":[[1,2]]}',
    '{"b":[["1"]]}',
    '{"b":[["1","2"],]}',
    '{"__proto__":{"x":1}}',
    '{"a":[]}x',
    '{"a":tru}',
    '{"a":[],}',
    "{'a':1}",
    "",
  ])
    expect({ raw, parsed: parseBookFrame(raw) }).toEqual({ raw, parsed: undefined });
});

test("every truncation of a recorded book frame is refused exactly when JSON.parse refuses it", () => {
  const frames = recordedFrames().filter((r) => r.includes('"depthUpdate"') || r.startsWith('{"arg":{"channel":"books"')).slice(0, 40);
  for (const raw of frames) {
    for (let n = 0; n < raw.length; n += 7) {
      const cut = raw.slice(0, n);
      let valid = true;
      try {
        JSON.parse(cut);
      } catch {
        valid = false;
      }
      const fast = parseBookFrame(cut);
      if (!valid) expect({ cut, fast }).toEqual({ cut, fast: undefined });
      else if (fast !== undefined) expect(fast).toEqual(expected(JSON.parse(cut)));
    }
  }
});
