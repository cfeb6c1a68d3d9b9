import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FileSink } from "bun";

/**
 * `--record DIR`: every raw frame and REST body an ingest runner receives, in the fixture line
 * format (`{"source","url","recv_ts","raw"}`, keys in that order, recv_ts in seconds), so a
 * user's own capture can be replayed with `--replay DIR`. Writes are buffered by Bun's FileSink.
 */
export class CaptureWriter {
  readonly path: string;
  lines = 0;
  private readonly sink: FileSink;

  constructor(dir: string, name: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `${name}.jsonl`);
    this.sink = Bun.file(this.path).writer();
  }

  write(source: "ws" | "http", url: string, recv_ts_ms: number, raw: string): void {
    this.sink.write(`{"source":"${source}","url":${JSON.stringify(url)},"recv_ts":${recv_ts_ms / 1000},"raw":${JSON.stringify(raw)}}\n`);
    this.lines++;
  }

  async close(): Promise<void> {
    await this.sink.end();
  }
}
