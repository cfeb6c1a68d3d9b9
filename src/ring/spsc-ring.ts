/**
 * Single-producer single-consumer ring of length-prefixed byte records in a SharedArrayBuffer.
 *
 * The supervisor creates the buffer and hands it to one producer thread and one consumer thread;
 * a restarted worker re-attaches to the same buffer and resumes exactly where the ring stands,
 * because every piece of state (indices, markers, counters) lives in the buffer itself.
 *
 * Layout (byte offsets; the header's slots are Int32 unless noted):
 *
 * ```
 *  0   ┌──────────── producer cache line ────────────┐
 *      │ [0] WRITE_INDEX   free-running byte position │  written by the producer only
 *      │ [1] HIGH_WATER    max depth seen, bytes      │
 *      │ [2] STATE         OPEN | CLOSED | FAILED     │  explicit end / error marker
 *      │ [3] WAKE          bumped to wake the consumer│  Atomics.wait/notify slot
 *      │ [4..5] DROPS      BigInt64 slot 2: dropped records (recordDrop)
 *  64  ├──────────── consumer cache line ────────────┤
 *      │ [16] READ_INDEX   free-running byte position │  written by the consumer only
 *  128 ├──────────── waiter cache line ──────────────┤
 *      │ [32] CONSUMER_WAITING  1 while the consumer sleeps
 *  192 ├──────────── constants ──────────────────────┤
 *      │ [48] MAGIC   [49] CAPACITY (bytes, power of two)
 *  256 ├──────────── data: CAPACITY bytes ───────────┤
 *      │ record: [int32 length][payload][pad to 4]    │
 *      │ skip:   [int32 SKIP_MARKER] → rest of the tail is unused, continue at offset 0
 *      └──────────────────────────────────────────────┘
 * ```
 *
 * Producer- and consumer-written slots sit on separate 64-byte lines so the two threads do not
 * bounce one line between cores on every record.
 *
 * Indices are free-running uint32 byte counters (stored in Int32 slots, read back with `>>> 0`):
 * depth = (write - read) mod 2^32, offset = index & (capacity - 1). Capacity is at most 2^30, so
 * the difference is always exact.
 *
 * Wrap-around: a record is always contiguous. When it does not fit in the tail before the end of
 * the buffer, the producer writes SKIP_MARKER and the record starts at offset 0. Contiguity lets
 * the consumer decode straight from the shared memory without copying; the cost is at most one
 * record's worth of tail per lap. Records are 4-byte aligned, so a length prefix never straddles
 * the end.
 *
 * Memory ordering: the producer writes the record bytes with plain stores, then publishes with
 * `Atomics.store(WRITE_INDEX)`; the consumer `Atomics.load`s WRITE_INDEX before reading bytes. The
 * JS memory model makes the plain stores visible after the sequentially consistent pair. The
 * consumer publishes READ_INDEX only after it is done with the bytes, so the producer never
 * overwrites a record being read.
 *
 * Wake-up: the consumer raises CONSUMER_WAITING, re-checks WRITE_INDEX, then waits on WAKE. The
 * producer, after publishing, bumps WAKE and notifies only if CONSUMER_WAITING is set; both sides
 * use SC atomics, so either the consumer sees the new data or the producer sees the flag (no lost
 * wake-up). Every wait has a timeout anyway.
 */

export const WRITE_INDEX = 0;
export const HIGH_WATER = 1;
export const STATE = 2;
export const WAKE = 3;
/** Index into the BigInt64 view of the header (bytes 16..24). */
export const DROPS_64 = 2;
export const READ_INDEX = 16;
export const CONSUMER_WAITING = 32;
export const MAGIC = 48;
export const CAPACITY = 49;

export const HEADER_BYTES = 256;
/** Length prefix of a record, bytes. */
export const LENGTH_BYTES = 4;
/** A length prefix meaning "the rest of the tail is padding; continue at offset 0". */
export const SKIP_MARKER = -1;
const MAGIC_VALUE = 0x53524e47; // "SRNG"
export const MIN_CAPACITY_BYTES = 16;
export const MAX_CAPACITY_BYTES = 1 << 30;

export const RING_OPEN = 0;
/** End marker: the producer finished; the consumer drains what is left. */
export const RING_CLOSED = 1;
/** Error marker: the producer died with an error; what was published is still readable. */
export const RING_FAILED = 2;
export type RingState = typeof RING_OPEN | typeof RING_CLOSED | typeof RING_FAILED;

/** A record that can never fit the ring: a programming error (size records against `max_record_bytes`). */
export class RecordTooLargeError extends Error {
  constructor(readonly record_bytes: number, readonly max_record_bytes: number) {
    super(`record of ${record_bytes} bytes exceeds the ring's maximum of ${max_record_bytes} bytes`);
    this.name = "RecordTooLargeError";
  }
}

/** A buffer that is not a ring (wrong size, magic or capacity). */
export class RingLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RingLayoutError";
  }
}

/** Visits one record: `data[start, end)` is valid only until the visitor returns. */
export type RecordVisitor = (data: Uint8Array, start: number, end: number) => void;

function alignedSlotBytes(payloadBytes: number): number {
  return (LENGTH_BYTES + payloadBytes + 3) & ~3;
}

export class SpscRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  /** Largest payload `tryWrite` accepts. */
  readonly max_record_bytes: number;
  private readonly header: Int32Array;
  private readonly header64: BigInt64Array;
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  // Producer-local: next write position (may run ahead of WRITE_INDEX until `publish`) and the
  // last READ_INDEX seen, refreshed only when the ring looks full.
  private writePos: number;
  private readSeen: number;
  // Consumer-local: the last WRITE_INDEX seen, refreshed only when the ring looks empty, and
  // the position after the last peeked record while a peek is uncommitted.
  private writeSeen: number;
  private peekPos: number | null = null;
  /** The consumer's `waitForData` in progress, which later calls join. */
  private pendingWait: Promise<boolean> | null = null;

  private constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.header = new Int32Array(sab, 0, HEADER_BYTES >> 2);
    this.header64 = new BigInt64Array(sab, 0, HEADER_BYTES >> 3);
    this.capacity = Atomics.load(this.header, CAPACITY);
    this.mask = this.capacity - 1;
    this.max_record_bytes = this.capacity - LENGTH_BYTES;
    this.bytes = new Uint8Array(sab, HEADER_BYTES, this.capacity);
    this.words = new Int32Array(sab, HEADER_BYTES, this.capacity >> 2);
    this.writePos = Atomics.load(this.header, WRITE_INDEX) >>> 0;
    this.readSeen = Atomics.load(this.header, READ_INDEX) >>> 0;
    this.writeSeen = this.writePos;
  }

  /** A new, empty, open ring of `capacity_bytes` (a power of two, 16 .. 2^30). */
  static create(capacity_bytes: number): SpscRing {
    if (
      !Number.isInteger(capacity_bytes) ||
      capacity_bytes < MIN_CAPACITY_BYTES ||
      capacity_bytes > MAX_CAPACITY_BYTES ||
      (capacity_bytes & (capacity_bytes - 1)) !== 0
    ) {
      throw new RingLayoutError(
        `ring capacity must be a power of two between ${MIN_CAPACITY_BYTES} and ${MAX_CAPACITY_BYTES} bytes, got ${capacity_bytes}`,
      );
    }
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacity_bytes);
    const header = new Int32Array(sab, 0, HEADER_BYTES >> 2);
    Atomics.store(header, CAPACITY, capacity_bytes);
    Atomics.store(header, MAGIC, MAGIC_VALUE);
    return new SpscRing(sab);
  }

  /** Attaches to a ring made by `create` (in this or another thread); resumes at its indices. */
  static attach(sab: SharedArrayBuffer): SpscRing {
    if (sab.byteLength < HEADER_BYTES + MIN_CAPACITY_BYTES) {
      throw new RingLayoutError(`buffer of ${sab.byteLength} bytes is too small to be a ring`);
    }
    const header = new Int32Array(sab, 0, HEADER_BYTES >> 2);
    if (Atomics.load(header, MAGIC) !== MAGIC_VALUE) throw new RingLayoutError("buffer is not a ring (bad magic)");
    const capacity = Atomics.load(header, CAPACITY);
    if (sab.byteLength !== HEADER_BYTES + capacity) {
      throw new RingLayoutError(`ring header says ${capacity} bytes but the buffer holds ${sab.byteLength - HEADER_BYTES}`);
    }
    return new SpscRing(sab);
  }

  // ── producer ────────────────────────────────────────────────────────────────────────────

  /** Writes and publishes one record; `false` when the ring is full (never blocks, counts nothing). */
  tryWrite(record: Uint8Array): boolean {
    if (!this.tryAppend(record)) return false;
    this.publish();
    return true;
  }

  /**
   * Writes one record without publishing it; `publish()` makes every appended record visible at
   * once. One index store per batch instead of per record is what lets small records go fast.
   */
  tryAppend(record: Uint8Array): boolean {
    const length = record.length;
    const slot = alignedSlotBytes(length);
    if (slot > this.capacity) throw new RecordTooLargeError(length, this.max_record_bytes);
    let pos = this.writePos;
    let offset = pos & this.mask;
    const tail = this.capacity - offset;
    const needed = slot <= tail ? slot : tail + slot;
    if (needed > this.capacity - ((pos - this.readSeen) >>> 0)) {
      this.readSeen = Atomics.load(this.header, READ_INDEX) >>> 0;
      const free = this.capacity - ((pos - this.readSeen) >>> 0);
      if (needed > free) {
        // A record that cannot fit behind this offset even in an empty ring would never be
        // written: skip the tail now (once it is free) so a retry can start at offset 0.
        if (tail + slot > this.capacity && slot > tail && tail <= free) {
          this.words[offset >> 2] = SKIP_MARKER;
          this.writePos = (pos + tail) >>> 0;
          this.publish();
        }
        return false;
      }
    }
    if (slot > tail) {
      this.words[offset >> 2] = SKIP_MARKER;
      pos = (pos + tail) >>> 0;
      offset = 0;
    }
    this.words[offset >> 2] = length;
    this.bytes.set(record, offset + LENGTH_BYTES);
    this.writePos = (pos + slot) >>> 0;
    return true;
  }

  /** Makes appended records visible to the consumer and wakes it if it sleeps. */
  publish(): void {
    const pos = this.writePos;
    Atomics.store(this.header, WRITE_INDEX, pos | 0);
    const staleDepth = (pos - this.readSeen) >>> 0;
    // The cached read index only makes the depth look larger, so refresh it before raising the mark.
    if (staleDepth > (this.header[HIGH_WATER] as number)) {
      this.readSeen = Atomics.load(this.header, READ_INDEX) >>> 0;
      const depth = (pos - this.readSeen) >>> 0;
      if (depth > Atomics.load(this.header, HIGH_WATER)) Atomics.store(this.header, HIGH_WATER, depth);
    }
    if (Atomics.load(this.header, CONSUMER_WAITING) !== 0) this.wake();
  }

  /** Counts `n` records the producer dropped because the ring was full. */
  recordDrop(n: number): void {
    Atomics.add(this.header64, DROPS_64, BigInt(n));
  }

  /** End marker: publishes what was appended and tells the consumer no more records come. */
  close(): void {
    this.finish(RING_CLOSED);
  }

  /** Error marker: like `close`, but the producer stopped because of an error. */
  fail(): void {
    this.finish(RING_FAILED);
  }

  /** Clears an end/error marker so a restarted producer can write again. */
  reopen(): void {
    Atomics.store(this.header, STATE, RING_OPEN);
  }

  private finish(state: RingState): void {
    this.publish();
    Atomics.store(this.header, STATE, state);
    this.wake();
  }

  private wake(): void {
    Atomics.add(this.header, WAKE, 1);
    Atomics.notify(this.header, WAKE);
  }

  // ── consumer ────────────────────────────────────────────────────────────────────────────

  /** Copies out and consumes the next record, or `null` when the ring is empty. */
  read(): Uint8Array | null {
    let out: Uint8Array | null = null;
    this.drain((data, start, end) => {
      out = data.slice(start, end);
    }, 1);
    return out;
  }

  /**
   * Visits up to `max_records` published records in order, then frees their space with one
   * READ_INDEX store. The view passed to `visit` is the shared memory itself and is valid only
   * during the call. If `visit` throws, none of this batch is consumed: a restarted consumer sees
   * the batch again (at-least-once), never loses it.
   */
  drain(visit: RecordVisitor, max_records = Number.POSITIVE_INFINITY): number {
    const count = this.peek(visit, max_records);
    this.commit();
    return count;
  }

  /**
   * Like `drain`, but keeps the records in the ring: the next `peek` continues after them, and
   * only `commit()` frees them. A consumer that hands records on asynchronously (JetStream,
   * ClickHouse) commits after the hand-off is durable, so dying in between loses nothing. The
   * peek position is thread-local: a restarted consumer starts again at READ_INDEX.
   */
  peek(visit: RecordVisitor, max_records = Number.POSITIVE_INFINITY): number {
    let pos = this.peekPos ?? Atomics.load(this.header, READ_INDEX) >>> 0;
    if (pos === this.writeSeen) {
      this.writeSeen = Atomics.load(this.header, WRITE_INDEX) >>> 0;
      if (pos === this.writeSeen) return 0;
    }
    const limit = this.writeSeen;
    const bytes = this.bytes;
    let count = 0;
    while (pos !== limit && count < max_records) {
      let offset = pos & this.mask;
      let length = this.words[offset >> 2] as number;
      if (length === SKIP_MARKER) {
        pos = (pos + this.capacity - offset) >>> 0;
        if (pos === limit) break;
        offset = 0;
        length = this.words[0] as number;
      }
      const start = offset + LENGTH_BYTES;
      visit(bytes, start, start + length);
      pos = (pos + alignedSlotBytes(length)) >>> 0;
      count++;
    }
    this.peekPos = pos;
    return count;
  }

  /** Frees every record visited by `peek` since the last commit. */
  commit(): void {
    if (this.peekPos === null) return;
    Atomics.store(this.header, READ_INDEX, this.peekPos | 0);
    this.peekPos = null;
  }

  /** Where the next `peek` starts: a mark for `commitTo` that covers everything peeked so far. */
  peekMark(): number {
    return this.peekPos ?? Atomics.load(this.header, READ_INDEX) >>> 0;
  }

  /**
   * Frees the records peeked before `mark` (an earlier `peekMark()`), keeping later peeked ones
   * held: a consumer with several hand-offs in flight frees each as it completes, in order.
   */
  commitTo(mark: number): void {
    Atomics.store(this.header, READ_INDEX, mark | 0);
    if (this.peekPos === mark >>> 0) this.peekPos = null;
  }

  /** True when a published record is waiting (cheap: no atomics unless the cache says empty). */
  hasData(): boolean {
    const pos = this.peekPos ?? Atomics.load(this.header, READ_INDEX) >>> 0;
    if (pos !== this.writeSeen) return true;
    this.writeSeen = Atomics.load(this.header, WRITE_INDEX) >>> 0;
    return pos !== this.writeSeen;
  }

  /**
   * Resolves `true` as soon as data is readable or the ring is closed/failed, `false` after
   * `timeout_ms` otherwise. Uses `Atomics.waitAsync`, so it is safe on threads that own sockets.
   * A call while an earlier wait is pending joins it (and its timeout): when a wait that ended
   * cleared the waiting flag under a newer one, the producer stopped notifying and the newer
   * wait slept through the data to its own timeout.
   */
  waitForData(timeout_ms: number): Promise<boolean> {
    if (this.hasData() || this.state !== RING_OPEN) return Promise.resolve(true);
    if (this.pendingWait !== null) return this.pendingWait;
    const seen = this.armWait();
    if (this.hasData() || this.state !== RING_OPEN) return Promise.resolve(this.disarmWait());
    const result = Atomics.waitAsync(this.header, WAKE, seen, timeout_ms);
    if (!result.async) return Promise.resolve(this.disarmWait() && (this.hasData() || this.state !== RING_OPEN));
    const pending = result.value.then(() => {
      this.pendingWait = null;
      return this.disarmWait() && (this.hasData() || this.state !== RING_OPEN);
    });
    this.pendingWait = pending;
    return pending;
  }

  /** Blocking variant of `waitForData` for threads that own no sockets (`Atomics.wait`). */
  waitForDataSync(timeout_ms: number): boolean {
    if (this.hasData() || this.state !== RING_OPEN) return true;
    const seen = this.armWait();
    if (!(this.hasData() || this.state !== RING_OPEN)) Atomics.wait(this.header, WAKE, seen, timeout_ms);
    this.disarmWait();
    return this.hasData() || this.state !== RING_OPEN;
  }

  private armWait(): number {
    const seen = Atomics.load(this.header, WAKE);
    Atomics.store(this.header, CONSUMER_WAITING, 1);
    return seen;
  }

  private disarmWait(): true {
    Atomics.store(this.header, CONSUMER_WAITING, 0);
    return true;
  }

  // ── any thread ──────────────────────────────────────────────────────────────────────────

  /** Bytes published and not yet consumed (including skipped tails). */
  get depth_bytes(): number {
    return (Atomics.load(this.header, WRITE_INDEX) - Atomics.load(this.header, READ_INDEX)) >>> 0;
  }

  get high_water_bytes(): number {
    return Atomics.load(this.header, HIGH_WATER) >>> 0;
  }

  get drops(): number {
    return Number(Atomics.load(this.header64, DROPS_64));
  }

  get state(): RingState {
    return Atomics.load(this.header, STATE) as RingState;
  }

  /** Closed or failed and fully drained: the consumer is done. */
  get finished(): boolean {
    return this.state !== RING_OPEN && this.depth_bytes === 0;
  }
}
