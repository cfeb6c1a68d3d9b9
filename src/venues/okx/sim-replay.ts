import { FrameTemplate, type ShiftKind } from "../../replay/frame-template.ts";
import { record, RecordedTimes, SpanShifts, SpanTracker, type FeedFrame, type ReplayFeed } from "../../replay/feed.ts";
import type { RecordedLine } from "../../replay/recording.ts";
import { SentTrades } from "../../replay/sent-trades.ts";

/**
 * OKX v5 public replay. Recorded subscribe acks are dropped (the simulator acks what each
 * client asks for). Books: every loop replays the recorded `action:"snapshot"` push before the
 * updates that follow it, so the CRC32 checksums stay valid loop after loop; a client that
 * subscribes mid-loop receives nothing for that book until the next snapshot push (at most one
 * loop later). `ts` moves with the loop's time shift, `tradeId` and the books' `seqId` and
 * `prevSeqId` (where present: OKX sends them today, the 2022 recordings lack them) by
 * per-instrument spans; a snapshot's `prevSeqId` of -1 stays as it is. The trades the `trades`
 * pushes carry are kept for the REST trade history (keepTrades).
 */

const PATTERN = /"(ts|tradeId|seqId|prevSeqId)":"?(\d+)/g;
const KIND: Record<string, ShiftKind> = { ts: "time", tradeId: "trade", seqId: "update", prevSeqId: "update" };

export class OkxReplay implements ReplayFeed {
  readonly frames: FeedFrame[] = [];
  readonly instruments: string[] = [];
  /** Last traded price per instrument, for synthetic data. */
  readonly prices = new Map<string, number>();
  private readonly spans: SpanShifts;
  /** The trades the `trades` pushes sent, for the REST trade history (keepTrades). */
  readonly trades = new SentTrades();

  constructor(lines: readonly RecordedLine[], start_ms: number) {
    const trades = new SpanTracker();
    const updates = new SpanTracker();
    const instruments = new Set<string>();
    const times = new RecordedTimes();
    for (const line of lines) {
      if (line.source !== "ws") continue;
      times.see(line.recv_ts);
      const parsed = record(JSON.parse(line.raw));
      const arg = record(parsed?.arg);
      if (!parsed || !arg || parsed.event !== undefined) continue;
      const channel = arg.channel;
      const instId = arg.instId;
      if (typeof channel !== "string" || typeof instId !== "string") continue;
      instruments.add(instId);
      const rows = Array.isArray(parsed.data) ? parsed.data : [];
      for (const row of rows) {
        const r = record(row);
        if (typeof r?.tradeId === "string") trades.see(instId, Number(r.tradeId));
        if (typeof r?.seqId === "number") updates.see(instId, r.seqId);
        if (typeof r?.px === "string") this.prices.set(instId, Number(r.px));
        if (typeof r?.last === "string") this.prices.set(instId, Number(r.last));
      }
      this.frames.push({
        key: `${channel}:${instId}`,
        symbol: instId,
        template: FrameTemplate.parse(line.raw, PATTERN, (k) => KIND[k]),
        snapshot: channel.startsWith("books") && parsed.action === "snapshot",
        ...(channel === "trades" ? { trade: true } : {}),
      });
    }
    this.instruments.push(...instruments);
    this.spans = times.shifts(start_ms, updates.spans(), trades.spans());
  }

  shifts(symbol: string, loop: number) {
    return this.spans.get(symbol, loop);
  }

  advance(): void {}

  /** A `trades` push the cursor passed: each row, as sent, is kept for `history-trades` (sim-rest.ts). */
  keepTrades(frame: FeedFrame, text: string): void {
    const rows = record(JSON.parse(text))?.data;
    if (!Array.isArray(rows)) return;
    for (const row of rows) {
      const r = record(row);
      if (typeof r?.tradeId === "string") this.trades.add(frame.symbol, Number(r.tradeId), JSON.stringify(r));
    }
  }
}
