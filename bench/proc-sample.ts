import { existsSync, readdirSync, readFileSync } from "node:fs";

/**
 * Linux /proc readings for the benches that run the engine: resident memory of a process, CPU
 * time per thread (utime + stime from /proc/PID/task/TID/stat, names from .../comm) and per
 * process tree. Bun names its worker threads, so the per-thread split shows which stage burns
 * the cores.
 */

/** Clock ticks per second (USER_HZ); 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_S = 100;

/** Resident set size in MiB, or null when the process is gone. */
export function rssMb(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return match?.[1] === undefined ? null : Number(match[1]) / 1024;
}

export interface ThreadCpu {
  /** `pid/tid`, stable across samples. */
  readonly key: string;
  readonly process: string;
  readonly thread: string;
  readonly cpu_s: number;
}

function readTask(pid: number, tid: string, processName: string): ThreadCpu | null {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    // Fields after the parenthesised comm: state is field 3, utime 14, stime 15 (1-based).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(rest[11]) + Number(rest[12]);
    const thread = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
    return { key: `${pid}/${tid}`, process: processName, thread, cpu_s: ticks / CLOCK_TICKS_PER_S };
  } catch {
    return null;
  }
}

/** CPU seconds so far of every thread of `pid`. */
export function threadCpu(pid: number, processName: string): ThreadCpu[] {
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return [];
  const out: ThreadCpu[] = [];
  for (const tid of readdirSync(dir)) {
    const t = readTask(pid, tid, processName);
    if (t !== null) out.push(t);
  }
  return out;
}

/** Direct children of `pid` (e.g. the embedded nats-server) with their command names. */
export function childProcesses(pid: number): { pid: number; name: string }[] {
  const out: { pid: number; name: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === pid) out.push({ pid: Number(entry), name: stat.slice(stat.indexOf("(") + 1, close) });
    } catch {
      // The process ended between listing and reading.
    }
  }
  return out;
}

export interface ThreadUse {
  readonly process: string;
  readonly thread: string;
  /** Threads folded into this row (same process and name). */
  readonly threads: number;
  /** Share of one core over the interval, percent. */
  readonly cpu_pct: number;
}

/**
 * Per-thread CPU between two readings, busiest first. Threads under 1 % of a core are folded
 * by (process, name); busier ones stay one row each, since Bun names every worker thread
 * "Worker" and the busiest single worker is what limits a pipeline stage.
 */
export function cpuBetween(before: readonly ThreadCpu[], after: readonly ThreadCpu[], seconds: number): ThreadUse[] {
  const start = new Map(before.map((t) => [t.key, t.cpu_s]));
  const rows = new Map<string, { process: string; thread: string; threads: number; cpu_s: number }>();
  for (const t of after) {
    const used = t.cpu_s - (start.get(t.key) ?? 0);
    const key = used / seconds >= 0.01 ? t.key : `${t.process}\u0000${t.thread}`;
    const row = rows.get(key) ?? { process: t.process, thread: t.thread, threads: 0, cpu_s: 0 };
    row.threads++;
    row.cpu_s += used;
    rows.set(key, row);
  }
  return [...rows.values()]
    .map((r) => ({ process: r.process, thread: r.thread, threads: r.threads, cpu_pct: Math.round((r.cpu_s / seconds) * 1000) / 10 }))
    .filter((r) => r.cpu_pct > 0)
    .sort((a, b) => b.cpu_pct - a.cpu_pct);
}

/**
 * CPU seconds so far of process `pid`, every thread included, ended ones too (utime + stime of
 * /proc/PID/stat), or null when the process is gone.
 */
export function processCpuS(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/** `pid` and every process below it (children, their children, ...). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const child of childProcesses(out[i] ?? pid)) out.push(child.pid);
  return out;
}

/** CPU seconds so far of each process of `pid`'s tree, by pid. */
export function treeCpuS(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of processTree(pid)) {
    const s = processCpuS(p);
    if (s !== null) out.set(p, s);
  }
  return out;
}

/** CPU seconds a process tree used between two treeCpuS readings (a process that started in between counts from 0). */
export function treeCpuBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let s = 0;
  for (const [pid, cpu] of after) s += cpu - (before.get(pid) ?? 0);
  return s;
}
