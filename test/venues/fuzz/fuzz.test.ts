import { describe, expect, test } from "bun:test";
import { getVenue } from "../../../src/venues/registry.ts";
import { type FuzzReport, runFuzz } from "./fuzz-run.ts";
import { giants, MUTATIONS } from "./mutations.ts";
import { RECORDINGS_DIR, recordedSeeds } from "./recorded-seeds.ts";
import { writtenSeeds } from "./seeds.ts";

/**
 * Malformed input at volume: seeded mutations of protocol-faithful frames through every venue
 * normalizer (registry.ts) and the book frame parser. Reduced here; the full million runs with
 * `bun run fuzz` (SPECTRA_FUZZ_FRAMES, SPECTRA_FUZZ_SEED), or with SPECTRA_FUZZ_FRAMES set here.
 */

const FRAMES = Number(process.env.SPECTRA_FUZZ_FRAMES ?? 30_000);
/** The recordings' frames are larger (snapshots of 20-48 KB): fewer of them keep the file near 15 s. */
const RECORDED_FRAMES = Number(process.env.SPECTRA_FUZZ_FRAMES ?? 20_000);
const SEED = Number(process.env.SPECTRA_FUZZ_SEED ?? 1);
const REDUCED_GIANTS = giants(100_000, 20_000);

function failuresOf(report: FuzzReport): string[] {
  return report.failures.map((f) => `${f.origin} #${f.index} ${f.mutation} ${f.kind}: ${f.message}\n  ${f.frame}`);
}

describe("malformed input at volume (seeded fuzz)", () => {
  test(`${FRAMES} frames from the written seeds: nothing thrown, every frame counted, every record storable, every book verifies or ended in a gap`, () => {
    const report = runFuzz(writtenSeeds(), { frames: FRAMES, seed: SEED, giants: REDUCED_GIANTS, giants_per_seed: 1 });
    expect(failuresOf(report)).toEqual([]);
    expect(report.frames).toBeGreaterThanOrEqual(FRAMES);
    for (const name of [...MUTATIONS.map((m) => m[0]), "url"]) expect(report.mutated[name] ?? 0).toBeGreaterThan(0);
    for (const [name] of REDUCED_GIANTS) expect(report.mutated[name]).toBe(5);
    // Meaningful work: every venue still maps every data type it collects, and sees bad input of every kind.
    for (const s of report.seeds) {
      const unmapped = getVenue(s.venue).data_types.filter((t) => (s.stats.records[t] ?? 0) === 0);
      expect(`${s.venue}: ${unmapped.join(",")}`).toBe(`${s.venue}: `);
      expect(s.stats.errors).toBeGreaterThan(0);
      expect(s.stats.unrecognized).toBeGreaterThan(0);
      expect(s.stats.ignored).toBeGreaterThan(0);
    }
    for (const s of report.seeds.filter((x) => x.venue !== "deribit_derivatives")) {
      expect(s.gaps).toBeGreaterThan(0);
      expect(s.stats.records.orderbook ?? 0).toBeGreaterThan(0);
    }
  });

  test("the same seed gives the same run, a different seed a different one", () => {
    const strip = (r: FuzzReport) => ({ ...r, elapsed_ms: 0 });
    const options = { frames: 3_000, giants: [], giants_per_seed: 0 };
    const a = runFuzz(writtenSeeds(), { ...options, seed: 5 });
    expect(strip(runFuzz(writtenSeeds(), { ...options, seed: 5 }))).toEqual(strip(a));
    expect(strip(runFuzz(writtenSeeds(), { ...options, seed: 6 }))).not.toEqual(strip(a));
  });

  const recorded = recordedSeeds();
  if (recorded === undefined) console.warn(`fuzz: skipping the recorded seeds, ${RECORDINGS_DIR} not found`);
  test.skipIf(recorded === undefined)(`${RECORDED_FRAMES} frames from the recordings in ../shared/fixtures/exchanges (skipped when the folder is absent)`, () => {
    const report = runFuzz(recorded ?? [], { frames: RECORDED_FRAMES, seed: SEED, giants: [], giants_per_seed: 0 });
    expect(failuresOf(report)).toEqual([]);
    expect(report.seeds.map((s) => s.venue).sort()).toEqual(["binance_derivatives", "binance_spot", "deribit_derivatives", "okx_derivatives", "okx_spot"]);
    for (const s of report.seeds) expect(s.stats.errors + s.stats.unrecognized).toBeGreaterThan(0);
  });
});
