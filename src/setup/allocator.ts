/**
 * Settings of Bun's allocator (mimalloc) the engine runs with. mimalloc reads them from the
 * environment once, as the process starts, so `npm start` / `bun run start` set them in front of
 * the command (package.json) and bench/e2e.bench.ts passes them to the engine it spawns. A
 * value already in the environment wins in both.
 *
 * MIMALLOC_PURGE_HOLES_MIN_INTERVAL, ms (Bun's default 100): how often a thread may hand the
 * free blocks inside its still-used pages back to the OS. Every thread here allocates and frees
 * at a high rate (frame strings, records, batches), and at the default mimalloc's scavenger
 * thread took 6.0-6.5 % of a core in the e2e bench; at 1000 it took 2.6-2.7 % with RSS in the
 * same band (nine alternated 60 s runs; turning the purging off took it to 1 % and RSS ~200 MB
 * higher).
 */
export const ENGINE_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_HOLES_MIN_INTERVAL: "1000",
};

/** `env` plus every ENGINE_ALLOCATOR_ENV setting it does not already have. */
export function withAllocatorEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const [name, value] of Object.entries(ENGINE_ALLOCATOR_ENV)) out[name] ??= value;
  return out;
}
