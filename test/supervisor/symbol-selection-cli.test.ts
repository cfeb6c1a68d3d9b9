import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";

const ROOT = join(import.meta.dir, "../..");
const BUN = process.execPath;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ source: generatorSource(4), rate: 50 });
});
afterAll(async () => {
  await sim.stop();
});

/** Runs `bun run start` with one venue on, pointed at the simulator, with `symbols` as YAML. */
async function start(venue: string, symbols: string): Promise<{ code: number; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "spectra-select-"));
  const file = join(dir, "config.yaml");
  const venues = ["binance_spot", "binance_derivatives", "okx_spot", "okx_derivatives", "deribit_derivatives"]
    .map((v) =>
      v === venue
        ? `  ${v}:\n    enabled: true\n    symbols: ${symbols}\n    ws_url: ${sim.url.replace("http", "ws")}/${v}\n    rest_url: ${sim.url}/${v}\n`
        : `  ${v}:\n    enabled: false\n`,
    )
    .join("");
  writeFileSync(file, `log:\n  level: warn\nhttp:\n  enabled: false\nnats:\n  enabled: false\nclickhouse:\n  enabled: false\ntiering:\n  enabled: false\nvenues:\n${venues}`);
  const proc = Bun.spawn([BUN, join(ROOT, "src/cli/start.ts"), "--config", file, "--data-dir", dir], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { ...process.env, SPECTRA_HTTP_PORT: undefined } });
  const code = await proc.exited;
  return { code, stderr: await new Response(proc.stderr).text() };
}

describe("symbol resolution at start", () => {
  test("an explicit symbol the venue does not list exits 2 naming it and the closest listed symbols", async () => {
    const { code, stderr } = await start("binance_spot", "[BTCUSTD, ETHUSDT]");
    expect(code).toBe(2);
    expect(stderr).toContain("'venues.binance_spot.symbols' has BTCUSTD, which binance_spot does not list (closest listed: BTCUSDT, ETHUSDT, SOLUSDT)");
  }, 30_000);

  test("a selector that matches nothing exits 2 naming the venue", async () => {
    const { code, stderr } = await start("okx_derivatives", "{ quote: [EUR] }");
    expect(code).toBe(2);
    expect(stderr).toContain(`'venues.okx_derivatives.symbols' = {"quote":["EUR"]} matches none of the 4 instruments okx_derivatives lists as trading`);
  }, 30_000);
});
