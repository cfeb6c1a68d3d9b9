import { describe, expect, test } from "bun:test";
import type { IngestBenchResult } from "../../bench/ingest.bench.ts";
import { compareWithHistory, type HistoryLine } from "../../bench/history.ts";

const measured: IngestBenchResult = {
  symbols: 2000,
  frames_per_s: 26400,
  records_per_s: 9100,
  cpu_pct: 41.2,
  cpu_us_per_frame: 15.6,
  book_records_per_s: 1998,
  book_encode_us: 55.1,
  encode_pct: 26.4,
  sync_s: 82.3,
};

const line = (figures: IngestBenchResult): HistoryLine => ({ timestamp: "t", commit: "c", quick: false, machine: null, suites: { ingest: { ...figures } } });

describe("ingest bench figures against the previous run", () => {
  test("more CPU per frame, a slower book encode and a larger encode share are regressions; fewer frames a second is one", () => {
    const worse: IngestBenchResult = { ...measured, cpu_pct: 48, cpu_us_per_frame: 18.2, book_encode_us: 117.4, encode_pct: 40.1, frames_per_s: 20000 };
    const comparison = compareWithHistory([line(measured)], line(worse));
    expect(comparison.text).toMatch(/ingest\.cpu_us_per_frame\s+15\.6\s+18\.2\s+\+16\.7%\s+REGRESSION/);
    expect(comparison.text).toMatch(/ingest\.book_encode_us\s+55\.1\s+117\.4\s+\+113\.1%\s+REGRESSION/);
    expect(comparison.text).toMatch(/ingest\.encode_pct\s+26\.4\s+40\.1\s+\+51\.9%\s+REGRESSION/);
    expect(comparison.text).toMatch(/ingest\.frames_per_s\s+26400\s+20000\s+-24\.2%\s+REGRESSION/);
    expect(comparison.regressions).toBe(5);
  });

  test("the same figures again, or better ones, are no regression", () => {
    expect(compareWithHistory([line(measured)], line(measured)).regressions).toBe(0);
    const better: IngestBenchResult = { ...measured, cpu_pct: 35, cpu_us_per_frame: 13.3, book_encode_us: 40, encode_pct: 20 };
    expect(compareWithHistory([line(measured)], line(better)).regressions).toBe(0);
  });
});
