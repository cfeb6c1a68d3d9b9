import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configWith } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startReplay } from "../../src/replay/replay-mode.ts";

const log = createLogger("silent");

test("replay.rate live starts the generator at live rates when no recordings directory is named", async () => {
  const replay = await startReplay(configWith({ replay: { rate: "live" } }), null, log);
  try {
    expect(replay.simulator.source).toBe("generator (4 symbols per venue)");
  } finally {
    await replay.stop();
  }
});

test("replay.rate live with a named recordings directory is refused, naming the source", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spectra-recordings-"));
  await expect(startReplay(configWith({ replay: { rate: "live" } }), dir, log)).rejects.toThrow(`simulator: rate "live" needs the generator, not recordings ${dir}`);
});
