import type { RawFrame } from "../venues/types.ts";
import type { RecordedLine } from "./recording.ts";

/**
 * A recorded line as the normalizers take it (receive time in ms): how `bun run normalize`, the
 * normalize bench and the mapper tests feed recordings to a venue's normalizer. Apart from
 * recording.ts, which the simulator reads, so the simulator's contracts stay below the venues'.
 */
export function recordedFrame(line: RecordedLine): RawFrame {
  return { source: line.source, url: line.url, recv_ts_ms: Math.round(line.recv_ts * 1000), raw: line.raw };
}
