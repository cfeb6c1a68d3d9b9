/**
 * Stream sequences a storage consumer holds (in a batch, or being committed) and the ones it
 * acknowledged most recently, so a second delivery of the same message is recognised.
 *
 * Why: a pull consumer holds up to `fetch_batch` messages ahead of the batch it is inserting.
 * While an insert is retried through a ClickHouse outage, those wait unprocessed; once they
 * have waited `ack_wait_ms` JetStream delivers them again, and the copies carry a higher
 * delivery count. Read as a crash loop, a copy at `max_deliver` went to the dead-letter subject
 * although its first delivery was stored (test/bus/clickhouse-outage.test.ts: a 4 s outage at
 * a 1 s ack wait dead-lettered 45 of 50 such frames).
 */
export class DeliveredSeqs {
  readonly #held = new Set<number>();
  /** In the order acknowledged (a Set iterates in insertion order), so the oldest goes first. */
  readonly #acked = new Set<number>();

  /** `capacity`: acknowledged sequences remembered, oldest forgotten first. */
  constructor(private readonly capacity: number) {}

  /** The message is in a batch or being committed. */
  hold(seq: number): void {
    this.#held.add(seq);
  }

  isHeld(seq: number): boolean {
    return this.#held.has(seq);
  }

  /** The message's insert committed and it was acknowledged. */
  acked(seq: number): void {
    this.#held.delete(seq);
    if (this.#acked.has(seq)) return;
    if (this.#acked.size >= this.capacity) this.#acked.delete(this.#acked.values().next().value as number);
    this.#acked.add(seq);
  }

  /** The message was terminated or dead-lettered: no longer held. */
  released(seq: number): void {
    this.#held.delete(seq);
  }

  wasAcked(seq: number): boolean {
    return this.#acked.has(seq);
  }
}
