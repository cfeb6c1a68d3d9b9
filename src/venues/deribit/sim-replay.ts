import { FrameTemplate, type ShiftKind } from "../../replay/frame-template.ts";
import { record, RecordedTimes, SpanShifts, SpanTracker, type FeedFrame, type ReplayFeed } from "../../replay/feed.ts";
import type { RecordedLine } from "../../replay/recording.ts";

/**
 * Deribit JSON-RPC notification replay (`book.*`, `ticker.*`). RPC results of the recorded
 * session are dropped. Each loop starts every book again from its recorded `snapshot`, and
 * change ids move by a per-instrument span so they keep increasing across loops.
 */

const PATTERN = /"(timestamp|change_id|prev_change_id)":(\d+)/g;
const KIND: Record<string, ShiftKind> = { timestamp: "time", change_id: "update", prev_change_id: "update" };

export class DeribitReplay implements ReplayFeed {
  readonly frames: FeedFrame[] = [];
  private readonly spans: SpanShifts;

  constructor(lines: readonly RecordedLine[], start_ms: number) {
    const changes = new SpanTracker();
    const times = new RecordedTimes();
    for (const line of lines) {
      if (line.source !== "ws") continue;
      times.see(line.recv_ts);
      const parsed = record(JSON.parse(line.raw));
      const params = record(parsed?.params);
      const data = record(params?.data);
      if (parsed?.method !== "subscription" || typeof params?.channel !== "string" || !data) continue;
      const symbol = typeof data.instrument_name === "string" ? data.instrument_name : params.channel;
      if (typeof data.change_id === "number") changes.see(symbol, data.change_id);
      if (typeof data.prev_change_id === "number") changes.see(symbol, data.prev_change_id);
      this.frames.push({ key: params.channel, symbol, template: FrameTemplate.parse(line.raw, PATTERN, (k) => KIND[k]), snapshot: false });
    }
    this.spans = times.shifts(start_ms, changes.spans(), new Map());
  }

  shifts(symbol: string, loop: number) {
    return this.spans.get(symbol, loop);
  }

  advance(): void {}
}
