import type { RecordType } from "../records/types.ts";
import type { Counters } from "../stats/counters.ts";
import { typeCounter, type TypeCounter } from "../stats/layout.ts";

const SLOTS = ["stored", "dead_lettered", "duplicate_deliveries", "insert_errors", "last_insert_ms", "last_insert_rows", "consumer_pending"] as const satisfies readonly TypeCounter[];
type Slot = (typeof SLOTS)[number];

/**
 * What a storage consumer counts, kept in the shared counters (src/stats/counters.ts) under its
 * record type: the one place `/stats`, `/metrics` and the consumer's own `stats()` read. The
 * storing workers of a type share the slots, so the figures are the type's.
 */
export class ConsumerCounts {
  private readonly slots: Record<Slot, number>;

  constructor(
    private readonly counters: Counters,
    type: RecordType,
  ) {
    this.slots = Object.fromEntries(SLOTS.map((name) => [name, counters.slot(typeCounter(type, name))])) as Record<Slot, number>;
  }

  inserted(rows: number, latency_ms: number): void {
    this.counters.add(this.slots.stored, rows);
    this.counters.set(this.slots.last_insert_ms, Math.round(latency_ms));
    this.counters.set(this.slots.last_insert_rows, rows);
  }

  insertFailed(): void {
    this.counters.add(this.slots.insert_errors, 1);
  }

  deadLettered(): void {
    this.counters.add(this.slots.dead_lettered, 1);
  }

  duplicate(): void {
    this.counters.add(this.slots.duplicate_deliveries, 1);
  }

  pending(messages: number): void {
    this.counters.set(this.slots.consumer_pending, messages);
  }

  read(name: Slot): number {
    return this.counters.get(this.slots[name]);
  }
}
