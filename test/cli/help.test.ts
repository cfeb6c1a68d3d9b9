import { describe, expect, test } from "bun:test";
import { join } from "node:path";

/** Every command line tool answers --help (and -h) with its usage, flags and exit codes, and a flag it does not know with exit 2 and its usage line. */

const ROOT = join(import.meta.dir, "..", "..");
const CLIS: readonly (readonly [name: string, file: string])[] = [
  ["start", "src/cli/start.ts"],
  ["query", "src/cli/query.ts"],
  ["tier", "src/cli/tier.ts"],
  ["book", "src/cli/book.ts"],
  ["simulate", "src/cli/simulate.ts"],
  ["normalize", "src/cli/normalize.ts"],
  ["bench", "bench/run.ts"],
  ["fuzz", "test/venues/fuzz/run-fuzz.ts"],
];

function run(file: string, ...args: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync([process.execPath, join(ROOT, file), ...args], { cwd: ROOT, env: { ...process.env, SPECTRA_LOG_LEVEL: "silent" } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("--help", () => {
  for (const [name, file] of CLIS) {
    test(`bun run ${name} --help lists its usage, every flag of the usage line and its exit codes`, () => {
      const help = run(file, "--help");
      expect(help.code).toBe(0);
      const [usage, ...rest] = help.out.split("\n");
      expect(usage?.startsWith(`usage: bun run ${name}`)).toBe(true);
      const body = rest.join("\n");
      const flagsSection = body.slice(body.indexOf("Flags:"), body.indexOf("\n\n", body.indexOf("Flags:")));
      expect(flagsSection).toContain("--help, -h");
      for (const flag of new Set(usage?.match(/--[a-z][a-z-]*/g) ?? [])) expect({ flag, listed: flagsSection.includes(`  ${flag}`) }).toEqual({ flag, listed: true });
      const exits = body.slice(body.indexOf("Exit codes:"));
      expect(exits).toMatch(/\n {2}0 {2}\S/);
      expect(exits).toMatch(/\n {2}2 {2}\S/);
      expect(run(file, "-h").out).toBe(help.out);
    });
  }

  for (const [name, file] of CLIS) {
    test(`bun run ${name} with an unknown flag exits 2 with its usage line`, () => {
      const bad = run(file, "--no-such-flag");
      expect(bad.code).toBe(2);
      expect(bad.err).toContain(`usage: bun run ${name}`);
    });
  }
});
