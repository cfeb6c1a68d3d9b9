import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redactSecrets, redactUrlCredentials, registerSecrets } from "../../src/log/redact.ts";
import { startTestNats, type TestNats } from "../support/nats.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Secrets planted in the config file and the environment of a real `bun run start` process
 * never show in its log output, its stderr, or what /stats, /health and /metrics answer.
 */

const ROOT = join(import.meta.dir, "../..");
const BUN = process.execPath;

const PLANTED = {
  clickhouse_password: "ch-pw-PLANTED-71",
  cold_password: "cold-pw-PLANTED-72",
  auth_token: "tok-PLANTED-73",
  nats_password: "nats-pw-PLANTED-74",
  cold_url_password: "url-pw-PLANTED-75",
};

const VENUES_OFF = ["binance_spot", "binance_derivatives", "okx_spot", "okx_derivatives", "deribit_derivatives"].map((v) => `  ${v}:\n    enabled: false\n`).join("");

function configFile(body: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "spectra-secrets-"));
  const file = join(dir, "config.yaml");
  writeFileSync(file, `log:\n  level: info\nhttp:\n  port: 0\nvenues:\n${VENUES_OFF}${body}`);
  return { dir, file };
}

function start(file: string, dir: string) {
  return Bun.spawn([BUN, join(ROOT, "src/cli/start.ts"), "--config", file, "--data-dir", dir], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...process.env,
      SPECTRA_HTTP_PORT: undefined,
      CLICKHOUSE_PASSWORD: PLANTED.clickhouse_password,
      SPECTRA_TIERING_COLD_PASSWORD: PLANTED.cold_password,
      SPECTRA_HTTP_TOKEN: PLANTED.auth_token,
    },
  });
}

/** Collects a stream's text as it arrives. */
function collect(stream: ReadableStream<Uint8Array>): { text(): string; done: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return { text: () => text, done };
}

function expectNoSecret(where: string, text: string): void {
  for (const [name, value] of Object.entries(PLANTED)) expect({ where, name, found: text.includes(value) }).toEqual({ where, name, found: false });
}

let nats: TestNats | undefined;
afterAll(async () => {
  await nats?.stop();
});

describe("secrets stay secret", () => {
  test("a running engine's logs, /stats, /health and /metrics show no password, token or URL credential", async () => {
    nats = await startTestNats();
    const natsUrl = `nats://spectra:${PLANTED.nats_password}@127.0.0.1:${nats.port}`;
    const { dir, file } = configFile(`nats:\n  servers: [${natsUrl}]\ntiering:\n  enabled: false\n  cold_user: cold\n`);
    const proc = start(file, dir);
    const out = collect(proc.stdout);
    const err = collect(proc.stderr);
    try {
      await waitFor("engine started", () => /"msg":"engine started"/.test(out.text()), 60_000);
      const line = out.text().split("\n").find((l) => l.includes('"msg":"engine started"')) ?? "";
      const { http, nats: loggedNats } = JSON.parse(line) as { http: string; nats: string };
      // The URL is logged, with its credentials masked.
      expect(loggedNats).toBe(`nats://***@127.0.0.1:${nats.port}`);
      const auth = { authorization: `Bearer ${PLANTED.auth_token}` };
      const stats = await fetch(`${http}/stats`, { headers: auth });
      expect(stats.status).toBe(200);
      const statsText = await stats.text();
      expect((JSON.parse(statsText) as { nats: { url: string } }).nats.url).toBe(`nats://***@127.0.0.1:${nats.port}`);
      expectNoSecret("/stats", statsText);
      const health = await fetch(`${http}/health`);
      expectNoSecret("/health", await health.text());
      expectNoSecret("/metrics", await (await fetch(`${http}/metrics`)).text());
      // An error message that carries a secret (ClickHouse echoes the text) comes back masked.
      const echoed = await fetch(`${http}/query`, { method: "POST", headers: auth, body: `SELECT throwIf(1, 'leak ${PLANTED.clickhouse_password}')` });
      const echoedText = await echoed.text();
      expect(echoedText).toContain("leak ***");
      expectNoSecret("/query error", echoedText);
      expect((await fetch(`${http}/stats`)).status).toBe(401);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      await Promise.all([out.done, err.done]);
    }
    expect(proc.exitCode).toBe(0);
    expectNoSecret("log", out.text());
    expectNoSecret("stderr", err.text());
  }, 120_000);

  test("a start-up error naming a URL with credentials shows it masked, in the log and on stderr", async () => {
    const coldUrl = `http://cold:${PLANTED.cold_url_password}@127.0.0.1:9`;
    const { dir, file } = configFile(`nats:\n  enabled: false\ntiering:\n  enabled: true\n  mode: same\n  cold_url: ${coldUrl}\n`);
    const proc = start(file, dir);
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(await proc.exited).toBe(2);
    expect(err).toContain("tiering.cold_url is 'http://***@127.0.0.1:9'");
    expect(out).toContain("http://***@127.0.0.1:9");
    expectNoSecret("log", out);
    expectNoSecret("stderr", err);
  }, 60_000);
});

describe("redactor", () => {
  test("masks credentials in any URL scheme and secret query parameters, and leaves the rest", () => {
    expect(redactUrlCredentials("to nats://u:p@h:4222, tls://tok@h2 and http://h3/x?user=a&password=b&x=1")).toBe(
      "to nats://***@h:4222, tls://***@h2 and http://h3/x?user=a&password=***&x=1",
    );
    expect(redactUrlCredentials("mail me@example.com at http://host:80/a@b")).toBe("mail me@example.com at http://host:80/a@b");
  });

  test("masks registered values, JSON-escaped too, and ignores values too short to mask", () => {
    registerSecrets(['pa"ss-word', "ab"]);
    expect(redactSecrets('x pa"ss-word y')).toBe("x *** y");
    expect(redactSecrets(JSON.stringify({ m: 'pa"ss-word' }))).toBe('{"m":"***"}');
    expect(redactSecrets("ab cab")).toBe("ab cab");
  });
});
