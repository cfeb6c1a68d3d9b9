/**
 * Shared-memory counters. One SharedArrayBuffer of BigInt64 slots, written by workers with
 * `Atomics.add`/`Atomics.store` and only read by the supervisor's HTTP handler. Each slot has
 * a name; every thread builds the same name list from the same config, so slot indices agree
 * without sending them across threads.
 *
 * Writers add per batch, not per record, where they can: one `Atomics.add` on a BigInt64
 * slot costs about as much as encoding a small record.
 */
export class Counters {
  readonly buffer: SharedArrayBuffer;
  private readonly slots: BigInt64Array;
  private readonly index: Map<string, number>;

  constructor(readonly names: readonly string[], buffer?: SharedArrayBuffer) {
    this.index = new Map(names.map((name, i) => [name, i]));
    if (this.index.size !== names.length) throw new Error("counter names must be unique");
    this.buffer = buffer ?? new SharedArrayBuffer(Math.max(1, names.length) * 8);
    if (this.buffer.byteLength < names.length * 8) throw new Error("counter buffer smaller than its layout");
    this.slots = new BigInt64Array(this.buffer);
  }

  /** The slot index of `name`; throws for a name outside the layout (a programming error). */
  slot(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`unknown counter '${name}'`);
    return i;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  add(slot: number, n: number): void {
    Atomics.add(this.slots, slot, BigInt(n));
  }

  set(slot: number, value: number): void {
    Atomics.store(this.slots, slot, BigInt(value));
  }

  /** Raises the slot to `value` if it is larger (high-water marks). */
  max(slot: number, value: number): void {
    const v = BigInt(value);
    let current = Atomics.load(this.slots, slot);
    while (v > current) {
      const seen = Atomics.compareExchange(this.slots, slot, current, v);
      if (seen === current) return;
      current = seen;
    }
  }

  /** Stores `value` and returns what the slot held (a reader that restarts a window). */
  exchange(slot: number, value: number): number {
    return Number(Atomics.exchange(this.slots, slot, BigInt(value)));
  }

  get(slot: number): number {
    return Number(Atomics.load(this.slots, slot));
  }

  read(name: string): number {
    return this.get(this.slot(name));
  }
}
