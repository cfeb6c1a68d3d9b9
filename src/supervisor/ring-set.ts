import type { Config } from "../config/schema.ts";
import { HIGH_VOLUME_TYPES, type RecordType } from "../records/types.ts";
import { SpscRing } from "../ring/spsc-ring.ts";
import type { RingLink } from "./messages.ts";
import type { RingPlan, TopologyPlan } from "./topology.ts";

/** One ring the supervisor owns: from an ingest worker to a lane of a batch worker thread. */
export interface OwnedRing {
  readonly from: string;
  readonly to: string;
  readonly type: RecordType;
  readonly ring: SpscRing;
}

/**
 * The rings of a topology plan, created by the supervisor so they outlive any worker: a
 * restarted worker attaches to the same SharedArrayBuffers (topology.ts draws the layout).
 *
 * A ring of trades, books or book changes gets `ring.capacity_bytes`, a ring of any other type
 * `ring.low_volume_capacity_bytes`: those types bring a few records a second, and a ring's pages
 * become resident as its writes wrap around it, so a ring sized for book traffic would hold
 * memory that only a burst of liquidations or gaps ever uses.
 */
export class RingSet {
  private readonly rings = new Map<string, OwnedRing>();

  constructor(
    private readonly plan: TopologyPlan,
    sizes: Config["ring"],
  ) {
    for (const r of plan.rings) {
      const capacity = HIGH_VOLUME_TYPES.has(r.type) ? sizes.capacity_bytes : sizes.low_volume_capacity_bytes;
      this.rings.set(ringKey(r), { from: r.from, to: r.to, type: r.type, ring: SpscRing.create(capacity) });
    }
  }

  all(): OwnedRing[] {
    return [...this.rings.values()];
  }

  /** The rings ingest worker `id` writes. */
  linksFrom(id: string): RingLink[] {
    return this.plan.rings.filter((r) => r.from === id).map((r) => this.link(r));
  }

  /** The rings lane `index` of `type` reads. */
  linksTo(type: RecordType, index: number): RingLink[] {
    return this.plan.rings.filter((r) => r.type === type && r.batch_index === index).map((r) => this.link(r));
  }

  private link(r: RingPlan): RingLink {
    const entry = this.rings.get(ringKey(r));
    if (entry === undefined) throw new Error(`no ring ${ringKey(r)}`);
    return { type: r.type, batch_index: r.batch_index, buffer: entry.ring.sab };
  }
}

function ringKey(r: RingPlan): string {
  return `${r.from}->${r.type}:${r.batch_index}`;
}
