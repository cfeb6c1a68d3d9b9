import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log/logger.ts";
import { DataDirInUseError, processStartTicks, RunMarker } from "../../src/supervisor/run-marker.ts";
import { waitFor } from "../support/wait.ts";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "spectra-marker-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function marker(dir: string, fields: Record<string, unknown>): void {
  writeFileSync(join(dir, "run.json"), JSON.stringify({ role: "all", started_ms: 1000, since_ms: 900, nats_pid: null, nats_store: null, ...fields }));
}

describe("the run marker", () => {
  test("a clean stop removes it, so the next start finds no unclean stop", () => {
    const dir = dataDir();
    const first = RunMarker.open(dir, "all", 5000);
    expect(first.previous).toBeNull();
    expect(JSON.parse(readFileSync(join(dir, "run.json"), "utf8"))).toMatchObject({ pid: process.pid, role: "all", started_ms: 5000, since_ms: 5000 });
    first.close(true);
    expect(existsSync(join(dir, "run.json"))).toBe(false);
    const second = RunMarker.open(dir, "all", 6000);
    expect(second.previous).toBeNull();
    second.close(true);
  });

  test("a marker left behind is the previous run's unclean stop; its start carries over until its gaps are written", () => {
    const dir = dataDir();
    const crashed = RunMarker.open(dir, "all", 5000);
    crashed.setNats(4242, "/nowhere/nats");
    crashed.close(false);
    const next = RunMarker.open(dir, "all", 8000);
    expect(next.previous).toMatchObject({ pid: process.pid, started_ms: 5000, since_ms: 5000, nats_pid: 4242, nats_store: "/nowhere/nats" });
    expect(next.since_ms).toBe(5000);
    // pid 4242 is not a nats-server on that store: nothing to stop.
    expect(next.orphanNatsPid()).toBeNull();
    next.close(true);
  });

  test("a marker whose process still runs refuses the start, naming it; a reused pid or a cut-short file does not", async () => {
    const dir = dataDir();
    const other = Bun.spawn(["sleep", "30"]);
    try {
      marker(dir, { pid: other.pid, proc_start: processStartTicks(other.pid) });
      expect(() => RunMarker.open(dir, "all")).toThrow(DataDirInUseError);
      expect(() => RunMarker.open(dir, "store")).toThrow(`in use by engine pid ${other.pid} (role all`);
      // Same pid, another start time: the pid was reused by an unrelated process.
      marker(dir, { pid: other.pid, proc_start: (processStartTicks(other.pid) ?? 0) + 1 });
      const reused = RunMarker.open(dir, "all");
      expect(reused.previous?.pid).toBe(other.pid);
      reused.close(true);
    } finally {
      other.kill();
      await other.exited;
    }
    writeFileSync(join(dir, "run.json"), '{"pid": 12');
    const cut = RunMarker.open(dir, "all", 7000);
    expect(cut.previous).toMatchObject({ pid: -1 });
    cut.close(true);
  });

  test("a second engine of this process on the same directory is refused, whatever its role", () => {
    const dir = dataDir();
    const first = RunMarker.open(dir, "collect");
    expect(() => RunMarker.open(dir, "collect")).toThrow(DataDirInUseError);
    expect(() => RunMarker.open(dir, "store")).toThrow(DataDirInUseError);
    first.close(true);
    RunMarker.open(dir, "store").close(true);
  });

  test("an orphaned nats-server of the crashed run is found by pid and store, and stopped", async () => {
    const dir = dataDir();
    const store = join(dir, "nats");
    // A stand-in whose command line names nats-server and the store, as `nats-server … -sd <store>` does.
    const orphan = Bun.spawn([process.execPath, "-e", "setTimeout(() => {}, 30000)", "nats-server", "-sd", store]);
    try {
      // Between fork and exec its command line is still this process's.
      await waitFor("the stand-in's command line", () => readFileSync(`/proc/${orphan.pid}/cmdline`, "utf8").includes(store), 5000);
      marker(dir, { pid: 999_999_999, proc_start: null, nats_pid: orphan.pid, nats_store: store });
      const next = RunMarker.open(dir, "all");
      expect(next.orphanNatsPid()).toBe(orphan.pid);
      await next.endOrphanNats(createLogger("silent"));
      await orphan.exited;
      expect(orphan.signalCode).toBe("SIGTERM");
      next.close(true);
    } finally {
      orphan.kill("SIGKILL");
    }
  });
});
