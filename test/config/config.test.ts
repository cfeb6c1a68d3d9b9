import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configWith, loadConfig } from "../../src/config/load.ts";
import { SECRET_CONFIG_KEYS, secretValues } from "../../src/config/secrets.ts";

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "spectra-config-")), "c.yaml");
  writeFileSync(path, text);
  return path;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  test("the defaults file validates and every venue is present", () => {
    const c = configWith();
    expect(c.http).toEqual({ enabled: true, host: "127.0.0.1", port: 8086, auth_token: "", clickhouse_port: 8123 });
    expect(Object.keys(c.venues).sort()).toEqual(["binance_derivatives", "binance_spot", "deribit_derivatives", "okx_derivatives", "okx_spot"]);
    expect(c.nats.stream.name).toBe("MARKET_DATA");
    expect(c.clickhouse.hot_database).toBe("marketprism_hot");
  });

  test("a user file merges over the defaults and lists replace lists", () => {
    const c = loadConfig({ file: file("venues:\n  binance_spot:\n    symbols: [SOLUSDT]\n    workers: 3\n"), env: {} });
    expect(c.venues.binance_spot.symbols).toEqual(["SOLUSDT"]);
    expect(c.venues.binance_spot.workers).toBe(3);
    expect(c.venues.binance_spot.ws_url).toBe("wss://stream.binance.com:9443");
    // The other venues keep the default: a shard each in the shared ingest thread.
    expect(c.venues.okx_spot.workers).toBe("shared");
  });

  test("a selector in a user file replaces the default list; symbols is then empty and the selector kept", () => {
    const c = loadConfig({ file: file("venues:\n  binance_derivatives:\n    symbols: { quote: [USDT], contract: perpetual, exclude: [BTCDOMUSDT], top: 50 }\n"), env: {} });
    expect(c.venues.binance_derivatives.symbols).toEqual([]);
    expect(c.venues.binance_derivatives.selector).toEqual({ quote: ["USDT"], contract: "perpetual", exclude: ["BTCDOMUSDT"], top: 50 });
    expect(c.venues.binance_derivatives.instruments_refresh_s).toBe(3600);
    expect(c.venues.binance_spot.selector).toBeUndefined();
  });

  test("a bad selector is named with its path", () => {
    expect(errorOf(() => configWith({ venues: { okx_spot: { symbols: { quot: ["USDT"] } } } }))).toContain("unknown key 'quot' in 'venues.okx_spot.symbols'");
    expect(errorOf(() => configWith({ venues: { okx_spot: { symbols: { top: 0 } } } }))).toContain("'venues.okx_spot.symbols.top' = 0");
    expect(errorOf(() => configWith({ venues: { okx_spot: { symbols: { contract: "delivery" } } } }))).toContain(
      `'venues.okx_spot.symbols' = {"contract":"delivery"}: a list of the venue's own symbols, or a selector`,
    );
    expect(errorOf(() => configWith({ venues: { okx_spot: { symbols: "BTC-USDT" } } }))).toContain(
      "'venues.okx_spot.symbols' = \"BTC-USDT\": a list of the venue's own symbols, or a selector { quote, contract, include, exclude, top }",
    );
  });

  test("nats.embedded.max_procs defaults to one core; 0 is every core, and a negative or fractional count is named", () => {
    expect(configWith().nats.embedded.max_procs).toBe(1);
    expect(configWith({ nats: { embedded: { max_procs: 0 } } }).nats.embedded.max_procs).toBe(0);
    expect(errorOf(() => configWith({ nats: { embedded: { max_procs: -1 } } }))).toContain("'nats.embedded.max_procs' = -1");
    expect(errorOf(() => configWith({ nats: { embedded: { max_procs: 1.5 } } }))).toContain("'nats.embedded.max_procs' = 1.5");
  });

  test("replay.rate takes a count or live; any other word is named with the choices", () => {
    expect(loadConfig({ file: file("replay:\n  rate: live\n"), env: {} }).replay.rate).toBe("live");
    expect(loadConfig({ file: file("replay:\n  rate: 250\n"), env: {} }).replay.rate).toBe(250);
    expect(errorOf(() => configWith({ replay: { rate: "fast" } }))).toContain(`'replay.rate' = "fast": a count of messages per second (0 = as fast as possible) or "live"`);
  });

  test("environment overrides win over the file", () => {
    const c = loadConfig({
      file: file("nats:\n  servers: [nats://10.0.0.1:4222]\nhttp:\n  port: 9000\n"),
      env: { NATS_URL: "nats://127.0.0.1:4333, nats://127.0.0.1:4334,nats://127.0.0.1:4335", CLICKHOUSE_URL: "http://127.0.0.1:8123", CLICKHOUSE_USER: "u", CLICKHOUSE_PASSWORD: "p", SPECTRA_LOG_LEVEL: "debug", SPECTRA_HTTP_PORT: "9100" },
    });
    expect(c.nats.servers).toEqual(["nats://127.0.0.1:4333", "nats://127.0.0.1:4334", "nats://127.0.0.1:4335"]);
    expect(c.clickhouse).toMatchObject({ url: "http://127.0.0.1:8123", user: "u", password: "p" });
    expect(c.log.level).toBe("debug");
    expect(c.http.port).toBe(9100);
  });

  test("every secret key can come from the environment, which wins over the file", () => {
    const c = loadConfig({
      file: file("clickhouse:\n  password: from-file\ntiering:\n  cold_password: from-file\nhttp:\n  auth_token: from-file\nnats:\n  user: u\n  password: from-file\n"),
      env: { CLICKHOUSE_PASSWORD: "ch-env", SPECTRA_TIERING_COLD_PASSWORD: "cold-env", SPECTRA_HTTP_TOKEN: "token-env", NATS_PASSWORD: "nats-env" },
    });
    expect([c.clickhouse.password, c.tiering.cold_password, c.http.auth_token, c.nats.password]).toEqual(["ch-env", "cold-env", "token-env", "nats-env"]);
    expect(loadConfig({ env: { NATS_TOKEN: "tok-env" } }).nats.token).toBe("tok-env");
    for (const [section, key] of SECRET_CONFIG_KEYS) expect(typeof (c as unknown as Record<string, Record<string, unknown>>)[section]?.[key]).toBe("string");
  });

  test("the secret values of a config are its passwords, its token and the passwords inside its URLs", () => {
    const c = configWith({
      clickhouse: { url: "http://u:ch%40pw@ch.example:8123", password: "chpass" },
      tiering: { cold_password: "coldpass" },
      http: { auth_token: "tok-123" },
      nats: { servers: ["nats://10.0.0.2:4222", "nats://natsuser:natspw@10.0.0.1:4222"] },
    });
    expect(secretValues(c).sort()).toEqual(["ch%40pw", "ch@pw", "chpass", "coldpass", "natspw", "tok-123"]);
    expect(secretValues(configWith({ nats: { user: "u", password: "nats-pass" } }))).toEqual(["nats-pass"]);
    expect(secretValues(configWith({ nats: { token: "nats-token" } }))).toEqual(["nats-token"]);
    // Environment variables named like secrets (OKX's credentials), whatever reads them; not the others.
    const env = { OKX_API_KEY: "key-abc", OKX_API_SECRET: "s3cr3t-x", OKX_API_PASSPHRASE: "pp-123", NATS_TOKEN: "", PATH: "/usr/bin", SPECTRA_HTTP_PORT: "8086", KEYBOARD: "us" };
    expect(secretValues(configWith(), env).sort()).toEqual(["key-abc", "pp-123", "s3cr3t-x"]);
  });

  test("NATS takes one way to authenticate, a password with its user, and a TLS certificate with its key", () => {
    expect(errorOf(() => configWith({ nats: { user: "u", password: "p", token: "t" } }))).toContain("give one way to authenticate, not user/password and token");
    expect(errorOf(() => configWith({ nats: { token: "t", credentials_file: "/x.creds" } }))).toContain("not token and credentials_file");
    expect(errorOf(() => configWith({ nats: { password: "secret-pw" } }))).toContain("a password needs its user");
    expect(errorOf(() => configWith({ nats: { tls: { cert_file: "/c.pem" } } }))).toContain("'nats.tls'");
    expect(errorOf(() => configWith({ nats: { servers: ["10.0.0.1:4222"] } }))).toContain("'nats.servers.0' = \"10.0.0.1:4222\"");
  });

  test("an error about a secret key or a URL does not repeat the secret", () => {
    const token = errorOf(() => configWith({ http: { auth_token: 12345678 } }));
    expect(token).toContain("'http.auth_token' = (a number)");
    expect(token).not.toContain("12345678");
    const url = errorOf(() => configWith({ tiering: { cold_url: "ftp://admin:hunter22@cold:21" } }));
    expect(url).toContain("'tiering.cold_url' = \"ftp://***@cold:21\"");
    expect(url).not.toContain("hunter22");
  });

  test("an unknown key is named with its path", () => {
    expect(errorOf(() => configWith({ venues: { okx_spot: { wokers: 2 } } }))).toContain("unknown key 'wokers' in 'venues.okx_spot'");
    expect(errorOf(() => configWith({ nats_url: "x" }))).toContain("unknown key 'nats_url' in the top level");
  });

  test("a bad value names the key, the value and what is allowed", () => {
    const negative = errorOf(() => configWith({ batch_workers: { trade: -1 } }));
    expect(negative).toContain("'batch_workers.trade' = -1");
    expect(negative).toContain(">=0");
    const venueWorkers = errorOf(() => configWith({ venues: { okx_spot: { workers: "own" } } }));
    expect(venueWorkers).toContain(`'venues.okx_spot.workers' = "own": a number of workers (0 or more) or shared`);
    const ring = errorOf(() => configWith({ ring: { capacity_bytes: 100000 } }));
    expect(ring).toContain("'ring.capacity_bytes' = 100000: a power of two");
    expect(errorOf(() => configWith({ ring: { low_volume_capacity_bytes: 4096 } }))).toContain("'ring.low_volume_capacity_bytes' = 4096");
    const type = errorOf(() => configWith({ http: { port: "eighty" } }));
    expect(type).toContain("'http.port' = \"eighty\"");
    expect(type).toContain("expected number");
    const role = errorOf(() => configWith({ engine: { role: "both" } }));
    expect(role).toContain("'engine.role' = \"both\"");
    expect(role).toContain("all");
    const nice = errorOf(() => configWith({ engine: { ingest_nice: 20 } }));
    expect(nice).toContain("'engine.ingest_nice' = 20");
    expect(nice).toContain("<=19");
  });

  test("orderbook.snapshot_limit takes only depths both Binance venues accept", () => {
    expect(configWith().orderbook.snapshot_limit).toBe(1000);
    expect(configWith({ orderbook: { snapshot_limit: 500 } }).orderbook.snapshot_limit).toBe(500);
    const odd = errorOf(() => configWith({ orderbook: { snapshot_limit: 5000 } }));
    expect(odd).toContain("'orderbook.snapshot_limit' = 5000");
    expect(odd).toContain("1000");
  });

  test("an unreadable or non-YAML file is refused with its path", () => {
    expect(errorOf(() => loadConfig({ file: "/nonexistent/spectra.yaml", env: {} }))).toContain("/nonexistent/spectra.yaml cannot be read");
    expect(errorOf(() => loadConfig({ file: file("engine: [unclosed\n"), env: {} }))).toContain("is not valid YAML");
    expect(errorOf(() => loadConfig({ file: file("- a\n- b\n"), env: {} }))).toContain("must hold a mapping");
  });

  test("a non-numeric SPECTRA_HTTP_PORT is reported as the text it was", () => {
    expect(errorOf(() => loadConfig({ env: { SPECTRA_HTTP_PORT: "80a" } }))).toContain("'http.port' = \"80a\"");
  });

  test("SPECTRA__<SECTION>__<KEY> sets any key path: numbers, booleans and lists typed, text keys kept as text", () => {
    const c = loadConfig({
      env: {
        SPECTRA__HTTP__HOST: "0.0.0.0",
        SPECTRA__ENGINE__ROLE: "collect",
        SPECTRA__NATS__STREAM__REPLICAS: "3",
        SPECTRA__TIERING__ENABLED: "false",
        SPECTRA__VENUES__BINANCE_SPOT__SYMBOLS: "[SOLUSDT, ETHUSDT]",
        SPECTRA__CLICKHOUSE__PASSWORD: "123456",
        SPECTRA_HTTP_PORT: "9100",
      },
    });
    expect(c.http).toMatchObject({ host: "0.0.0.0", port: 9100 });
    expect(c.engine.role).toBe("collect");
    expect(c.nats.stream.replicas).toBe(3);
    expect(c.tiering.enabled).toBe(false);
    expect(c.venues.binance_spot.symbols).toEqual(["SOLUSDT", "ETHUSDT"]);
    expect(c.clickhouse.password).toBe("123456");
  });

  test("a named variable wins over the key-path variable of the same key", () => {
    expect(loadConfig({ env: { SPECTRA__HTTP__PORT: "9000", SPECTRA_HTTP_PORT: "9001" } }).http.port).toBe(9001);
  });

  test("a key-path variable naming no key, or a bad value, is refused naming the variable", () => {
    expect(errorOf(() => loadConfig({ env: { SPECTRA__HTTP__HOTS: "0.0.0.0" } }))).toContain("unknown key 'hots' (set by SPECTRA__HTTP__HOTS) in 'http'");
    expect(errorOf(() => loadConfig({ env: { SPECTRA__NATS__STREAM__REPLICAS: "three" } }))).toContain("'nats.stream.replicas' = \"three\"");
    expect(errorOf(() => loadConfig({ env: { SPECTRA__NATS__STREAM__REPLICAS: "three" } }))).toContain("(set by SPECTRA__NATS__STREAM__REPLICAS)");
    expect(errorOf(() => loadConfig({ env: { SPECTRA_HTTP_PORT: "80a" } }))).toContain("(set by SPECTRA_HTTP_PORT)");
  });
});
