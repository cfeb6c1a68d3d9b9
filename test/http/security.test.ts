import { afterAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import pino from "pino";
import { configWith } from "../../src/config/load.ts";
import { createHttpHandler, startHttpServer } from "../../src/http/server.ts";
import { bearerMatches, exposureWarning, isLoopbackHost, loopbackAliases } from "../../src/http/security.ts";
import type { HealthReport, StatsSnapshot } from "../../src/http/stats-types.ts";
import { Counters } from "../../src/stats/counters.ts";
import { counterNames } from "../../src/stats/layout.ts";
import { buildStats } from "../../src/supervisor/stats.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { testDataDir } from "../support/chdb.ts";
import { idleStatsInputs } from "../support/stats-inputs.ts";

/** Answers of the endpoints behind the gate; a request that reaches one is counted. */
function fixture(auth_token = "", loopback_only = false, loopback_aliases: ReadonlySet<string> = new Set()) {
  const reached: string[] = [];
  const counters = new Counters(counterNames());
  const none = { state: "disabled" as const, mode: "", url: "", latency_ms: null, last_error: null };
  const snapshot = (): StatsSnapshot => buildStats(idleStatsInputs(counters, { nats: { ...none, restarts: 0 }, clickhouse: none }));
  const stats = (): StatsSnapshot => {
    reached.push("stats");
    return snapshot();
  };
  const health = (): HealthReport => {
    reached.push("health");
    return { ok: true, components: {} };
  };
  const query = async (req: Request): Promise<Response> => {
    reached.push(`query:${await req.text()}`);
    return new Response("1\n");
  };
  const handler = createHttpHandler({ stats, health, query }, { auth_token, loopback_only, loopback_aliases });
  return { handler, reached };
}

const EVIL = { origin: "http://evil.example" };

describe("cross-site requests", () => {
  test("a request naming another origin gets 403 on /stats, /query and unknown paths, and reaches nothing", async () => {
    const { handler, reached } = fixture();
    const requests = [
      new Request("http://127.0.0.1:8086/stats", { headers: EVIL }),
      new Request("http://127.0.0.1:8086/query", { method: "POST", body: "SELECT 1", headers: { ...EVIL, "content-type": "text/plain" } }),
      new Request("http://127.0.0.1:8086/query", { method: "POST", body: "SELECT 1", headers: { origin: "null" } }),
      new Request("http://127.0.0.1:8086/query", { method: "POST", body: "SELECT 1", headers: { origin: "http://127.0.0.1:9999" } }),
      new Request("http://127.0.0.1:8086/health", { method: "POST", headers: EVIL }),
      new Request("http://127.0.0.1:8086/nope", { headers: EVIL }),
      new Request("http://127.0.0.1:8086/query", { method: "POST", body: "SELECT 1", headers: { "sec-fetch-site": "cross-site" } }),
    ];
    for (const req of requests) {
      const res = await handler(req);
      expect({ url: req.url, origin: req.headers.get("origin"), status: res.status }).toEqual({ url: req.url, origin: req.headers.get("origin"), status: 403 });
      expect(await res.text()).toStartWith("cross-site request refused: ");
    }
    expect(reached).toEqual([]);
  });

  test("GET /health and GET /metrics answer any origin", async () => {
    const { handler } = fixture();
    expect((await handler(new Request("http://127.0.0.1:8086/health", { headers: EVIL }))).status).toBe(200);
    const metrics = await handler(new Request("http://127.0.0.1:8086/metrics", { headers: EVIL }));
    expect(metrics.status).toBe(200);
  });

  test("the server's own origin and requests without Origin work", async () => {
    const { handler, reached } = fixture();
    const same = await handler(new Request("http://127.0.0.1:8086/stats", { headers: { origin: "http://127.0.0.1:8086", host: "127.0.0.1:8086", "sec-fetch-site": "same-origin" } }));
    expect(same.status).toBe(200);
    const curl = await handler(new Request("http://127.0.0.1:8086/query", { method: "POST", body: "SELECT 1" }));
    expect(curl.status).toBe(200);
    expect(reached).toEqual(["stats", "query:SELECT 1"]);
  });

  test("a loopback-bound server refuses a Host that names another machine (DNS rebinding), except on /health and /metrics", async () => {
    const { handler, reached } = fixture("", true);
    const rebound = { host: "evil.example:8086", origin: "http://evil.example:8086" };
    const res = await handler(new Request("http://evil.example:8086/stats", { headers: rebound }));
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Host "evil.example:8086" is not a loopback name');
    expect((await handler(new Request("http://evil.example:8086/query", { method: "POST", body: "SELECT 1", headers: { host: "evil.example:8086" } }))).status).toBe(403);
    expect(reached).toEqual([]);
    expect((await handler(new Request("http://evil.example:8086/health", { headers: rebound }))).status).toBe(200);
    for (const host of ["127.0.0.1:8086", "localhost:8086", "[::1]:8086", "localhost"]) {
      expect([host, (await handler(new Request(`http://${host}/stats`, { headers: { host } }))).status]).toEqual([host, 200]);
    }
  });

  test("names the hosts file maps to loopback are loopback names; names it maps elsewhere are not", async () => {
    const hosts = [
      "# /etc/hosts of a Debian box",
      "127.0.0.1\tlocalhost",
      "127.0.1.1\tDevBox.lan devbox   # the machine's own name",
      "::1     localhost ip6-localhost ip6-loopback",
      "10.0.0.5 build-server",
      "#127.0.0.1 commented-out",
      "",
    ].join("\n");
    const aliases = loopbackAliases(hosts);
    expect([...aliases].sort()).toEqual(["devbox", "devbox.lan", "ip6-localhost", "ip6-loopback", "localhost"]);
    const { handler, reached } = fixture("", true, aliases);
    for (const host of ["devbox:8086", "DEVBOX.lan:8086", "ip6-localhost:8086"]) {
      expect([host, (await handler(new Request(`http://${host}/stats`, { headers: { host } }))).status]).toEqual([host, 200]);
    }
    for (const host of ["build-server:8086", "commented-out:8086", "evil.example:8086"]) {
      const res = await handler(new Request(`http://${host}/stats`, { headers: { host } }));
      expect([host, res.status, await res.text()]).toEqual([host, 403, `cross-site request refused: Host "${host}" is not a loopback name, and this server listens on loopback only\n`]);
    }
    expect(reached).toEqual(["stats", "stats", "stats"]);
  });

  test("on a real socket the Host header decides what the same origin is", async () => {
    const { handler } = fixture();
    const server = startHttpServer("127.0.0.1", 0, handler);
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${base}/stats`, { headers: { origin: base } })).status).toBe(200);
      expect((await fetch(`${base}/stats`, { headers: { origin: `http://localhost:${server.port}` } })).status).toBe(403);
      const post = await fetch(`${base}/query`, { method: "POST", body: "SELECT 1", headers: { ...EVIL, "content-type": "text/plain" } });
      expect(post.status).toBe(403);
      expect((await fetch(`${base}/query`, { method: "POST", body: "SELECT 1" })).status).toBe(200);
    } finally {
      server.stop(true);
    }
  });
});

describe("bearer token", () => {
  test("with a token /query and /stats answer 401 without it or with a wrong one, 200 with it", async () => {
    const { handler, reached } = fixture("s3cret-token");
    const bad = [undefined, "Bearer wrong", "Bearer s3cret-toke", "Bearer s3cret-token2", "Basic czNjcmV0LXRva2Vu", "s3cret-token", "Bearer "];
    for (const authorization of bad) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const stats = await handler(new Request("http://127.0.0.1:8086/stats", { headers }));
      const query = await handler(new Request("http://127.0.0.1:8086/query", { method: "POST", body: "SELECT 1", headers }));
      expect({ authorization, stats: stats.status, query: query.status }).toEqual({ authorization, stats: 401, query: 401 });
      expect(stats.headers.get("www-authenticate")).toBe('Bearer realm="spectra"');
    }
    expect(reached).toEqual([]);
    const ok = { authorization: "Bearer s3cret-token" };
    expect((await handler(new Request("http://127.0.0.1:8086/stats", { headers: ok }))).status).toBe(200);
    expect((await handler(new Request("http://127.0.0.1:8086/query", { method: "POST", body: "SELECT 2", headers: ok }))).status).toBe(200);
    expect(reached).toEqual(["stats", "query:SELECT 2"]);
  });

  test("with a token /health and /metrics stay open, and a cross-site request is refused even with the token", async () => {
    const { handler } = fixture("s3cret-token");
    expect((await handler(new Request("http://127.0.0.1:8086/health"))).status).toBe(200);
    expect((await handler(new Request("http://127.0.0.1:8086/metrics"))).status).toBe(200);
    const cross = await handler(new Request("http://127.0.0.1:8086/stats", { headers: { ...EVIL, authorization: "Bearer s3cret-token" } }));
    expect(cross.status).toBe(403);
  });

  test("without a token nothing asks for one", async () => {
    const { handler } = fixture("");
    expect((await handler(new Request("http://127.0.0.1:8086/stats"))).status).toBe(200);
  });

  test("the comparison accepts exactly the token", () => {
    expect(bearerMatches("Bearer abc", "abc")).toBe(true);
    expect(bearerMatches("bearer   abc ", "abc")).toBe(true);
    expect(bearerMatches("Bearer abcd", "abc")).toBe(false);
    expect(bearerMatches("Bearer ab", "abc")).toBe(false);
    expect(bearerMatches(null, "abc")).toBe(false);
  });
});

describe("exposure warning", () => {
  test("loopback hosts are recognised", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect([h, isLoopbackHost(h)]).toEqual([h, true]);
    for (const h of ["0.0.0.0", "::", "10.0.0.5", "example.com", "128.0.0.1"]) expect([h, isLoopbackHost(h)]).toEqual([h, false]);
    expect(exposureWarning("127.0.0.1", "")).toBeNull();
    expect(exposureWarning("0.0.0.0", "t0ken")).toBeNull();
    expect(exposureWarning("0.0.0.0", "")).toContain("http.auth_token is empty");
  });

  const engines: Engine[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
  });

  async function startLogs(http: Record<string, unknown>): Promise<string> {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const noBatch = { gap: 0, trade: 0, orderbook: 0, funding_rate: 0, open_interest: 0, liquidation: 0, lsr_top_position: 0, lsr_all_account: 0, volatility_index: 0, orderbook_delta: 0 };
    const off = { enabled: false };
    const config = configWith({
      engine: { data_dir: testDataDir() },
      http: { port: 0, ...http },
      nats: off,
      clickhouse: off,
      tiering: off,
      batch_workers: noBatch,
      venues: { binance_spot: off, binance_derivatives: off, okx_spot: off, okx_derivatives: off, deribit_derivatives: off },
    });
    const engine = new Engine(config, { log: pino({ level: "info" }, sink) });
    engines.push(engine);
    await engine.start();
    await engine.stop();
    return lines.join("");
  }

  test("an engine binding a non-loopback host without a token warns at start; with a token or on loopback it does not", async () => {
    expect(await startLogs({ host: "0.0.0.0" })).toContain("http.host is 0.0.0.0, reachable from other machines, and http.auth_token is empty");
    expect(await startLogs({ host: "0.0.0.0", auth_token: "t0ken-t0ken" })).not.toContain("reachable from other machines");
    expect(await startLogs({ host: "127.0.0.1" })).not.toContain("reachable from other machines");
  }, 30_000);
});
