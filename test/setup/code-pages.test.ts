import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parseSmaps, releasable, releaseCodePages } from "../../src/setup/code-pages.ts";
import { testRows } from "../support/chdb.ts";

const SMAPS = `7f0000000000-7f0000100000 r--p 00000000 fe:00 42 /opt/lib/libchdb.so
Size:               1024 kB
Rss:                 900 kB
Anonymous:           100 kB
7f0000100000-7f0000500000 r-xp 00100000 fe:00 42 /opt/lib/libchdb.so
Size:               4096 kB
Rss:                3000 kB
Anonymous:             0 kB
7f0000500000-7f0000600000 r-xp 00500000 fe:00 42 /opt/lib/libchdb.so
Rss:                 200 kB
Anonymous:             8 kB
7f0000580000-7f0000600000 r--p 00580000 fe:00 42 /opt/lib/libchdb.so
Rss:                 300 kB
Anonymous:             0 kB
7f0000600000-7f0000700000 rw-p 00600000 fe:00 42 /opt/lib/libchdb.so
Rss:                  64 kB
Anonymous:            64 kB
7f1000000000-7f1000100000 r-xp 00000000 fe:00 43 /usr/lib/libother.so
Rss:                 500 kB
Anonymous:             0 kB
7f2000000000-7f2000100000 r-xp 00000000 fe:00 44 /opt/bun/bin/bun
Rss:                 700 kB
Anonymous:             0 kB
7f3000000000-7f3000100000 rw-p 00000000 00:00 0
Rss:                1000 kB
Anonymous:          1000 kB
`;

test("only executable and read-only mappings of the named files with no written pages are dropped", () => {
  const maps = parseSmaps(SMAPS);
  expect(maps.map((m) => [m.perms, m.path, m.rss_kb, m.anonymous_kb])).toEqual([
    ["r--p", "/opt/lib/libchdb.so", 900, 100],
    ["r-xp", "/opt/lib/libchdb.so", 3000, 0],
    ["r-xp", "/opt/lib/libchdb.so", 200, 8],
    ["r--p", "/opt/lib/libchdb.so", 300, 0],
    ["rw-p", "/opt/lib/libchdb.so", 64, 64],
    ["r-xp", "/usr/lib/libother.so", 500, 0],
    ["r-xp", "/opt/bun/bin/bun", 700, 0],
    ["rw-p", "", 1000, 1000],
  ]);
  const picked = releasable(maps, ["libchdb.so", "/opt/bun/bin/bun"]);
  expect(picked.map((m) => [m.start.toString(16), m.end.toString(16), m.path])).toEqual([
    ["7f0000100000", "7f0000500000", "/opt/lib/libchdb.so"],
    ["7f0000580000", "7f0000600000", "/opt/lib/libchdb.so"],
    ["7f2000000000", "7f2000100000", "/opt/bun/bin/bun"],
  ]);
  // A name matches a whole file name, not a suffix of one.
  expect(releasable(maps, ["chdb.so"])).toEqual([]);
});

const libchdbCodeKb = () =>
  releasable(parseSmaps(readFileSync("/proc/self/smaps", "utf8")), ["libchdb.so"]).reduce((kb, m) => kb + m.rss_kb, 0);

test.skipIf(process.platform !== "linux")("embedded ClickHouse's code pages leave the process and ClickHouse still answers", async () => {
  expect(await testRows<{ s: string }>("SELECT toString(sum(number)) AS s FROM numbers(1000)")).toEqual([{ s: "499500" }]);
  const before = libchdbCodeKb();
  // The start of chDB alone leaves tens of MB of its code resident.
  expect(before).toBeGreaterThan(10_000);
  const report = releaseCodePages(["libchdb.so"]);
  expect(report.skipped).toBeNull();
  expect(report.released_bytes).toBeGreaterThan(before * 1024 * 0.9);
  expect(libchdbCodeKb()).toBeLessThan(before / 2);
  // Pages come back as ClickHouse runs them: a query it has not run before answers right.
  expect(await testRows<{ n: string; x: string }>("SELECT toString(count()) AS n, toString(max(number * 3)) AS x FROM numbers(100000) WHERE number % 7 = 0")).toEqual([
    { n: "14286", x: "299985" },
  ]);
});
