import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const BUN = process.execPath;

/** A config with every venue off: the engine runs batch workers, NATS and ClickHouse only. */
function quietConfig(extra: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "spectra-cli-"));
  const file = join(dir, "config.yaml");
  const venues = ["binance_spot", "binance_derivatives", "okx_spot", "okx_derivatives", "deribit_derivatives"]
    .map((v) => `  ${v}:\n    enabled: false\n`)
    .join("");
  writeFileSync(file, `log:\n  level: info\nhttp:\n  port: 0\n  clickhouse_port: 0\nnats:\n  embedded:\n    port: 0\ntiering:\n  enabled: false\nvenues:\n${venues}${extra}`);
  return { dir, file };
}

function start(args: string[]) {
  return Bun.spawn([BUN, join(ROOT, "src/cli/start.ts"), ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { ...process.env, SPECTRA_HTTP_PORT: undefined } });
}

async function leftovers(dir: string): Promise<string> {
  const ps = Bun.spawnSync(["pgrep", "-af", dir]);
  return ps.stdout.toString().trim();
}

describe("bun run start", () => {
  test("a bad config value exits 2 naming the key, the value and what is allowed", async () => {
    const { dir, file } = quietConfig("batch_workers:\n  trade: -2\n");
    const proc = start(["--config", file, "--data-dir", dir]);
    expect(await proc.exited).toBe(2);
    const err = await new Response(proc.stderr).text();
    expect(err).toContain("'batch_workers.trade' = -2");
    expect(err).toContain(">=0");
  });

  test("an OKX book channel that needs a login, without credentials, exits 2 naming the key", async () => {
    const { dir, file } = quietConfig("");
    writeFileSync(file, (await Bun.file(file).text()).replace("  okx_spot:\n    enabled: false\n", "  okx_spot:\n    enabled: true\n    book_channel: books-l2-tbt\n"));
    const env = { ...process.env, SPECTRA_HTTP_PORT: undefined, OKX_API_KEY: undefined, OKX_API_SECRET: undefined, OKX_API_PASSPHRASE: undefined };
    const proc = Bun.spawn([BUN, join(ROOT, "src/cli/start.ts"), "--config", file, "--data-dir", dir], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env });
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain(`'venues.okx_spot.book_channel' = "books-l2-tbt" needs an OKX login`);
    expect(await leftovers(dir)).toBe("");
  });

  test("an unknown flag exits 2 with the usage line", async () => {
    const proc = start(["--replya"]);
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain("usage: bun run start");
  });

  test("--generate without --replay, or beside --replay DIR, exits 2 saying why", async () => {
    for (const [args, why] of [
      [["--generate"], "--generate needs --replay"],
      [["--replay", "/tmp/recordings", "--generate"], "--replay DIR and --generate exclude each other"],
    ] as const) {
      const proc = start([...args]);
      expect(await proc.exited).toBe(2);
      expect(await new Response(proc.stderr).text()).toContain(why);
    }
  });

  test("a role that does not exist, a bad --synthetic, or --synthetic beside --replay exits 2 saying why", async () => {
    for (const [args, why] of [
      [["--role", "collector"], "--role takes all, collect, store, not 'collector'"],
      [["--synthetic", "1000:fast"], "--synthetic takes N[:RATE[:OFFSET]] (whole numbers, N > 0), not '1000:fast'"],
      [["--synthetic", "0"], "not '0'"],
      [["--synthetic", "10", "--replay"], "--synthetic and --replay exclude each other"],
    ] as const) {
      const proc = start([...args]);
      expect(await proc.exited).toBe(2);
      expect(await new Response(proc.stderr).text()).toContain(why);
    }
  });

  test("a collector without NATS exits 2 saying it needs it", async () => {
    const { dir, file } = quietConfig("");
    writeFileSync(file, (await Bun.file(file).text()).replace("nats:\n", "nats:\n  enabled: false\n"));
    const proc = start(["--config", file, "--data-dir", dir, "--role", "collect"]);
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain("engine.role collect needs NATS between collectors and storers: nats.enabled is false");
    expect(await leftovers(dir)).toBe("");
  });

  test("a missing nats-server exits 2 naming the install command, with nothing left running", async () => {
    const { dir, file } = quietConfig("");
    writeFileSync(file, `${await Bun.file(file).text()}`.replace("  embedded:\n    port: 0\n", "  embedded:\n    port: 0\n    binary: /nonexistent/nats-server\n"));
    const proc = start(["--config", file, "--data-dir", dir]);
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain("apt-get install -y nats-server");
    expect(await leftovers(dir)).toBe("");
  });

  test("an HTTP port in use exits 2 and stops the nats-server it had started", async () => {
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") });
    try {
      const { dir, file } = quietConfig("");
      writeFileSync(file, (await Bun.file(file).text()).replace("http:\n  port: 0\n", `http:\n  port: ${blocker.port}\n`));
      const proc = start(["--config", file, "--data-dir", dir]);
      expect(await proc.exited).toBe(2);
      expect(await new Response(proc.stderr).text()).toContain(`cannot listen on http://127.0.0.1:${blocker.port}`);
      expect(await leftovers(dir)).toBe("");
    } finally {
      blocker.stop(true);
    }
  });

  test("SIGTERM stops the engine gracefully with exit code 0", async () => {
    const { dir, file } = quietConfig("");
    const proc = start(["--config", file, "--data-dir", dir]);
    const reader = proc.stdout.getReader();
    let out = "";
    const deadline = Date.now() + 60000;
    while (!out.includes("engine started")) {
      if (Date.now() > deadline) throw new Error(`engine did not start: ${out}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`engine exited early: ${out}${await new Response(proc.stderr).text()}`);
      out += new TextDecoder().decode(value);
    }
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(await leftovers(dir)).toBe("");
  });
});
