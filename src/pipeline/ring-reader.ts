import type { RawRecord } from "../codec/raw-frame.ts";
import { RecordCodec } from "../codec/record-codec.ts";
import type { MarketRecord } from "../records/types.ts";
import { RING_OPEN, SpscRing } from "../ring/spsc-ring.ts";
import type { RingLink } from "../supervisor/messages.ts";

/**
 * The batch side of the rings: gathers records from every ring feeding one batch worker
 * without consuming them; `commit()` frees them only once they are durably handed on
 * (JetStream acked or ClickHouse committed). A worker that dies in between is restarted,
 * re-attaches, and reads the same records again (at-least-once; natural-key dedup downstream
 * makes it exactly-once in storage).
 */
export class RingReader {
  readonly rings: readonly SpscRing[];
  private readonly codec = new RecordCodec();
  private out: MarketRecord[] = [];
  private raw: RawRecord[] = [];
  /** Encoded bytes of the records the last `gather` or `gatherRaw` returned. */
  gatheredBytes = 0;
  private readonly visit = (data: Uint8Array, start: number, end: number): void => {
    this.out.push(this.codec.decodeRecordAt(data, start, end));
    this.gatheredBytes += end - start;
  };
  private readonly visitRaw = (data: Uint8Array, start: number, end: number): void => {
    this.raw.push({ data, start, end });
    this.gatheredBytes += end - start;
  };

  constructor(links: readonly RingLink[]) {
    this.rings = links.map((l) => SpscRing.attach(l.buffer));
  }

  /** Up to `max` records past what is already pending, from all rings in turn (not consumed). */
  gather(max: number): MarketRecord[] {
    this.out = [];
    this.peekAll(this.visit, max, () => this.out.length);
    return this.out;
  }

  /** `gather` without decoding: views of the records' bytes in the rings, valid until `commit`. */
  gatherRaw(max: number): RawRecord[] {
    this.raw = [];
    this.peekAll(this.visitRaw, max, () => this.raw.length);
    return this.raw;
  }

  private peekAll(visit: (data: Uint8Array, start: number, end: number) => void, max: number, gathered: () => number): void {
    this.gatheredBytes = 0;
    for (const ring of this.rings) {
      const room = max - gathered();
      if (room <= 0) break;
      ring.peek(visit, room);
    }
  }

  /** Frees everything gathered so far. */
  commit(): void {
    for (const ring of this.rings) ring.commit();
  }

  /** A mark per ring covering everything gathered so far, for `commitTo`. */
  mark(): number[] {
    return this.rings.map((ring) => ring.peekMark());
  }

  /** Frees what was gathered before `marks` (from `mark()`), keeping what was gathered after. */
  commitTo(marks: readonly number[]): void {
    this.rings.forEach((ring, i) => ring.commitTo(marks[i] as number));
  }

  /** Bytes gathered-or-waiting in the fullest ring, as a fraction of its capacity. */
  fill(): number {
    let max = 0;
    for (const ring of this.rings) max = Math.max(max, ring.depth_bytes / ring.capacity);
    return max;
  }

  /** Every producer ended its ring and nothing is left unread. */
  get finished(): boolean {
    return this.rings.every((r) => r.finished);
  }

  /**
   * Resolves when any ring has data, or after `timeout_ms`. Ended rings resolve a ring wait at
   * once, so when every ring has ended this sleeps instead: the caller's loop must yield to the
   * event loop, or the `stop` message that ends it would never be delivered.
   */
  async waitForData(timeout_ms: number): Promise<void> {
    if (this.rings.length === 0 || this.rings.every((r) => r.state !== RING_OPEN && !r.hasData())) {
      await Bun.sleep(timeout_ms);
      return;
    }
    await Promise.race(this.rings.map((r) => r.waitForData(timeout_ms)));
  }
}
