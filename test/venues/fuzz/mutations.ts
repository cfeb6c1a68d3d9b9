import { cloneJson, DupObject, RawJson, setSlot, slotsOf, slotValue, writeJson, type Slot } from "./json-text.ts";
import type { Prng } from "./prng.ts";

/**
 * The mutations of the fuzz run. Each takes a seed frame's text (and its parsed JSON when it is
 * JSON) and returns the mutated text. Frames are strings in the engine (Bun's WebSocket and
 * `fetch(...).text()` decode bytes as UTF-8, replacing invalid sequences with U+FFFD), so byte-level
 * damage goes through the same `TextDecoder` decoding.
 */

export interface SeedFrameText {
  readonly raw: string;
  /** `JSON.parse(raw)`, or undefined when the seed is not JSON (`pong`). */
  readonly parsed: unknown;
}

export type Mutation = (seed: SeedFrameText, rng: Prng, other: SeedFrameText) => string;

const DIGITS_400 = "9".repeat(200) + "1234567890".repeat(20);

/** Values put in place of a field: every JSON type and the number spellings that break parsers. */
const WRONG_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -1.5,
  "",
  "0",
  "-1",
  "abc",
  [],
  {},
  [[]],
  [["1", "2"]],
  [[1, 2]],
  { a: 1 },
  new RawJson(DIGITS_400),
  new RawJson(`-${DIGITS_400}`),
  new RawJson(`0.${DIGITS_400}`),
  `${DIGITS_400}`,
  `0.${DIGITS_400}`,
  new RawJson("1e400"),
  new RawJson("-1e400"),
  new RawJson("1e-400"),
  new RawJson("-0"),
  new RawJson("1E+2"),
  new RawJson("9007199254740993"),
  new RawJson("123456789012345678901234567890"),
  "NaN",
  "Infinity",
  "-Infinity",
  "-0",
  "1e5",
  "1E-7",
  "1e400",
  "0x1A",
  " 5",
  "5 ",
  "5.",
  ".5",
  "+5",
  "1_000",
  "١٢٣",
  "12345678901234567890123",
  "0.0000000000000000001",
  "99999999999999999999.999999999999999999",
  "\u0000",
  "\ud800",
  "\u2028",
  "é😀",
  "x".repeat(70_000),
];

function wrongValue(current: unknown, rng: Prng): unknown {
  // Half the time the same value in another type, which is what a venue's schema change looks like.
  if (rng.chance(0.5)) {
    if (typeof current === "string") return current !== "" && Number.isFinite(Number(current)) ? Number(current) : [current];
    if (typeof current === "number") return rng.chance(0.5) ? String(current) : new RawJson(`${current}e0`);
    if (typeof current === "boolean") return String(current);
    if (Array.isArray(current)) return rng.chance(0.5) ? { ...current } : current[0] ?? null;
    if (typeof current === "object" && current !== null) return Object.values(current);
  }
  return cloneJson0(rng.pick(WRONG_VALUES));
}

/** WRONG_VALUES holds shared objects: copy the mutable ones. */
function cloneJson0(v: unknown): unknown {
  return v instanceof RawJson || typeof v !== "object" || v === null ? v : cloneJson(v);
}

function pickSlot(root: unknown, rng: Prng): Slot | undefined {
  const slots = slotsOf(root, 4096);
  return slots.length === 0 ? undefined : rng.pick(slots);
}

/** Parsed JSON mutated at one place (falls back to a bit flip for non-JSON seeds). */
function jsonMutation(change: (root: unknown, slot: Slot, rng: Prng) => void): Mutation {
  return (seed, rng, other) => {
    if (seed.parsed === undefined || typeof seed.parsed !== "object" || seed.parsed === null) return bitFlip(seed, rng, other);
    const root = cloneJson(seed.parsed);
    const slot = pickSlot(root, rng);
    if (slot === undefined) return bitFlip(seed, rng, other);
    change(root, slot, rng);
    return writeJson(root);
  };
}

const wrongType = jsonMutation((_root, slot, rng) => setSlot(slot, wrongValue(slotValue(slot), rng)));

/** Removes a key or an array element. */
const missing = jsonMutation((_root, slot) => {
  if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
  else delete (slot.parent as Record<string, unknown>)[slot.key as string];
});

/** Writes a key twice (the later value wins in JSON.parse) or moves keys around. */
const duplicateOrReorder: Mutation = (seed, rng, other) => {
  if (seed.parsed === undefined || typeof seed.parsed !== "object" || seed.parsed === null) return bitFlip(seed, rng, other);
  const root = cloneJson(seed.parsed);
  const objects = slotsOf(root, 4096).filter((s) => {
    const v = slotValue(s);
    return typeof v === "object" && v !== null && !Array.isArray(v);
  });
  const slot: Slot | undefined = objects.length === 0 || rng.chance(0.3) ? undefined : rng.pick(objects);
  const target = (slot === undefined ? root : slotValue(slot)) as Record<string, unknown> | unknown[];
  if (Array.isArray(target)) return writeJson(target);
  const entries: [string, unknown][] = Object.entries(target);
  if (entries.length === 0) return writeJson(root);
  const mode = rng.int(4);
  if (mode === 0) {
    // Same key again with a wrong value, before or after the real one.
    const [k, v] = rng.pick(entries);
    const dup: [string, unknown] = [k, wrongValue(v, rng)];
    if (rng.chance(0.5)) entries.push(dup);
    else entries.unshift(dup);
  } else if (mode === 1) {
    for (let i = entries.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
    }
  } else if (mode === 2) {
    entries.splice(rng.int(entries.length + 1), 0, [rng.pick(["__proto__", "constructor", "x", "E", "data", "stream"]), wrongValue(undefined, rng)]);
  } else {
    const i = rng.int(entries.length);
    const [k, v] = entries[i] as [string, unknown];
    entries[i] = [rng.chance(0.5) ? k.toUpperCase() : `${k} `, v];
  }
  const dup = new DupObject(entries);
  if (slot === undefined) return writeJson(dup);
  setSlot(slot, dup);
  return writeJson(root);
};

/** Grows an array (levels, trades, rows) to thousands of copies of its elements, or mixes their order. */
const arrayAbuse = jsonMutation((root, _slot, rng) => {
  const arrays = slotsOf(root, 4096).filter((s) => Array.isArray(slotValue(s)));
  if (arrays.length === 0) return;
  const slot = rng.pick(arrays);
  const a = slotValue(slot) as unknown[];
  const mode = rng.int(4);
  if (mode === 0 && a.length > 0) {
    const n = rng.pick([1_000, 5_000, 20_000]);
    const grown: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) grown[i] = a[i % a.length];
    setSlot(slot, grown);
  } else if (mode === 1) {
    setSlot(slot, [...a].reverse());
  } else if (mode === 2 && a.length > 0) {
    setSlot(slot, [...a, ...a]);
  } else {
    setSlot(slot, []);
  }
});

const truncate: Mutation = (seed, rng) => seed.raw.slice(0, rng.int(seed.raw.length));

function bitFlip(seed: SeedFrameText, rng: Prng, _other: SeedFrameText): string {
  if (seed.raw.length === 0) return "\u0001";
  const chars = seed.raw.split("");
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) {
    const i = rng.int(chars.length);
    chars[i] = String.fromCharCode((chars[i] as string).charCodeAt(0) ^ (1 << rng.int(8)));
  }
  return chars.join("");
}

const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xa2], // overlong
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xe2, 0x82], // cut short
  [0xf0, 0x9f, 0x98], // cut short
];
const encoder = new TextEncoder();
/** What Bun's WebSocket and Response.text() do with invalid bytes: U+FFFD in their place. */
const decoder = new TextDecoder("utf-8", { fatal: false });

const invalidUtf8: Mutation = (seed, rng) => {
  const bytes = Array.from(encoder.encode(seed.raw));
  const n = 1 + rng.int(3);
  for (let k = 0; k < n; k++) {
    const at = rng.int(bytes.length + 1);
    const bad = rng.pick(INVALID_UTF8);
    bytes.splice(at, rng.chance(0.5) ? 0 : bad.length, ...bad);
  }
  return decoder.decode(new Uint8Array(bytes));
};

/** Valid JSON spelled differently: whitespace, escapes, a different number form. */
const respell: Mutation = (seed, rng, other) => {
  if (seed.parsed === undefined) return bitFlip(seed, rng, other);
  const mode = rng.int(3);
  if (mode === 0) return JSON.stringify(seed.parsed, null, rng.chance(0.5) ? 1 : "\t");
  if (mode === 1) {
    // One letter inside a string written as a \u escape: the same value, another spelling.
    const at = seed.raw.search(/[a-z]/);
    return at < 0 ? seed.raw : `${seed.raw.slice(0, at)}\\u00${seed.raw.charCodeAt(at).toString(16)}${seed.raw.slice(at + 1)}`;
  }
  return ` ${seed.raw}\n`;
};

/** Part of another frame spliced in, or two frames in one message. */
const splice: Mutation = (seed, rng, other) => {
  if (rng.chance(0.3)) return seed.raw + other.raw;
  const at = rng.int(seed.raw.length + 1);
  const from = rng.int(other.raw.length + 1);
  return seed.raw.slice(0, at) + other.raw.slice(from, from + 1 + rng.int(200)) + seed.raw.slice(at + rng.int(20));
};

/** A request URL with a parameter dropped, emptied, doubled or garbled, or its path changed. */
export function mutateUrl(url: string, rng: Prng): string {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const params = q < 0 ? [] : url.slice(q + 1).split("&");
  const mode = rng.int(6);
  const i = rng.int(Math.max(params.length, 1));
  const [k = "symbol"] = (params[i] ?? "symbol=").split("=");
  if (mode === 0) params.splice(i, 1);
  else if (mode === 1) params[i] = `${k}=`;
  else if (mode === 2) params.push(`${k}=${rng.pick(["x", "%ZZ", "BTCUSDT", "btcusdt", "BTC-USDT-SWAP", "1m", "5M", "é"])}`);
  else if (mode === 3) params[i] = `${k}=${rng.pick(["%00", "%E2%82", "+", "a&b", "\u0000"])}`;
  else if (mode === 4) return `${path}/${rng.pick(["", "x", "depth"])}${q < 0 ? "" : url.slice(q)}`;
  else return path.slice(0, rng.int(path.length + 1)) + (q < 0 ? "" : url.slice(q));
  return params.length === 0 ? path : `${path}?${params.join("&")}`;
}

const LITERAL_FRAMES = ["", " ", "null", "true", "0", "-0", "1e400", '""', "[]", "{}", "[{}]", '{"data":null}', '{"stream":1}', "pong", "ping", "\u0000", "{".repeat(50)];
const literal: Mutation = (_seed, rng) => rng.pick(LITERAL_FRAMES);

/** The everyday mutations with their weights. */
export const MUTATIONS: readonly (readonly [string, number, Mutation])[] = [
  ["wrong_type", 30, wrongType],
  ["missing", 10, missing],
  ["duplicate_reorder", 10, duplicateOrReorder],
  ["truncate", 10, truncate],
  ["bit_flip", 15, bitFlip],
  ["invalid_utf8", 8, invalidUtf8],
  ["respell", 6, respell],
  ["array_abuse", 3, arrayAbuse],
  ["splice", 5, splice],
  ["literal", 3, literal],
];

export type Giant = readonly [string, Mutation];

/**
 * The expensive ones, run a fixed number of times per seed: nesting 10,000 deep and `deep`
 * deep (1,000,000 in the full run), 10 MB frames (a string, whitespace), a level list of `levels`
 * levels (400,000, ~8.6 MB, in the full run), and a 400-digit number in place.
 */
export function giants(deep: number, levels: number): readonly Giant[] {
  let string10mb: string | undefined;
  let spaces10mb: string | undefined;
  return [
    ["nesting_10k_arrays", (seed, rng) => embed(seed, rng, "[".repeat(10_000) + "]".repeat(10_000))],
    ["nesting_10k_objects", (seed, rng) => embed(seed, rng, '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000))],
    [`nesting_${deep}_arrays`, (seed, rng) => embed(seed, rng, "[".repeat(deep) + "]".repeat(deep))],
    [`unclosed_${deep}`, (seed) => seed.raw.slice(0, seed.raw.length >> 1) + "[".repeat(deep)],
    ["string_10mb", (seed, rng) => embed(seed, rng, (string10mb ??= JSON.stringify("7".repeat(10_000_000))))],
    ["whitespace_10mb", (seed) => (spaces10mb ??= " ".repeat(10_000_000)) + seed.raw],
    [`levels_${levels}`, (seed, rng) => hugeLevels(seed, rng, levels)],
    ["number_400_digits", (seed, rng) => embed(seed, rng, DIGITS_400)],
  ];
}

/** The seed with `text` (raw JSON) in place of one of its values. */
function embed(seed: SeedFrameText, rng: Prng, text: string): string {
  if (seed.parsed === undefined || typeof seed.parsed !== "object" || seed.parsed === null) return text;
  const root = cloneJson(seed.parsed);
  const slot = pickSlot(root, rng);
  if (slot === undefined) return text;
  setSlot(slot, new RawJson(text));
  return writeJson(root);
}

/** One of the seed's level lists (or a new `bids` one) replaced by `n` levels. */
function hugeLevels(seed: SeedFrameText, rng: Prng, n: number): string {
  if (seed.parsed === undefined || typeof seed.parsed !== "object" || seed.parsed === null) return seed.raw;
  const root = cloneJson(seed.parsed);
  const lists = slotsOf(root, 100_000).filter((s) => ["b", "a", "bids", "asks"].includes(String(s.key)) && Array.isArray(slotValue(s)));
  const levels: string[][] = new Array(n);
  const descending = rng.chance(0.5);
  for (let i = 0; i < n; i++) levels[i] = [(descending ? 500_000 - i : 1 + i).toFixed(2), rng.chance(0.1) ? "0" : "1.000"];
  if (lists.length === 0) return writeJson({ ...(root as object), bids: levels });
  setSlot(rng.pick(lists), levels);
  return writeJson(root);
}
