/**
 * Stream sequences a storage consumer holds (in a batch, or being committed) and the ones
 * acknowledged most recently, so a second delivery of the same message is recognised.
 *
 * Why: a pull consumer holds up to `fetch_batch` messages ahead of the batch it is inserting.
 * While an insert is retried through a ClickHouse outage, those wait unprocessed; once they
 * have waited `ack_wait_ms` JetStream delivers them again, and the copies carry a higher
 * delivery count. Read as a crash loop, a copy at `max_deliver` went to the dead-letter subject
 * although its first delivery was stored (test/bus/clickhouse-outage.test.ts: a 4 s outage at
 * a 1 s ack wait dead-lettered 45 of 50 such frames).
 *
 * Acknowledged sequences can live in a SharedArrayBuffer (`sharedAckedSeqs`) that every batch
 * worker of a type reads and writes, and that outlives a worker's restart: the acks a
 * nats-server killed mid-stream had not yet written to its store are lost with it, and it
 * delivers those messages again after its restart to whichever worker pulls, which would
 * otherwise store them a second time (test/supervisor/nats-heal.test.ts).
 * The shared table keeps one sequence per slot (`seq % slots`): a sequence is forgotten once
 * a later one lands on its slot, so it remembers at least the last `slots` acks.
 */

/** Slots of a shared acknowledged-sequence table: 65,536 x 8 bytes = 512 KiB per record type. */
export const SHARED_ACKED_SLOTS = 1 << 16;

/** A table of acknowledged sequences for the batch workers of one record type to share. */
export function sharedAckedSeqs(slots = SHARED_ACKED_SLOTS): SharedArrayBuffer {
  return new SharedArrayBuffer(slots * BigInt64Array.BYTES_PER_ELEMENT);
}

export class DeliveredSeqs {
  readonly #held = new Set<number>();
  /** In the order acknowledged (a Set iterates in insertion order), so the oldest goes first. */
  readonly #acked = new Set<number>();
  readonly #shared: BigInt64Array | null;

  /**
   * `capacity`: acknowledged sequences remembered, oldest forgotten first (local table).
   * `shared`: a table from `sharedAckedSeqs` used instead of the local one.
   */
  constructor(
    private readonly capacity: number,
    shared: SharedArrayBuffer | null = null,
  ) {
    this.#shared = shared === null ? null : new BigInt64Array(shared);
  }

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
    const shared = this.#shared;
    if (shared !== null) {
      Atomics.store(shared, seq % shared.length, BigInt(seq));
      return;
    }
    if (this.#acked.has(seq)) return;
    if (this.#acked.size >= this.capacity) this.#acked.delete(this.#acked.values().next().value as number);
    this.#acked.add(seq);
  }

  /** The message was terminated or dead-lettered: no longer held. */
  released(seq: number): void {
    this.#held.delete(seq);
  }

  wasAcked(seq: number): boolean {
    const shared = this.#shared;
    if (shared !== null) return Atomics.load(shared, seq % shared.length) === BigInt(seq);
    return this.#acked.has(seq);
  }
}
