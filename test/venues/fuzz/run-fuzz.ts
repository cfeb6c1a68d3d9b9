import { runFuzz, type FuzzReport } from "./fuzz-run.ts";
import { giants } from "./mutations.ts";
import { RECORDINGS_DIR, recordedSeeds } from "./recorded-seeds.ts";
import { writtenSeeds } from "./seeds.ts";
import { helpText, usageLine, wantsHelp, type CommandHelp } from "../../../src/cli/help.ts";

/**
 * `bun run fuzz`: the full run, SPECTRA_FUZZ_FRAMES frames (default 1,000,000) from
 * SPECTRA_FUZZ_SEED (default 1), over the written seeds and, when present, the recordings.
 * Prints the report as JSON; exits 1 when any check failed.
 */

export const DEFAULT_SEED = 1;

export function fuzzSeeds(log: (line: string) => void) {
  const recorded = recordedSeeds();
  if (recorded === undefined) log(`fuzz: recordings not found at ${RECORDINGS_DIR}; fuzzing the written seeds only`);
  return [...writtenSeeds(), ...(recorded ?? [])];
}

export function summary(report: FuzzReport): Record<string, unknown> {
  return {
    frames: report.frames,
    frames_per_s: Math.round(report.frames / (report.elapsed_ms / 1000)),
    elapsed_s: Math.round(report.elapsed_ms) / 1000,
    mutated: report.mutated,
    seeds: report.seeds.map((s) => ({
      origin: s.origin,
      frames: s.frames,
      records: s.stats.records,
      ignored: s.stats.ignored,
      absorbed: s.stats.absorbed,
      unrecognized: s.stats.unrecognized,
      errors: s.stats.errors,
      gaps: s.gaps,
      books: `${s.live_books}/${s.books} live`,
    })),
    failures: report.failures.length,
  };
}

export const FUZZ_HELP: CommandHelp = {
  usage: "bun run fuzz",
  about: "Mutates frames from the written seeds (and the recordings, when ../shared is present) and feeds them to every venue normalizer and the book frame parser, checking that nothing throws, bad input is counted and records stay valid. Prints the report as JSON.",
  flags: [["--help, -h", "this text"]],
  env: [
    ["SPECTRA_FUZZ_FRAMES", "mutated frames (default 1,000,000)"],
    ["SPECTRA_FUZZ_SEED", `the run's random seed (default ${DEFAULT_SEED})`],
    ["SPECTRA_FUZZ_GIANTS", "oversized frames per seed (default 2)"],
  ],
  exits: [
    [0, "every check held"],
    [1, "a check failed (each failure is printed)"],
    [2, "bad arguments"],
  ],
};

if (import.meta.main) {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(helpText(FUZZ_HELP));
    process.exit(0);
  }
  if (argv.length > 0) {
    process.stderr.write(`fuzz: unknown argument '${argv[0]}'\n${usageLine(FUZZ_HELP)}\n`);
    process.exit(2);
  }
  const frames = Number(process.env.SPECTRA_FUZZ_FRAMES ?? 1_000_000);
  const seed = Number(process.env.SPECTRA_FUZZ_SEED ?? DEFAULT_SEED);
  const giantsPerSeed = Number(process.env.SPECTRA_FUZZ_GIANTS ?? 2);
  const report = runFuzz(fuzzSeeds((l) => console.error(l)), { frames, seed, giants: giants(1_000_000, 400_000), giants_per_seed: giantsPerSeed });
  console.log(JSON.stringify(summary(report), null, 1));
  for (const f of report.failures) console.log(JSON.stringify({ ...f, full: undefined }));
  process.exit(report.failures.length === 0 ? 0 : 1);
}
