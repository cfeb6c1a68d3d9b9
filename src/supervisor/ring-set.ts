import type { RecordType } from "../records/types.ts";
import { SpscRing } from "../ring/spsc-ring.ts";
import type { RingLink } from "./messages.ts";
import type { TopologyPlan } from "./topology.ts";

/** One ring the supervisor owns: from an ingest worker to a batch worker. */
export interface OwnedRing {
  readonly from: string;
  readonly to: string;
  readonly ring: SpscRing;
}

/**
 * The rings of a topology plan, created by the supervisor so they outlive any worker: a
 * restarted worker attaches to the same SharedArrayBuffers (topology.ts draws the layout).
 */
export class RingSet {
  private readonly rings = new Map<string, OwnedRing>();

  constructor(
    private readonly plan: TopologyPlan,
    capacity_bytes: number,
  ) {
    for (const r of plan.rings) {
      const to = `batch:${r.type}:${r.batch_index}`;
      this.rings.set(`${r.from}->${to}`, { from: r.from, to, ring: SpscRing.create(capacity_bytes) });
    }
  }

  all(): OwnedRing[] {
    return [...this.rings.values()];
  }

  /** The rings ingest worker `id` writes. */
  linksFrom(id: string): RingLink[] {
    return this.plan.rings
      .filter((r) => r.from === id)
      .map((r) => ({ type: r.type, batch_index: r.batch_index, buffer: this.ringFor(r.from, `batch:${r.type}:${r.batch_index}`) }));
  }

  /** The rings batch worker `id` (the `index`th of `type`) reads. */
  linksTo(id: string, type: RecordType, index: number): RingLink[] {
    return this.plan.rings
      .filter((r) => r.type === type && r.batch_index === index)
      .map((r) => ({ type, batch_index: index, buffer: this.ringFor(r.from, id) }));
  }

  private ringFor(from: string, to: string): SharedArrayBuffer {
    const entry = this.rings.get(`${from}->${to}`);
    if (entry === undefined) throw new Error(`no ring ${from}->${to}`);
    return entry.ring.sab;
  }
}
