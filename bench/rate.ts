/**
 * Runs `pass` once to warm up (JIT), then repeats it until `min_ms` has elapsed; returns the
 * rate of `items_per_pass` (frames, updates) per second.
 */
export function rate(items_per_pass: number, min_ms: number, pass: () => void): number {
  pass();
  let passes = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    pass();
    passes++;
    elapsed = performance.now() - started;
  } while (elapsed < min_ms);
  return Math.round((items_per_pass * passes) / (elapsed / 1000));
}
