import { afterAll, describe, expect, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startEmbeddedNats, type EmbeddedNats } from "../../src/bus/embedded-nats.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { NATS_BINARY, startTestNats, type TestNats } from "../support/nats.ts";
import { waitFor } from "../support/wait.ts";
import { roleConfigFile, startRole, storedTrades, type RoleProcess } from "./role-process.ts";

const running: RoleProcess[] = [];
let nats: TestNats | undefined;
let guarded: EmbeddedNats | undefined;
afterAll(async () => {
  for (const p of running) p.proc.kill("SIGKILL");
  await nats?.stop();
  await guarded?.stop();
});

const PER_WORKER = 15_000;
const TOTAL = 2 * PER_WORKER;

describe("collectors and storers as separate processes", () => {
  test("one collector and two storers on their own ClickHouse: every trade stored by exactly one storer", async () => {
    nats = await startTestNats();
    const db = "roles_hot";
    const collector = roleConfigFile({ servers: [nats.url] });
    const c = startRole("collect", collector.file, collector.dir, ["--synthetic", `${PER_WORKER}:3000`]);
    running.push(c);
    const storers = [0, 1].map(() => {
      const cfg = roleConfigFile({ servers: [nats!.url], hot_database: db, trade_workers: 1, nats: { consumer: { ack_wait_ms: 2000, storers: 2 } } });
      const s = startRole("store", cfg.file, cfg.dir);
      running.push(s);
      return s;
    });
    const started = await c.line("engine started");
    // Batch workers as configured: trade 2 (1 on a storer) and gap 1.
    expect(started).toMatchObject({ role: "collect", ingest: 2, batch: 3 });
    for (const s of storers) expect(await s.line("engine started")).toMatchObject({ role: "store", ingest: 0, batch: 2 });
    // The shared durable lets out both storers' batches: 2 x max_rows 5000 x 1 worker x 2 storers.
    const nc = await connect({ servers: nats.url });
    expect((await (await jetstreamManager(nc)).consumers.info("MARKET_DATA", "spectra_store_trade")).config.max_ack_pending).toBe(20_000);
    await nc.close();

    // A collector opens no ClickHouse; a storer connects to no venue.
    const collectorStats = (await (await fetch(`${await c.http()}/stats`)).json()) as { clickhouse: { state: string } };
    expect(collectorStats.clickhouse.state).toBe("disabled");
    expect(existsSync(join(collector.dir, "data", "clickhouse"))).toBe(false);
    // A storer's config still enables a venue: it is no concern of a storer, and health is 200.
    for (const s of storers) expect((await fetch(`${await s.http()}/health`)).status).toBe(200);

    await waitFor(
      "every trade stored",
      async () => (await Promise.all(storers.map((s) => storedTrades(s, db)))).reduce((n, t) => n + t.rows, 0) >= TOTAL,
      60_000,
      200,
    );
    const ids = await Promise.all(storers.map(async (s) => (await s.query<{ trade_id: string }>(`SELECT trade_id FROM ${db}.trades`)).map((r) => Number(r.trade_id))));
    const [a = [], b = []] = ids;
    // Both storers took a share, neither stored a trade twice, they share none, together they hold all.
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(new Set(a).size).toBe(a.length);
    expect(new Set(b).size).toBe(b.length);
    const inB = new Set(b);
    expect(a.filter((id) => inB.has(id))).toEqual([]);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));

    const cStopped = await c.stop();
    expect(cStopped).toEqual(expect.objectContaining({ role: "collect", published: { trade: TOTAL, gap: 0 } }));
    expect(cStopped.stored).toBeUndefined();
    const stopped = await Promise.all(storers.map((s) => s.stop()));
    for (const s of stopped) expect(s.published).toBeUndefined();
    expect(stopped.map((s) => (s.stored as { trade: number }).trade)).toEqual([a.length, b.length]);
    // A storer has no venues to wait for: it hands its start-up code pages back once, when it
    // has started (src/setup/code-pages.ts), not a second time for a start that is already over.
    for (const s of storers) {
      const released = s.lines().filter((l) => l.msg === "code pages only the start used handed back to the kernel");
      expect(released.map((l) => l.stage)).toEqual(["engine started"]);
    }
  }, 120_000);

  test("a server that refuses the credentials stops the process at start with exit 2, naming the server, not the password", async () => {
    const store_dir = mkdtempSync(join(tmpdir(), "spectra-nats-auth-"));
    guarded = await startEmbeddedNats({ binary: NATS_BINARY, host: "127.0.0.1", port: 0, store_dir, extra_args: ["--user", "spectra", "--pass", "right-password"] });
    const cfg = roleConfigFile({ servers: [guarded.url], nats: { user: "spectra", password: "wrong-password" } });
    const p = startRole("collect", cfg.file, cfg.dir, ["--synthetic", "10"]);
    expect(await p.proc.exited).toBe(2);
    const err = p.stderr();
    expect(err).toContain(`cannot connect to NATS at ${guarded.url}`);
    expect(err).toContain("Authorization Violation");
    expect(err + JSON.stringify(p.lines())).not.toContain("wrong-password");
  }, 60_000);

  test("more stream replicas than the cluster has servers is refused at start with the server's message", async () => {
    nats ??= await startTestNats();
    const cfg = roleConfigFile({ servers: [nats.url], replicas: 3, nats: { stream: { name: "R3_ON_ONE", replicas: 3 }, consumer: { dead_letter_stream: "DL_R3" , dead_letter_subject: "spectra.r3_dead"} } });
    const p = startRole("collect", cfg.file, cfg.dir, ["--synthetic", "10"]);
    expect(await p.proc.exited).toBe(2);
    expect(p.stderr()).toMatch(/could not set up the streams: .*(replicas > 1 not supported in non-clustered mode|insufficient resources)/);
  }, 60_000);
});
