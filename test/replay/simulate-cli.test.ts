import { expect, test } from "bun:test";
import { join } from "node:path";
import { configWith } from "../../src/config/load.ts";
import { VENUE_KEYS, type VenueKey } from "../../src/config/venue-keys.ts";
import { ingestRunner } from "../connection/support.ts";
import { waitFor } from "../support/wait.ts";

/** `bun run simulate`: the simulator alone as a child process, and a real IngestRunner pointed at it. */

const ROOT = join(import.meta.dir, "../..");
const CLI = [process.execPath, join(ROOT, "src/cli/simulate.ts")];

interface Ready {
  readonly url: string;
  readonly source: string;
  readonly venues: Record<VenueKey, { ws_url: string; rest_url: string }>;
  readonly symbols: Record<VenueKey, string[]>;
}

/** The first stdout line of `proc`, within `timeout_ms`. */
async function firstLine(proc: Bun.Subprocess<"ignore", "pipe", "pipe">, timeout_ms: number): Promise<string> {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = setTimeout(() => proc.kill(), timeout_ms);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`simulate exited before its ready line: ${await new Response(proc.stderr).text()}`);
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
  return text.slice(0, text.indexOf("\n"));
}

for (const rate of ["500", "live"]) {
  test(`bun run simulate --generate --symbols 2 --rate ${rate} prints its URLs when ready and serves an IngestRunner every data type`, async () => {
    const proc = Bun.spawn([...CLI, "--generate", "--symbols", "2", "--rate", rate], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    try {
      const ready = JSON.parse(await firstLine(proc, 15_000)) as Ready;
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready.source).toBe("generator (2 symbols per venue)");
      for (const venue of VENUE_KEYS) {
        expect(ready.venues[venue]).toEqual({ ws_url: `${ready.url.replace("http", "ws")}/${venue}`, rest_url: `${ready.url}/${venue}` });
      }
      expect(ready.symbols.binance_derivatives).toEqual(["BTCUSDT", "ETHUSDT"]);
      expect(ready.symbols.okx_derivatives).toEqual(["BTC-USDT-SWAP", "ETH-USDT-SWAP"]);

      // Any config can point at it: the venue's urls and symbols from the ready line.
      const venue = "binance_derivatives";
      const config = configWith({ venues: { [venue]: { ...ready.venues[venue], symbols: ready.symbols[venue] } } });
      // Open interest is priced with the mark price, which the simulator pushes once a second:
      // the first poll waits for one (a poll before it is not stored, and the next is 5 min later).
      const { runner, records } = ingestRunner(venue, config.venues[venue], { first_poll_delay_ms: 2500 });
      await runner.start();
      const types = ["trade", "orderbook", "funding_rate", "open_interest", "liquidation", "lsr_top_position", "lsr_all_account"];
      try {
        await waitFor(`${venue} types from the simulate process`, () => types.every((t) => records.some((r) => r.data_type === t)), 20_000);
      } finally {
        await runner.stop();
      }
      expect(records.filter((r) => r.data_type === "gap")).toEqual([]);
      expect(new Set(records.map((r) => r.symbol))).toEqual(new Set(["BTC-USDT", "ETH-USDT"]));
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill();
    }
  }, 40_000);
}

test("bun run simulate --lifetime-s 2: a Binance connection gets serverShutdown, then is closed", async () => {
  const proc = Bun.spawn([...CLI, "--generate", "--symbols", "1", "--lifetime-s", "2"], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  try {
    const ready = JSON.parse(await firstLine(proc, 15_000)) as Ready;
    const ws = new WebSocket(`${ready.venues.binance_spot.ws_url}/stream?streams=btcusdt@depth@100ms`);
    let shutdown = false;
    let closed = false;
    ws.addEventListener("message", (e) => {
      if (String(e.data).includes('"serverShutdown"')) shutdown = true;
    });
    ws.addEventListener("close", () => {
      closed = shutdown;
    });
    await waitFor("serverShutdown, then the close", () => closed, 10_000);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill();
  }
}, 30_000);

test("bun run simulate: --help exits 0 naming the exit codes; bad arguments and a missing folder exit 2", () => {
  const run = (args: string[]) => Bun.spawnSync([...CLI, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const help = run(["--help"]);
  expect(help.exitCode).toBe(0);
  expect(help.stdout.toString()).toContain("Exit codes:\n  0  stopped by SIGINT/SIGTERM\n  2  bad arguments, or the simulator cannot start\n");
  for (const [args, message] of [
    [["--symbols", "0"], "--symbols must be at least 1"],
    [["--recordings", "/nonexistent/recordings", "--generate"], "--recordings excludes --generate"],
    [["--rate", "fast"], '--rate wants a non-negative integer, got "fast"'],
    [["--lifetime-s", "0"], "--lifetime-s must be at least 1"],
    [["--recordings", "/nonexistent/recordings"], "/nonexistent/recordings"],
    [["--bogus"], "bogus"],
  ] as const) {
    const r = run([...args]);
    expect({ args, code: r.exitCode }).toEqual({ args, code: 2 });
    expect(r.stderr.toString()).toContain(message);
    expect(r.stdout.toString()).toBe("");
  }
});
