import type { DataType, GapRecord, MarketRecord, RecordType } from "../records/types.ts";
import { SpscRing } from "../ring/spsc-ring.ts";
import type { Counters } from "../stats/counters.ts";
import { typeCounter } from "../stats/layout.ts";
import type { RingLink } from "../supervisor/messages.ts";
import { batchIndexFor } from "./route.ts";

/**
 * Longest a record waits appended but unpublished, ms. The owner calls `flush()` once per
 * event-loop turn (setImmediate), but that turn can come late: in the e2e bench, with the
 * simulator keeping the sockets full, batches of ~2,000 trades sat appended but unpublished,
 * invisible to the batch worker, for 200-800 ms. So `emit` also publishes once what it
 * appended is this old.
 */
export const PUBLISH_WITHIN_MS = 2;

/** Encodes one record for a ring. */
export type RecordEncoder = (record: MarketRecord) => Uint8Array;

interface Lane {
  readonly type: RecordType;
  readonly ring: SpscRing;
  /** Encoded records waiting for room in the ring, oldest first. */
  readonly overflow: Uint8Array[];
  /** Records of an open overflow episode that were dropped: the gap it becomes. */
  dropped: { count: number; first: MarketRecord; last_ts_ms: number } | null;
  appended: number;
}

interface Route {
  readonly lanes: readonly Lane[];
  readonly ingested: number;
  readonly dropped: number;
}

/**
 * The ingest side of the rings: routes each record to batch worker hash(symbol) % N of its
 * type and appends it; `flush()` publishes what was appended (one index store per ring per
 * flush, not per record), and `emit` flushes by itself once the oldest unpublished record is
 * PUBLISH_WITHIN_MS old. An ingest worker never blocks on a full ring: it holds up to
 * `overflow_records` per ring, then drops, counts the drop, and emits a `ring_overflow` gap
 * once the ring has room again.
 */
export class RingRouter {
  private readonly routes = new Map<RecordType, Route>();
  private readonly lanes: Lane[] = [];
  private readonly unroutedSlot: Map<RecordType, number> = new Map();
  /** performance.now() of the oldest record appended since the last flush; 0 when none. */
  private unpublishedSince = 0;

  constructor(
    links: readonly RingLink[],
    private readonly counters: Counters,
    private readonly overflow_records: number,
    private readonly encode: RecordEncoder,
  ) {
    const byType = new Map<RecordType, RingLink[]>();
    for (const link of links) {
      const list = byType.get(link.type) ?? [];
      list[link.batch_index] = link;
      byType.set(link.type, list);
    }
    for (const [type, list] of byType) {
      const lanes = list.map((link) => {
        const ring = SpscRing.attach(link.buffer);
        // A restarted producer reopens the ring it closed (or failed) on its way out.
        ring.reopen();
        const lane: Lane = { type, ring, overflow: [], dropped: null, appended: 0 };
        this.lanes.push(lane);
        return lane;
      });
      this.routes.set(type, {
        lanes,
        ingested: counters.slot(typeCounter(type, "ingested")),
        dropped: counters.slot(typeCounter(type, "dropped")),
      });
    }
  }

  /** Routes one record. Never blocks; a record that cannot be held is dropped and counted. */
  emit(record: MarketRecord): void {
    const route = this.routes.get(record.data_type);
    if (route === undefined) {
      // No batch worker takes this type (batch_workers.<type> = 0): counted as dropped.
      let slot = this.unroutedSlot.get(record.data_type);
      if (slot === undefined) {
        slot = this.counters.slot(typeCounter(record.data_type, "dropped"));
        this.unroutedSlot.set(record.data_type, slot);
      }
      this.counters.add(slot, 1);
      return;
    }
    const lanes = route.lanes;
    const lane = lanes.length === 1 ? lanes[0] : lanes[batchIndexFor(record.symbol, lanes.length)];
    if (lane === undefined) return;
    const bytes = this.encode(record);
    if (lane.overflow.length === 0 && lane.ring.tryAppend(bytes)) {
      lane.appended++;
      const now = performance.now();
      if (this.unpublishedSince === 0) this.unpublishedSince = now;
      else if (now - this.unpublishedSince >= PUBLISH_WITHIN_MS) this.flush();
      return;
    }
    // Gap records are never dropped: they are rare, and losing one would hide a loss.
    if (lane.overflow.length < this.overflow_records || record.data_type === "gap") {
      lane.overflow.push(bytes);
      return;
    }
    lane.ring.recordDrop(1);
    this.counters.add(route.dropped, 1);
    if (lane.dropped === null) lane.dropped = { count: 1, first: record, last_ts_ms: record.ts_ms };
    else {
      lane.dropped.count++;
      lane.dropped.last_ts_ms = record.ts_ms;
    }
  }

  /** Publishes appended records, moves overflow into rings that have room, emits overflow gaps. */
  flush(): void {
    this.unpublishedSince = 0;
    for (const lane of this.lanes) {
      const overflow = lane.overflow;
      let moved = 0;
      while (moved < overflow.length && lane.ring.tryAppend(overflow[moved] as Uint8Array)) moved++;
      if (moved > 0) overflow.splice(0, moved);
      lane.appended += moved;
      if (lane.appended > 0) {
        lane.ring.publish();
        const route = this.routes.get(lane.type);
        if (route !== undefined) this.counters.add(route.ingested, lane.appended);
        lane.appended = 0;
      }
      if (lane.dropped !== null && overflow.length === 0) {
        const d = lane.dropped;
        lane.dropped = null;
        if (lane.type !== "gap") this.emit(overflowGap(lane.type, d.first, d.last_ts_ms));
      }
    }
  }

  /** Records held outside the rings, per record type. */
  overflowByType(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const lane of this.lanes) out[lane.type] = (out[lane.type] ?? 0) + lane.overflow.length;
    return out;
  }

  /** Records still held outside the rings. */
  get backlog(): number {
    let n = 0;
    for (const lane of this.lanes) n += lane.overflow.length;
    return n;
  }

  /** Ends every ring (end marker) after a final flush; the batch workers drain and finish. */
  close(): void {
    this.flush();
    for (const lane of this.lanes) lane.ring.close();
  }
}

function overflowGap(type: DataType, first: MarketRecord, last_ts_ms: number): GapRecord {
  return {
    data_type: "gap",
    exchange: first.exchange,
    market_type: first.market_type,
    symbol: first.symbol,
    ts_ms: last_ts_ms,
    recv_ts_ms: Date.now(),
    data_type_affected: type,
    start_ts_ms: first.ts_ms,
    end_ts_ms: last_ts_ms,
    cause: "ring_overflow",
    recovered_records: 0,
    recovered_at_ms: 0,
  };
}
