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
 * The batch workers of a type share one durable consumer, so a copy can reach another worker
 * than the one that holds or stored the message: a nats-server killed mid-stream loses the
 * acks and delivery state it had not yet written to its store, and after its restart it
 * delivers those messages again to whichever worker pulls. A table in a SharedArrayBuffer
 * (`sharedDeliveredSeqs`), which every worker of the type reads and writes and which outlives
 * their restarts, tells each what the others hold and stored (test/supervisor/nats-heal.test.ts):
 *
 *   seqs     BigInt64 x SLOTS   slot seq % SLOTS: seq = acknowledged, -seq = held by `owners`
 *   owners   Int32 x SLOTS      worker index << 16 | generation of the holder
 *   gens     Int32 x workers    each worker's generation, bumped at every (re)start
 *
 * A hold by a generation that is no longer current died with its thread and counts for
 * nothing. A slot keeps one sequence: it is forgotten once a later one lands on it, so the
 * table remembers at least the last SLOTS messages.
 */

/** Slots of a shared table: 65,536 x 12 bytes = 768 KiB per record type. */
export const SHARED_SLOTS = 1 << 16;

const SEQ_BYTES = BigInt64Array.BYTES_PER_ELEMENT;
const INT_BYTES = Int32Array.BYTES_PER_ELEMENT;

/** A table for the `workers` batch workers of one record type to share. */
export function sharedDeliveredSeqs(workers: number, slots = SHARED_SLOTS): SharedArrayBuffer {
  return new SharedArrayBuffer(slots * (SEQ_BYTES + INT_BYTES) + workers * INT_BYTES);
}

interface Shared {
  readonly seqs: BigInt64Array;
  readonly owners: Int32Array;
  readonly gens: Int32Array;
  /** This worker's owner value. */
  readonly me: number;
}

export class DeliveredSeqs {
  readonly #held = new Set<number>();
  /** In the order acknowledged (a Set iterates in insertion order), so the oldest goes first. */
  readonly #acked = new Set<number>();
  readonly #shared: Shared | null;

  /**
   * `capacity`: acknowledged sequences remembered, oldest forgotten first (without a shared table).
   * `shared`: a table from `sharedDeliveredSeqs` and this worker's index among its type's workers.
   */
  constructor(
    private readonly capacity: number,
    shared: { readonly buffer: SharedArrayBuffer; readonly worker: number; readonly slots?: number } | null = null,
  ) {
    if (shared === null) {
      this.#shared = null;
      return;
    }
    const slots = shared.slots ?? SHARED_SLOTS;
    const seqs = new BigInt64Array(shared.buffer, 0, slots);
    const owners = new Int32Array(shared.buffer, slots * SEQ_BYTES, slots);
    const gens = new Int32Array(shared.buffer, slots * (SEQ_BYTES + INT_BYTES));
    const generation = (Atomics.add(gens, shared.worker, 1) + 1) & 0xffff;
    this.#shared = { seqs, owners, gens, me: (shared.worker << 16) | generation };
  }

  /** The message is in a batch or being committed. */
  hold(seq: number): void {
    this.#held.add(seq);
    const s = this.#shared;
    if (s === null) return;
    const i = seq % s.seqs.length;
    Atomics.store(s.owners, i, s.me);
    Atomics.store(s.seqs, i, -BigInt(seq));
  }

  /** Held by this consumer. */
  isHeld(seq: number): boolean {
    return this.#held.has(seq);
  }

  /** Held by another live worker of the type, which acknowledges it once stored. */
  heldElsewhere(seq: number): boolean {
    const s = this.#shared;
    if (s === null) return false;
    const i = seq % s.seqs.length;
    if (Atomics.load(s.seqs, i) !== -BigInt(seq)) return false;
    const owner = Atomics.load(s.owners, i);
    if (owner === s.me) return false;
    return (Atomics.load(s.gens, owner >>> 16) & 0xffff) === (owner & 0xffff);
  }

  /** The message's insert committed and it was acknowledged. */
  acked(seq: number): void {
    this.#held.delete(seq);
    const s = this.#shared;
    if (s !== null) {
      Atomics.store(s.seqs, seq % s.seqs.length, BigInt(seq));
      return;
    }
    if (this.#acked.has(seq)) return;
    if (this.#acked.size >= this.capacity) this.#acked.delete(this.#acked.values().next().value as number);
    this.#acked.add(seq);
  }

  /** The message was terminated or dead-lettered: no longer held. */
  released(seq: number): void {
    this.#held.delete(seq);
    const s = this.#shared;
    if (s !== null) Atomics.compareExchange(s.seqs, seq % s.seqs.length, -BigInt(seq), 0n);
  }

  wasAcked(seq: number): boolean {
    const s = this.#shared;
    if (s !== null) return Atomics.load(s.seqs, seq % s.seqs.length) === BigInt(seq);
    return this.#acked.has(seq);
  }
}
