import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { keyPathOfEnv, loadConfig, NAMED_ENV_KEYS } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";

/**
 * The deployment files are checked here, since no Docker engine runs on these machines: the
 * image's Dockerfile, and the compose file's services, environment, ports, URLs and mounts.
 */

const ROOT = join(import.meta.dir, "..", "..");
const DOCKER_DIR = join(ROOT, "config", "docker");

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
  healthcheck?: { test: string[] };
}

const compose = parseYaml(readFileSync(join(DOCKER_DIR, "compose.yaml"), "utf8"), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const dockerfile = readFileSync(join(DOCKER_DIR, "Dockerfile"), "utf8");

/** Compose interpolation: `${X:-default}` takes the default, `${X:?message}` (required) a stand-in. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind: string | undefined, rest: string) => (kind === "-" ? rest : `${name.toLowerCase()}-from-env`));
}

/** Services built from the Spectra Dockerfile. */
const spectraServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

function environmentOf(s: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
}

/** The Dockerfile's ENV lines as a map (the `ENV a=1 \ b=2` form). */
function dockerfileEnv(): Record<string, string> {
  const joined = dockerfile.replace(/\\\n/g, " ");
  const env: Record<string, string> = {};
  for (const line of joined.split("\n").filter((l) => l.startsWith("ENV "))) {
    for (const m of line.slice(4).matchAll(/([A-Z_]+)=(\S+)/g)) env[m[1] as string] = m[2] as string;
  }
  return env;
}

function valueAt(config: Config, path: string): unknown {
  let at: unknown = config;
  for (const part of path.split(".")) at = (at as Record<string, unknown> | undefined)?.[part];
  return at;
}

describe("the Dockerfile", () => {
  test("pins its base images, runs as a non-root user with nats-server and a health check on /health", () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1] as string);
    expect(froms.length).toBe(2);
    for (const image of froms) expect(image).toMatch(/:\d+\.\d+\.\d+(-[a-z-]+)?$/);
    // The runtime stage is Bun, the version package.json pins.
    const bunVersion = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies.bun;
    expect(froms[1]).toBe(`oven/bun:${bunVersion}-debian`);
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(["root", "0"]).not.toContain(users[users.length - 1]);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends nats-server/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/health/m);
    expect(dockerfile).toContain('ENTRYPOINT ["bun", "src/cli/start.ts"]');
    expect(existsSync(join(ROOT, "src", "cli", "start.ts"))).toBe(true);
  });

  test("copies only paths that exist, and its environment is configuration the engine reads", () => {
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of (m[1] as string).split(" ")) expect(existsSync(join(ROOT, source))).toBe(true);
    }
    const env = dockerfileEnv();
    const config = loadConfig({ env });
    expect(config.http.host).toBe("0.0.0.0");
    expect(config.http.port).toBe(8086);
    expect(config.engine.data_dir).toBe("/data");
    expect(env.MIMALLOC_PURGE_HOLES_MIN_INTERVAL).toBe("1000");
  });
});

describe("compose.yaml", () => {
  test("brings up a 3-node NATS cluster, ClickHouse, a collector, a storer, Prometheus and Grafana, each with a health check", () => {
    expect(Object.keys(services).sort()).toEqual(["clickhouse", "grafana", "nats-1", "nats-2", "nats-3", "prometheus", "spectra-collector", "spectra-storer"]);
    for (const [name, s] of Object.entries(services)) {
      // Spectra services have the image's HEALTHCHECK; every other service declares its own.
      if (s.build === undefined) expect(s.healthcheck?.test.length ?? 0).toBeGreaterThan(1);
      else expect(s.build).toEqual({ context: "../..", dockerfile: "config/docker/Dockerfile" });
      if (s.image !== undefined && s.build === undefined) expect(s.image).toMatch(/:v?\d+\.\d+/);
      for (const dep of Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {})) expect(Object.keys(services)).toContain(dep);
      expect(name).toBe(name.toLowerCase());
    }
    expect(environmentOf(services["spectra-collector"] as Service).SPECTRA__ENGINE__ROLE).toBe("collect");
    expect(environmentOf(services["spectra-storer"] as Service).SPECTRA__ENGINE__ROLE).toBe("store");
  });

  test("every variable set on a Spectra service is an override the config reads, and it takes effect", () => {
    expect(spectraServices.length).toBe(2);
    for (const [name, s] of spectraServices) {
      const env = { ...dockerfileEnv(), ...environmentOf(s) };
      const config = loadConfig({ env });
      for (const [variable, value] of Object.entries(environmentOf(s))) {
        const path = NAMED_ENV_KEYS[variable] ?? keyPathOfEnv(variable);
        expect({ service: name, variable, path }).toEqual({ service: name, variable, path: expect.any(String) });
        const read = valueAt(config, path as string);
        expect({ variable, read: String(Array.isArray(read) ? read.join(",") : read) }).toEqual({ variable, read: value });
      }
    }
  });

  test("NATS URLs, routes and ClickHouse URLs name services of this file at the ports they listen on", () => {
    const nats = Object.entries(services).filter(([name]) => name.startsWith("nats-"));
    const flag = (s: Service, f: string) => s.command?.[(s.command?.indexOf(f) ?? -2) + 1];
    for (const [name, s] of nats) {
      expect(flag(s, "--name")).toBe(name);
      expect(flag(s, "--cluster_name")).toBe("spectra");
      expect(flag(s, "--cluster")).toBe("nats://0.0.0.0:6222");
      // Each node routes to the two others.
      const routes = (flag(s, "--routes") as string).split(",").sort();
      expect(routes).toEqual(nats.filter(([other]) => other !== name).map(([other]) => `nats://${other}:6222`));
      expect(s.healthcheck?.test.join(" ")).toContain(`:${flag(s, "--http_port")}/healthz`);
    }
    const clientPorts = new Set(nats.map(([, s]) => flag(s, "--port")));
    expect([...clientPorts]).toEqual(["4222"]);
    for (const [, s] of spectraServices) {
      const env = environmentOf(s);
      const urls = (env.NATS_URL as string).split(",").map((u) => new URL(u));
      expect(urls.map((u) => u.hostname).sort()).toEqual(nats.map(([name]) => name));
      for (const u of urls) expect(u.port).toBe("4222");
      expect(loadConfig({ env: { ...dockerfileEnv(), ...env } }).nats.stream.replicas).toBe(nats.length);
    }
    const storer = environmentOf(services["spectra-storer"] as Service);
    const ch = new URL(storer.CLICKHOUSE_URL as string);
    expect(ch.hostname).toBe("clickhouse");
    expect(services.clickhouse?.ports).toContain(`127.0.0.1:${ch.port}:${ch.port}`);
    expect(storer.CLICKHOUSE_USER).toBe(environmentOf(services.clickhouse as Service).CLICKHOUSE_USER as string);
  });

  test("Prometheus scrapes each Spectra service at its HTTP port, and Grafana reads that Prometheus", () => {
    const prometheusConfig = parseYaml(readFileSync(join(ROOT, "config", "prometheus", "prometheus.yml"), "utf8")) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const job = prometheusConfig.scrape_configs.find((j) => j.job_name === "spectra");
    const targets = job?.static_configs.flatMap((c) => c.targets) ?? [];
    const expected = spectraServices.map(([name, s]) => `${name}:${loadConfig({ env: { ...dockerfileEnv(), ...environmentOf(s) } }).http.port}`);
    expect(targets.sort()).toEqual(expected.sort());
    const promPort = (services.prometheus?.ports?.[0] as string).split(":").pop();
    const datasources = parseYaml(readFileSync(join(ROOT, "config", "grafana", "provisioning", "datasources", "spectra.yaml"), "utf8")) as { datasources: { type: string; url: string }[] };
    expect(datasources.datasources.map((d) => [d.type, d.url])).toEqual([["prometheus", `http://prometheus:${promPort}`]]);
    const rulesMounted = services.prometheus?.volumes?.some((v) => v.endsWith(":/etc/prometheus/alerts.yml:ro"));
    expect(rulesMounted).toBe(true);
    const dashboards = parseYaml(readFileSync(join(ROOT, "config", "grafana", "provisioning", "dashboards", "spectra.yaml"), "utf8")) as { providers: { options: { path: string } }[] };
    expect(services.grafana?.volumes).toContain(`../grafana/spectra.json:${dashboards.providers[0]?.options.path}/spectra.json:ro`);
  });

  test("every file or folder it mounts exists in the repository; named volumes are declared", () => {
    let mounts = 0;
    for (const s of Object.values(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(":")[0] as string;
        if (source.startsWith(".")) {
          expect({ mount: v, exists: existsSync(resolve(DOCKER_DIR, source)) }).toEqual({ mount: v, exists: true });
          mounts++;
        } else {
          expect(Object.keys(compose.volumes)).toContain(source);
        }
      }
    }
    expect(mounts).toBe(4);
    // The Spectra services build from the repository root with this directory's Dockerfile.
    for (const [, s] of spectraServices) expect(existsSync(join(resolve(DOCKER_DIR, s.build?.context as string), s.build?.dockerfile as string))).toBe(true);
  });
});
