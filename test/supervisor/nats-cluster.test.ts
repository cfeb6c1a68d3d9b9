import { afterAll, describe, expect, test } from "bun:test";
import { jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startTestNatsCluster, type TestNatsCluster } from "../support/nats.ts";
import { waitFor } from "../support/wait.ts";
import { roleConfigFile, startRole, storedTrades, type RoleProcess } from "./role-process.ts";

const running: RoleProcess[] = [];
let cluster: TestNatsCluster | undefined;
let nc: NatsConnection | undefined;
afterAll(async () => {
  for (const p of running) p.proc.kill("SIGKILL");
  await nc?.close();
  await cluster?.stop();
});

const PER_WORKER = 30_000;
const TOTAL = 2 * PER_WORKER;
const STREAM = "MARKET_DATA";

async function published(collector: RoleProcess): Promise<number> {
  const stats = (await (await fetch(`${await collector.http()}/stats`)).json()) as { data_types: { trade: { published: number } } };
  return stats.data_types.trade.published;
}

describe("a 3-node JetStream cluster (R3) with one collector and one storer process", () => {
  test("kill -9 of the stream leader mid-stream: publishing and storing go on, every trade is stored once, the stream is R3 again", async () => {
    cluster = await startTestNatsCluster(3);
    const servers = cluster.servers;
    nc = await connect({ servers: [...servers], maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(nc);
    const db = "cluster_hot";
    const cCfg = roleConfigFile({ servers, replicas: 3 });
    const sCfg = roleConfigFile({ servers, replicas: 3, hot_database: db });
    const collector = startRole("collect", cCfg.file, cCfg.dir, ["--synthetic", `${PER_WORKER}:3000`]);
    running.push(collector);
    await collector.line("engine started");
    const storer = startRole("store", sCfg.file, sCfg.dir);
    running.push(storer);
    await storer.line("engine started");

    const info = async (): Promise<StreamInfo> => jsm.streams.info(STREAM);
    expect((await info()).config.num_replicas).toBe(3);
    await waitFor("a third of the trades stored", async () => (await storedTrades(storer, db)).rows >= TOTAL / 3, 60_000, 100);

    const leader = (await info()).cluster?.leader;
    const victim = cluster.nodes.find((n) => n.name === leader);
    if (victim === undefined) throw new Error(`no node is the stream leader (${leader})`);
    await victim.kill();
    const publishedAtKill = await published(collector);
    const storedAtKill = (await storedTrades(storer, db)).rows;
    expect(publishedAtKill).toBeLessThan(TOTAL);

    // With the node down, the collector publishes on and the storer stores on.
    await waitFor("publishing to go on without the node", async () => (await published(collector)) >= publishedAtKill + 5000, 60_000, 100);
    await waitFor("storing to go on without the node", async () => (await storedTrades(storer, db)).rows >= storedAtKill + 5000, 60_000, 100);
    expect((await info()).cluster?.leader).not.toBe(victim.name);

    await victim.up();
    await waitFor("every trade stored", async () => (await storedTrades(storer, db)).unique === TOTAL, 60_000, 200);
    expect(await storedTrades(storer, db)).toEqual({ rows: TOTAL, unique: TOTAL, min: 0, max: TOTAL - 1 });

    // R3 again: the restarted node is a current replica, beside the leader and the third node.
    await waitFor(
      "the restarted node to be a current replica",
      async () => {
        const c = (await info()).cluster;
        const current = (c?.replicas ?? []).filter((r) => r.current && !r.offline).map((r) => r.name);
        return c?.leader !== undefined && current.length === 2 && [c.leader, ...current].sort().join() === "n1,n2,n3";
      },
      30_000,
      200,
    );
    const after = await info();
    expect(after.config.num_replicas).toBe(3);
    expect(after.state.messages).toBeGreaterThan(0);

    const cStopped = await collector.stop();
    const sStopped = await storer.stop();
    expect((cStopped.published as { trade: number }).trade).toBe(TOTAL);
    expect((sStopped.stored as { trade: number }).trade).toBe(TOTAL);
  }, 150_000);
});
