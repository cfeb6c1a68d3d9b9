import type { VenueKey } from "../../../src/config/schema.ts";
import type { MarketRecord } from "../../../src/records/types.ts";
import { getVenue } from "../../../src/venues/registry.ts";
import type { NormalizerStats } from "../../../src/venues/normalizer-stats.ts";
import type { Normalizer, RawFrame } from "../../../src/venues/types.ts";
import { parserProblem, recordProblem } from "./checks.ts";
import { type Giant, MUTATIONS, type Mutation, mutateUrl, type SeedFrameText } from "./mutations.ts";
import { Prng } from "./prng.ts";
import type { FuzzSeed } from "./seeds.ts";

/**
 * The fuzz driver: replays each seed's script in a loop through a normalizer made by the venue
 * registry, mutating about half of the frames (MUTATIONS), now and then repeating, dropping or
 * swapping one, or losing the connection, and feeding GIANTS a fixed number of times. After
 * every frame it checks that nothing was thrown and the frame moved a counter; every record is
 * checked as it is emitted (checks.ts); every book is verified every VERIFY_EVERY frames and at
 * the end. Problems are collected, not thrown, so one run reports them all.
 */

export interface FuzzFailure {
  readonly origin: string;
  readonly index: number;
  readonly mutation: string;
  readonly kind: "exception" | "uncounted" | "bad_record" | "book" | "parser";
  readonly message: string;
  /** The frame, cut to 300 characters, after its URL. */
  readonly frame: string;
  /** The whole frame when it is short enough to be a regression test's input. */
  readonly full?: RawFrame;
}

export interface SeedReport {
  readonly origin: string;
  readonly venue: VenueKey;
  readonly frames: number;
  readonly stats: NormalizerStats;
  readonly gaps: number;
  readonly books: number;
  readonly live_books: number;
}

export interface FuzzReport {
  readonly frames: number;
  readonly mutated: Readonly<Record<string, number>>;
  readonly seeds: readonly SeedReport[];
  readonly failures: readonly FuzzFailure[];
  readonly elapsed_ms: number;
}

export interface FuzzOptions {
  /** Frames in all, shared evenly between the seeds. */
  readonly frames: number;
  readonly seed: number;
  /** The expensive mutations (`giants` in mutations.ts) and how many times each seed gets each. */
  readonly giants: readonly Giant[];
  readonly giants_per_seed: number;
}

const DEPTH = 20;
const VERIFY_EVERY = 2_000;
const MAX_FAILURES = 200;
const TOTAL_WEIGHT = MUTATIONS.reduce((n, m) => n + m[1], 0);

function pickMutation(rng: Prng): readonly [string, Mutation] {
  let w = rng.next() * TOTAL_WEIGHT;
  for (const m of MUTATIONS) {
    w -= m[1];
    if (w < 0) return [m[0], m[2]];
  }
  const last = MUTATIONS[MUTATIONS.length - 1] as (typeof MUTATIONS)[number];
  return [last[0], last[2]];
}

function countersOf(s: NormalizerStats, emitted: number): number {
  return s.ignored + s.absorbed + s.unrecognized + s.errors + emitted;
}

export function runFuzz(seeds: readonly FuzzSeed[], options: FuzzOptions): FuzzReport {
  const started = performance.now();
  const rng = new Prng(options.seed);
  const failures: FuzzFailure[] = [];
  const mutated: Record<string, number> = {};
  const reports: SeedReport[] = [];
  let total = 0;
  const perSeed = Math.ceil(options.frames / seeds.length);
  for (const seed of seeds) {
    const r = runSeed(seed, perSeed, options, rng, failures, mutated);
    reports.push(r);
    total += r.frames;
  }
  return { frames: total, mutated, seeds: reports, failures, elapsed_ms: performance.now() - started };
}

function runSeed(seed: FuzzSeed, budget: number, options: FuzzOptions, rng: Prng, failures: FuzzFailure[], mutated: Record<string, number>): SeedReport {
  const def = getVenue(seed.venue);
  const texts: SeedFrameText[] = seed.frames.map((f) => ({ raw: f.raw, parsed: parseOrUndefined(f.raw) }));
  let current: { frame: RawFrame; mutation: string; index: number } | undefined;
  let emitted = 0;
  let gaps = 0;
  /** Per symbol: whether its latest orderbook-related record is a gap (or a reconnect happened). */
  const gapped = new Map<string, boolean>();
  const fail = (kind: FuzzFailure["kind"], message: string): void => {
    if (failures.length >= MAX_FAILURES || current === undefined) return;
    const raw = current.frame.raw;
    failures.push({
      origin: seed.origin,
      index: current.index,
      mutation: current.mutation,
      kind,
      message,
      frame: `${current.frame.source} ${current.frame.url} ${raw.length > 300 ? `${raw.slice(0, 300)}… (${raw.length} chars)` : raw}`,
      full: raw.length <= 4096 ? current.frame : undefined,
    });
  };
  const emit = (r: MarketRecord): void => {
    emitted++;
    if (r.data_type === "gap") gaps++;
    if (r.data_type === "orderbook" || (r.data_type === "gap" && r.data_type_affected === "orderbook"))
      gapped.set(`${r.market_type}|${r.symbol}`, r.data_type === "gap");
    const problem = recordProblem(r, def.exchange, seed.instruments, DEPTH);
    if (problem !== undefined) fail("bad_record", `${r.data_type}: ${problem}`);
  };
  const normalizer = def.createNormalizer({
    symbols: seed.symbols,
    data_types: def.data_types,
    depth: DEPTH,
    snapshot_interval_ms: 0,
    instruments: seed.instruments,
    emit,
  });
  const giantAt = new Map<number, Giant>();
  const giantCount = options.giants_per_seed * options.giants.length;
  for (let g = 0; g < giantCount; g++) giantAt.set(Math.floor(((g + 0.5) * budget) / giantCount), options.giants[g % options.giants.length] as Giant);

  const feed = (frame: RawFrame, mutation: string, index: number): void => {
    current = { frame, mutation, index };
    const before = countersOf(normalizer.stats, emitted);
    const framesBefore = normalizer.stats.frames;
    try {
      normalizer.push(frame);
      normalizer.takeSnapshotRequests();
      normalizer.takeResubscribeRequests();
    } catch (e) {
      fail("exception", e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      return;
    }
    if (normalizer.stats.frames !== framesBefore + 1) fail("uncounted", `frames went ${framesBefore} -> ${normalizer.stats.frames}`);
    else if (countersOf(normalizer.stats, emitted) === before) fail("uncounted", "no record and no counter for the frame");
    if (frame.raw.length <= 200_000 && mutation !== "none") {
      try {
        const p = parserProblem(frame.raw);
        if (p !== undefined) fail("parser", p);
      } catch (e) {
        fail("parser", e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
    }
  };

  let pos = 0;
  for (let i = 0; i < budget; i++) {
    const base = seed.frames[pos % seed.frames.length] as RawFrame;
    const text = texts[pos % texts.length] as SeedFrameText;
    pos++;
    const giant = giantAt.get(i);
    if (giant !== undefined) {
      mutated[giant[0]] = (mutated[giant[0]] ?? 0) + 1;
      feed({ ...base, raw: giant[1](text, rng, rng.pick(texts)) }, giant[0], i);
      continue;
    }
    const roll = rng.next();
    if (roll < 0.5) {
      feed(base, "none", i);
    } else if (roll < 0.51) {
      // The stream repeats a frame.
      feed(base, "repeat", i);
      i++;
      feed(base, "repeat", i);
    } else if (roll < 0.52) {
      // The stream drops a frame: this one is never pushed.
      i--;
    } else if (roll < 0.53) {
      // Two frames arrive swapped.
      const next = seed.frames[pos % seed.frames.length] as RawFrame;
      pos++;
      feed(next, "swap", i);
      i++;
      feed(base, "swap", i);
    } else if (roll < 0.5305) {
      normalizer.connectionLost(base.recv_ts_ms);
      // The connection layer writes the reconnect gap for every book.
      for (const key of gapped.keys()) gapped.set(key, true);
      feed(base, "after_reconnect", i);
    } else if (base.source === "http" && roll < 0.56) {
      // A REST reply routed by a request URL that is not the usual one.
      mutated.url = (mutated.url ?? 0) + 1;
      feed({ ...base, url: mutateUrl(base.url, rng) }, "url", i);
    } else {
      const [name, m] = pickMutation(rng);
      mutated[name] = (mutated[name] ?? 0) + 1;
      feed({ ...base, raw: m(text, rng, rng.pick(texts)) }, name, i);
    }
    if (i % VERIFY_EVERY === 0) verify(normalizer, seed, gapped, fail);
  }
  verify(normalizer, seed, gapped, fail);
  const books = normalizer.bookHealth();
  return {
    origin: seed.origin,
    venue: seed.venue,
    frames: normalizer.stats.frames,
    stats: normalizer.stats,
    gaps,
    books: books.length,
    live_books: books.filter((b) => b.state === "live").length,
  };
}

/** Live books must verify; a book that stopped being live must have ended in a gap record. */
function verify(normalizer: Normalizer, seed: FuzzSeed, gapped: Map<string, boolean>, fail: (kind: "book", m: string) => void): void {
  for (const v of normalizer.verifyBooks()) {
    if (v.problem !== undefined) fail("book", `${v.native} (${v.state}): ${v.problem}`);
    const inst = seed.instruments.get(v.native);
    const key = inst === undefined ? "" : `${inst.market_type}|${inst.symbol}`;
    if (v.state === "stale" && gapped.get(key) === false) fail("book", `${v.native} went stale after its last record with no gap record`);
  }
}

function parseOrUndefined(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
