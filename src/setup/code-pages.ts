import { dlopen, FFIType } from "bun:ffi";
import { readFileSync } from "node:fs";

/**
 * Hands back to the kernel the pages of embedded ClickHouse's (libchdb) and Bun's machine code
 * and read-only data that the start touched and the running engine no longer uses.
 *
 * Why: libchdb is a 566 MB library, and ClickHouse's start runs the registration code of every
 * function, format and engine it has, reading their names and tables as it goes. About 110 MB of
 * its code and tens of MB of its read-only data stay resident after that, and the start of
 * Bun's threads leaves about 30 MB of Bun's. madvise(MADV_DONTNEED) drops a mapping's pages
 * from the process; the ones the engine uses again come back from the page cache on first use,
 * as after any reclaim. README ("Code pages") gives the engine's resident file pages after 60 s
 * of `--replay` with and without this.
 *
 * Only executable and read-only file mappings with no private (copy-on-write) pages are
 * touched: their pages are exactly the file's, so dropping one loses nothing. The read-only
 * mappings that relocation wrote to (RELRO) have private pages and are kept, and so is every
 * writable mapping. MADV_PAGEOUT would be the gentler call, but the 6.18 kernel here leaves
 * these pages in place under it.
 */

const MADV_DONTNEED = 4;

/** One mapping of /proc/self/smaps. */
export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly perms: string;
  readonly path: string;
  /** Resident, kB. */
  readonly rss_kb: number;
  /** Private pages that are not the file's (written since mapped), kB. */
  readonly anonymous_kb: number;
}

/** The mappings listed in an smaps text. */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: { start: bigint; end: bigint; perms: string; path: string; rss_kb: number; anonymous_kb: number } | null = null;
  for (const line of text.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) {
      if (cur !== null) out.push(cur);
      cur = { start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), perms: head[3] as string, path: head[4] ?? "", rss_kb: 0, anonymous_kb: 0 };
      continue;
    }
    if (cur === null) continue;
    const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (field?.[1] === "Rss") cur.rss_kb = Number(field[2]);
    else if (field?.[1] === "Anonymous") cur.anonymous_kb = Number(field[2]);
  }
  if (cur !== null) out.push(cur);
  return out;
}

/** The mappings safe to drop: executable or read-only, backed by one of `files`, never written. */
export function releasable(mappings: readonly Mapping[], files: readonly string[]): Mapping[] {
  return mappings.filter((m) => (m.perms === "r-xp" || m.perms === "r--p") && m.anonymous_kb === 0 && files.some((f) => m.path === f || m.path.endsWith(`/${f}`)));
}

export interface CodePagesReport {
  /** Resident code pages dropped, bytes. */
  readonly released_bytes: number;
  /** Why nothing was dropped, when nothing was. */
  readonly skipped: string | null;
}

/** The files whose code pages the engine drops: libchdb (by name) and the running Bun. */
export function engineCodeFiles(): string[] {
  return ["libchdb.so", process.execPath];
}

/**
 * Drops the resident pages of `files`' executable and read-only mappings (see above). Linux
 * with glibc only; anywhere else, or when a call fails, nothing is dropped and `skipped` says
 * why.
 */
export function releaseCodePages(files: readonly string[] = engineCodeFiles()): CodePagesReport {
  if (process.platform !== "linux") return { released_bytes: 0, skipped: `not Linux (${process.platform})` };
  let madvise: (addr: bigint, len: bigint, advice: number) => number;
  try {
    const libc = dlopen("libc.so.6", { madvise: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 } });
    madvise = (addr, len, advice) => libc.symbols.madvise(addr, len, advice);
  } catch (error) {
    return { released_bytes: 0, skipped: `libc.so.6 not loadable: ${(error as Error).message}` };
  }
  const targets = releasable(parseSmaps(readFileSync("/proc/self/smaps", "utf8")), files);
  let released_kb = 0;
  for (const m of targets) {
    if (madvise(m.start, m.end - m.start, MADV_DONTNEED) !== 0) return { released_bytes: released_kb * 1024, skipped: `madvise failed on ${m.path}` };
    released_kb += m.rss_kb;
  }
  return { released_bytes: released_kb * 1024, skipped: targets.length === 0 ? "no code mapping of the engine's files" : null };
}
