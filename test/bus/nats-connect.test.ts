import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedNats, type EmbeddedNats } from "../../src/bus/embedded-nats.ts";
import { connectNats, natsConnectOptions } from "../../src/bus/nats-connect.ts";
import { configWith } from "../../src/config/load.ts";
import { NATS_BINARY } from "../support/nats.ts";

const dir = mkdtempSync(join(tmpdir(), "spectra-nats-connect-"));
const servers: EmbeddedNats[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const nats = (over: Record<string, unknown>) => configWith({ nats: over }).nats;

async function server(name: string, args: string[]): Promise<EmbeddedNats> {
  const s = await startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port: 0, store_dir: join(dir, name), extra_args: args });
  servers.push(s);
  return s;
}

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
function certificates(): { ca: string; cert: string; key: string } {
  const p = (f: string) => join(dir, f);
  const run = (args: string[]) => {
    const r = Bun.spawnSync(["openssl", ...args], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr.toString()}`);
  };
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=spectra test CA", "-keyout", p("ca.key"), "-out", p("ca.pem")]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", p("server.key"), "-out", p("server.csr")]);
  writeFileSync(p("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  run(["x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "1", "-extfile", p("san.ext"), "-out", p("server.pem")]);
  return { ca: p("ca.pem"), cert: p("server.pem"), key: p("server.key") };
}

describe("NATS connection options", () => {
  test("carry the servers, one kind of credentials and the TLS files the config gives", () => {
    expect(natsConnectOptions(nats({ user: "u", password: "pw" }), ["nats://a:4222", "nats://b:4222"], "x")).toMatchObject({ servers: ["nats://a:4222", "nats://b:4222"], user: "u", pass: "pw", name: "x" });
    expect(natsConnectOptions(nats({ token: "tok" }), ["nats://a:4222"], "x")).toMatchObject({ token: "tok" });
    const tls = natsConnectOptions(nats({ tls: { ca_file: "/ca.pem", cert_file: "/c.pem", key_file: "/k.pem" } }), ["tls://a:4222"], "x");
    expect(tls.tls).toEqual({ caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem" });
    expect(natsConnectOptions(nats({}), ["nats://a:4222"], "x").tls).toBeUndefined();
    expect(() => natsConnectOptions(nats({ credentials_file: join(dir, "missing.creds") }), ["nats://a:4222"], "x")).toThrow("nats.credentials_file");
  });

  test("a token the server accepts connects; a wrong one fails naming the server", async () => {
    const s = await server("token", ["--auth", "right-token"]);
    const nc = await connectNats(nats({ token: "right-token" }), [s.url], "test");
    await nc.close();
    await expect(connectNats(nats({ token: "wrong-token" }), [s.url], "test")).rejects.toThrow(`cannot connect to NATS at ${s.url}: Authorization Violation`);
  });

  test("TLS verified against the configured CA connects; without the CA the server's certificate is refused", async () => {
    const { ca, cert, key } = certificates();
    const s = await server("tls", ["--tls", "--tlscert", cert, "--tlskey", key]);
    const nc = await connectNats(nats({ tls: { ca_file: ca, cert_file: "", key_file: "" } }), [s.url], "test");
    expect(nc.info?.tls_required).toBe(true);
    await nc.close();
    await expect(connectNats(nats({}), [s.url], "test")).rejects.toThrow(/cannot connect to NATS at .*(certificate|TLS|tls)/i);
  });
});
