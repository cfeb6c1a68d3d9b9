import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";

/**
 * `<data_dir>/run.json`: written when an engine starts on a data directory and removed
 * by its clean stop, so a marker found at start means the run before ended without one (crash,
 * `kill -9`, power loss) and the engine writes `engine_down` gaps (engine-down.ts).
 *
 * One marker per directory, whatever the role: two engines on one directory would share its
 * chDB data or its JetStream store, which neither survives. A marker whose process still runs
 * means another engine uses the directory: the start is refused. A process is the one that
 * wrote the marker only if its pid and its start time (Linux `/proc/<pid>/stat`) both match,
 * so a reused pid is not mistaken for it.
 * The marker also names the embedded nats-server the run had started: it runs in its own
 * session and outlives a killed engine, holding the JetStream store, so the next start ends it.
 */

export interface RunInfo {
  readonly pid: number;
  /** Process start time in clock ticks since boot (Linux), null elsewhere. */
  readonly proc_start: number | null;
  readonly role: Config["engine"]["role"];
  readonly started_ms: number;
  /**
   * Start of the earliest run whose end is not recorded yet: this run's start, or, after an
   * unclean stop whose gaps are still to be written, the start carried over from that run.
   */
  readonly since_ms: number;
  /** pid and store of the embedded nats-server this run started, if any. */
  readonly nats_pid: number | null;
  readonly nats_store: string | null;
}

/** Another engine process runs on this data directory. */
export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
}

/** Data directories with a running Engine in this process (tests run several, one at a time). */
const openHere = new Set<string>();

/** Start time of `pid` in clock ticks since boot, or null when unknown (not Linux) or not running. */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised name start at field 3 (state); starttime is field 22.
    const value = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the process that wrote `info` (or that it names by `pid` / `proc_start`) still runs. */
function stillRuns(pid: number, proc_start: number | null): boolean {
  if (!running(pid)) return false;
  const now = processStartTicks(pid);
  return proc_start === null || now === null || now === proc_start;
}

function isRunInfo(value: unknown): value is RunInfo {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.pid === "number" && typeof v.started_ms === "number" && typeof v.since_ms === "number";
}

export class RunMarker {
  private info: RunInfo;
  private closed = false;

  private constructor(
    private readonly path: string,
    /** The marker an unclean stop left, or null after a clean one. */
    readonly previous: RunInfo | null,
    role: Config["engine"]["role"],
    started_ms: number,
  ) {
    this.info = {
      pid: process.pid,
      proc_start: processStartTicks(process.pid),
      role,
      started_ms,
      since_ms: previous?.since_ms ?? started_ms,
      nats_pid: null,
      nats_store: null,
    };
  }

  /**
   * Claims `data_dir` for `role`: refuses when another engine runs on it, reads what an unclean
   * stop left, and writes this run's marker.
   */
  static open(data_dir: string, role: Config["engine"]["role"], started_ms = Date.now()): RunMarker {
    const path = join(data_dir, "run.json");
    if (openHere.has(path)) throw new DataDirInUseError(`an engine in this process already runs on ${data_dir}`);
    let previous: RunInfo | null = null;
    if (existsSync(path)) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        // A marker cut short by the crash itself: the stop was unclean, its details unknown.
      }
      previous = isRunInfo(parsed) ? parsed : { pid: -1, proc_start: null, role, started_ms: 0, since_ms: 0, nats_pid: null, nats_store: null };
      if (previous.pid !== process.pid && previous.pid > 0 && stillRuns(previous.pid, previous.proc_start)) {
        throw new DataDirInUseError(
          `${data_dir} is in use by engine pid ${previous.pid} (role ${previous.role}, started ${new Date(previous.started_ms).toISOString()}); stop it first or choose another --data-dir`,
        );
      }
    }
    const marker = new RunMarker(path, previous, role, started_ms);
    openHere.add(path);
    marker.write();
    return marker;
  }

  /** This run's start, or the carried-over start of runs whose end is still to be recorded. */
  get since_ms(): number {
    return this.info.since_ms;
  }

  /** Records the embedded nats-server now running (called again after each restart of it). */
  setNats(pid: number, store_dir: string): void {
    this.info = { ...this.info, nats_pid: pid, nats_store: store_dir };
    this.write();
  }

  /**
   * The embedded nats-server an unclean stop left running, if it still runs: a process with the
   * marker's pid whose command line names the marker's store.
   */
  orphanNatsPid(): number | null {
    const p = this.previous;
    if (p === null || p.nats_pid === null || p.nats_store === null || !running(p.nats_pid)) return null;
    try {
      const cmdline = readFileSync(`/proc/${p.nats_pid}/cmdline`, "utf8").split("\0");
      return cmdline.some((arg) => arg.includes("nats-server")) && cmdline.includes(p.nats_store) ? p.nats_pid : null;
    } catch {
      return null;
    }
  }

  /**
   * Stops the nats-server an unclean stop left behind (SIGTERM, so it closes its store, then
   * SIGKILL after `deadline_ms`), before this run starts one on the same store.
   */
  async endOrphanNats(log: Logger, deadline_ms = 10_000): Promise<void> {
    const pid = this.orphanNatsPid();
    if (pid === null) return;
    log.warn({ nats_pid: pid, store_dir: this.previous?.nats_store }, "the embedded nats-server of the run that stopped uncleanly still runs; stopping it before starting this run's");
    process.kill(pid, "SIGTERM");
    const until = Date.now() + deadline_ms;
    while (running(pid)) {
      if (Date.now() > until) {
        process.kill(pid, "SIGKILL");
        break;
      }
      await Bun.sleep(20);
    }
  }

  /**
   * Ends the run. `clean`: the marker is removed and the next start writes no gaps. Otherwise it
   * stays, so the next start still records the down time this run could not record.
   */
  close(clean: boolean): void {
    if (this.closed) return;
    this.closed = true;
    openHere.delete(this.path);
    if (clean) rmSync(this.path, { force: true });
  }

  private write(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.info)}\n`);
    renameSync(tmp, this.path);
  }
}
