/**
 * The one way tests wait for work: poll `check` until it holds, or fail naming `what` after
 * `timeout_ms`. No fixed sleeps stand in for a condition.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeout_ms = 10_000, poll_ms = 5): Promise<void> {
  const deadline = performance.now() + timeout_ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}`);
    await Bun.sleep(poll_ms);
  }
}
