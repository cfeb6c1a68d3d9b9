import { describe, test } from "bun:test";
import { existsSync } from "node:fs";
import { defaultRecordingsDir } from "../../src/replay/recording.ts";

/**
 * Tests that need the real 2021-22 recordings (../shared/fixtures/exchanges beside the
 * checkout). A fresh clone has no ../shared: those tests are skipped, and the name of each
 * skipped test says which folder is missing; everything else runs on the built-in generator or
 * on the small fixtures under test/.
 */

export const RECORDINGS_DIR = defaultRecordingsDir();
export const HAVE_RECORDINGS = existsSync(RECORDINGS_DIR);

const MISSING = ` [skipped: recordings folder ${RECORDINGS_DIR} is missing]`;

if (!HAVE_RECORDINGS) process.stderr.write(`recordings folder ${RECORDINGS_DIR} is missing: the tests that read it are skipped\n`);

/** `test`, or a skipped test naming the missing recordings folder. */
export function recordingTest(name: string, fn: () => void | Promise<void>, timeout_ms?: number): void {
  if (HAVE_RECORDINGS) test(name, fn, timeout_ms);
  else test.skip(name + MISSING, fn);
}

/** `describe`, or a skipped block naming the missing recordings folder. */
export function recordingDescribe(name: string, fn: () => void): void {
  if (HAVE_RECORDINGS) describe(name, fn);
  else describe.skip(name + MISSING, fn);
}
