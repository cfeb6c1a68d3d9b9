import { expect, test } from "bun:test";
import { readRecording } from "../../src/replay/recording.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { LEVEL_VALUES, levelValue, PriceBook, type RawLevels } from "../../src/book/price-book.ts";
import { parseBookFrame } from "../../src/venues/book-frame-parser.ts";
import { RECORDINGS_DIR, recordingTest } from "../support/recordings.ts";

const FILES = ["binance_spot.jsonl", "binance_derivatives.jsonl", "okx.jsonl", "deribit.jsonl"];
const LEVEL_KEYS = new Set(["bids", "asks", "b", "a"]);

/** What parseBookFrame promises: JSON.parse's value with level lists as [price, qty] pairs. */
function expected(value: unknown, levels = false): {} | null {
  if (Array.isArray(value)) return levels ? value.map((l: string[]) => [l[0], l[1]]) : value.map((v) => expected(v));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expected(v, LEVEL_KEYS.has(k) && Array.isArray(v) && v.every((l) => Array.isArray(l) && l.every((s) => typeof s === "string")))]));
  return value as {} | null;
}

/** Levels whose LEVEL_VALUES entry was NaN (left to the book) in the values `withoutValues` checked. */
let leftToBook = 0;

/**
 * `parsed` with every level list's LEVEL_VALUES checked and left out: a list carries one value
 * per level, each NaN or exactly `levelValue` of the level's text.
 */
function withoutValues(parsed: unknown): unknown {
  if (Array.isArray(parsed)) {
    const values = (parsed as RawLevels)[LEVEL_VALUES];
    if (values === undefined) return parsed.map(withoutValues);
    expect(values.length).toBe(parsed.length);
    const levels = parsed as unknown as [string, string][];
    levels.forEach(([price, qty], i) => {
      const value = values[i] as number;
      if (Number.isNaN(value)) leftToBook++;
      else expect({ price, qty, value }).toEqual({ price, qty, value: levelValue(price, qty) });
    });
    return levels.map(([price, qty]) => [price, qty]);
  }
  if (typeof parsed === "object" && parsed !== null) return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, withoutValues(v)]));
  return parsed;
}

function recordedFrames(): string[] {
  return FILES.flatMap((f) => readRecording(RECORDINGS_DIR, f).map((l) => l.raw));
}

/** The built-in generator's frames and REST bodies (src/venues/<venue>/sim-generator.ts). */
function generatedFrames(): string[] {
  const source = generatorSource(2);
  return FILES.flatMap((f) => source.read(f).map((l) => l.raw));
}

const SOURCES = [
  ["recorded", recordedFrames, recordingTest],
  ["generated", generatedFrames, test],
] as const;

for (const [kind, framesOf, testOf] of SOURCES) {
  testOf(`every ${kind} frame parses to JSON.parse's value (level lists as pairs), and every book frame takes the fast path`, () => {
    let books = 0;
    leftToBook = 0;
    for (const raw of framesOf()) {
      const fast = parseBookFrame(raw);
      const isBook = raw.includes('"depthUpdate"') || raw.startsWith('{"lastUpdateId"') || raw.startsWith('{"arg":{"channel":"books"');
      if (isBook) {
        books++;
        expect({ raw: raw.slice(0, 80), fast: fast !== undefined }).toEqual({ raw: raw.slice(0, 80), fast: true });
      }
      if (fast !== undefined) expect(withoutValues(fast)).toEqual(expected(JSON.parse(raw)));
    }
    expect(books).toBeGreaterThan(400);
    // Every level is plain decimal text the parser reads itself.
    expect(leftToBook).toBe(0);
  });
}

test("an OKX level keeps price and size and drops the deprecated field and order count", () => {
  const raw = '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["30000.1","0.5","0","3"]],"bids":[],"ts":"1652459225561","checksum":-1497329017}]}';
  expect(withoutValues(parseBookFrame(raw))).toEqual({
    arg: { channel: "books", instId: "BTC-USDT" },
    action: "update",
    data: [{ asks: [["30000.1", "0.5"]], bids: [], ts: "1652459225561", checksum: -1497329017 }],
  });
});

test("numbers, literals and nesting read as JSON.parse reads them", () => {
  for (const raw of ['{"n":[0,-0,1.5,-2.25e3,1E+2,3e-2,123456789012345],"t":true,"f":false,"z":null,"o":{},"e":[],"s":""}', "[1,[2,[3]]]", '"x"', "-7", "[0,7,10,1234567890123456789,9007199254740993,0.5]"])
    expect(parseBookFrame(raw)).toEqual(JSON.parse(raw));
});

test("keys are read right when another key took their place in the key cache, and __proto__ is refused after it", () => {
  // Same first character and length: "bids" and "bidz" share a slot; only "bids" holds levels.
  expect(withoutValues(parseBookFrame('{"bids":[["1","2"]]}'))).toEqual({ bids: [["1", "2"]] });
  expect(parseBookFrame('{"bidz":[["1","2","3"]]}')).toEqual({ bidz: [["1", "2", "3"]] });
  expect(withoutValues(parseBookFrame('{"bids":[["1","2","3"]]}'))).toEqual({ bids: [["1", "2"]] });
  expect(parseBookFrame('{"__proto__":1}')).toBeUndefined();
  expect(parseBookFrame('{"__proto__":1}')).toBeUndefined();
  expect(parseBookFrame('{"a\tb":1}')).toBeUndefined();
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

for (const [kind, framesOf, testOf] of SOURCES) {
  testOf(`every truncation of a ${kind} book frame is refused exactly when JSON.parse refuses it`, () => {
    const frames = framesOf().filter((r) => r.includes('"depthUpdate"') || r.startsWith('{"arg":{"channel":"books"')).slice(0, 40);
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
        else if (fast !== undefined) expect(withoutValues(fast)).toEqual(expected(JSON.parse(cut)));
      }
    }
  });
}

test("level values: the price's exact value, negated for a zero quantity; NaN where the text is the book's to read", () => {
  const cases: [string, string, number][] = [
    ["30189", "1", 30189],
    ["30189.0", "0.5", 30189],
    ["0.00001234", "12", 0.00001234],
    ["0.1", "0.00000000", -0.1],
    ["0.3", "0", -0.3],
    ["007", "007.50", 7],
    ["123456789012345", "1", 123456789012345],
    ["12345678.9012345", "1", 12345678.9012345],
    // Left to the book: more digits than one division rounds exactly, or not plain decimal text
    // fitting Decimal(38,18) (a point last, more than 18 fraction digits), which the book refuses.
    ["1234567890123456", "1", NaN],
    ["12.", "1", NaN],
    ["12", "1.", NaN],
    ["1", `0.${"1".repeat(19)}`, NaN],
    [".5", "1", NaN],
    ["1e5", "1", NaN],
    ["0", "1", NaN],
    ["0.000", "1", NaN],
    ["1.2.3", "1", NaN],
    ["-1", "1", NaN],
    ["1", "", NaN],
    ["1", ".5", NaN],
    ["1", "1..2", NaN],
    ["1", "1.2.3", NaN],
    ["1", "-1", NaN],
    ["1", "1e-3", NaN],
    ["1", "x", NaN],
  ];
  const raw = `{"b":[${cases.map(([p, q]) => `["${p}","${q}"]`).join(",")}]}`;
  const parsed = parseBookFrame(raw) as { b: RawLevels };
  expect(parsed.b.map((l) => [l[0], l[1]])).toEqual(cases.map(([p, q]) => [p, q]));
  expect(Array.from(parsed.b[LEVEL_VALUES] ?? [])).toEqual(cases.map(([, , v]) => v));
  // Where the parser read the level, its value is the one the book reads from the text.
  cases.forEach(([p, q, v]) => {
    if (!Number.isNaN(v)) expect(levelValue(p, q)).toBe(v);
  });
});

test("a book fed the parser's level lists ends as one fed JSON.parse's, invalid levels included", () => {
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const spell = (n: number): string => {
    const r = next();
    if (r < 0.05) return Number.isInteger(n) ? `${n}.0` : `${n}0`;
    if (r < 0.08) return `0${n}`;
    // More digits than the parser reads: left to the book, which reads the text.
    if (r < 0.1) return n.toFixed(16);
    return String(n);
  };
  const quantity = (): string => {
    const r = next();
    if (r < 0.3) return "0";
    if (r < 0.4) return "0.00000000";
    if (r < 0.401) return "1.2.3";
    if (r < 0.402) return "";
    return (next() * 10).toFixed(1 + Math.floor(next() * 8));
  };
  let compared = 0;
  let refused = 0;
  for (let round = 0; round < 200; round++) {
    const fast = new PriceBook();
    const slow = new PriceBook();
    for (let update = 0; update < 30; update++) {
      const side = (): string =>
        `[${Array.from({ length: Math.floor(next() * 25) }, () => `["${spell(Math.round(1000 + next() * 60) / 4)}","${quantity()}"]`).join(",")}]`;
      const raw = `{"b":${side()},"a":${side()}}`;
      const parsed = parseBookFrame(raw) as { b: RawLevels; a: RawLevels };
      const plain = JSON.parse(raw) as { b: RawLevels; a: RawLevels };
      const a = [fast.bids.apply(parsed.b), fast.asks.apply(parsed.a)];
      const b = [slow.bids.apply(plain.b), slow.asks.apply(plain.a)];
      expect(a).toEqual(b);
      if (b.includes(false)) {
        refused++;
        break;
      }
      expect(fast.bids.top(1000)).toEqual(slow.bids.top(1000));
      expect(fast.asks.top(1000)).toEqual(slow.asks.top(1000));
      compared++;
    }
  }
  expect(compared).toBeGreaterThan(3000);
  expect(refused).toBeGreaterThan(50);
});
