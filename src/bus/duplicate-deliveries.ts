import type { JsMsg } from "@nats-io/jetstream";
import type { ConsumerCounts } from "./consumer-counts.ts";
import { DeliveredSeqs } from "./delivered-seqs.ts";
import type { PendingBatch } from "./pending-batch.ts";

/** Acknowledged sequences remembered to recognise second deliveries, at least (x fetch_batch). */
const DELIVERED_MEMORY_BATCHES = 16;

/**
 * Second deliveries of messages this consumer, or another worker of its type in this process,
 * holds or stored (delivered-seqs.ts). Messages pulled ahead of an insert retried through an
 * outage outwait `ack_wait` and JetStream delivers them again; a killed nats-server delivers again
 * what it had not recorded as acknowledged. Each copy is acknowledged with its first delivery,
 * never inserted twice or dead-lettered, and counted in `duplicate_deliveries`.
 */
export class DuplicateDeliveries {
  readonly seqs: DeliveredSeqs;

  constructor(
    fetch_batch: number,
    shared: { readonly buffer: SharedArrayBuffer; readonly worker: number } | null,
    private readonly max_deliver: number,
    private readonly counts: ConsumerCounts,
  ) {
    this.seqs = new DeliveredSeqs(Math.max(10_000, DELIVERED_MEMORY_BATCHES * fetch_batch), shared);
  }

  /**
   * True when `m` is a copy and has been dealt with: acked when stored, batched without records
   * when held here (acked with the first), left alone when another live worker holds it (which
   * acknowledges it once stored; if that worker dies first, JetStream delivers it again after
   * ack_wait). On its last allowed delivery a message held elsewhere takes the usual way, since
   * JetStream delivers it no more.
   */
  handled(m: JsMsg, batch: PendingBatch<JsMsg>): boolean {
    if (this.seqs.wasAcked(m.seq)) {
      this.counts.duplicate();
      m.ack();
      return true;
    }
    if (this.seqs.isHeld(m.seq)) {
      this.counts.duplicate();
      batch.add(m, [], 0, Date.now());
      return true;
    }
    if (m.info.deliveryCount < this.max_deliver && this.seqs.heldElsewhere(m.seq)) {
      this.counts.duplicate();
      return true;
    }
    return false;
  }
}
