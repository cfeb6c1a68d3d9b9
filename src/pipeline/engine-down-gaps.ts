import type { GapRecord, MarketRecord } from "../records/types.ts";
import type { EngineDownGap, EngineDownPlan } from "../supervisor/messages.ts";
import { kindKey, type EngineDownPolls } from "../venues/engine-down-polls.ts";

/** How often claims taken by other workers are dropped from what this worker watches, ms. */
const PRUNE_MS = 1000;

/**
 * The ingest side of `engine_down` gaps (src/supervisor/engine-down.ts): each gap ends at the
 * first record of its kind after the restart and is written just before that record. A kind
 * no record has come for by the plan's deadline, or by this worker's stop, ends at the wall
 * clock then. Every ingest worker holds the same plan; a compare-and-swap on the kind's claim
 * slot decides which one writes it, so it is written once.
 *
 * Polled kinds (open interest, long/short ratios) get their buckets inside the gap back from the
 * venue's history (src/venues/engine-down-polls.ts): the ingest runner reads each gap's start
 * and, once its buckets are filled, writes the gap this worker wrote again with their count.
 *
 * While any kind is watched, each record costs a key string and a map lookup; kinds claimed
 * elsewhere are dropped once a second, and the watch ends when none is left.
 */
export class EngineDownGaps implements EngineDownPolls {
  private readonly watched = new Map<string, number>();
  /** Each gap's index in the plan, by kind key. */
  private readonly index = new Map<string, number>();
  /** The gaps this worker wrote, by kind key. */
  private readonly wrote = new Map<string, GapRecord>();
  private readonly claims: Int32Array;
  private readonly timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    private readonly plan: EngineDownPlan,
    private readonly emit: (record: GapRecord) => void,
  ) {
    this.claims = new Int32Array(plan.claims);
    plan.gaps.forEach((g, i) => {
      const key = kindKey(g.data_type, g.exchange, g.market_type, g.symbol);
      this.index.set(key, i);
      if (Atomics.load(this.claims, i) === 0) this.watched.set(key, i);
    });
  }

  /** Whether records still need `seen`. */
  get watching(): boolean {
    return this.watched.size > 0;
  }

  /** Arms the deadline and the pruning of kinds other workers claimed. */
  start(): void {
    if (!this.watching) return;
    this.timers.push(setTimeout(() => this.closeAll(Date.now()), Math.max(0, this.plan.deadline_at_ms - Date.now())));
    const prune = setInterval(() => {
      for (const [key, i] of this.watched) if (Atomics.load(this.claims, i) !== 0) this.watched.delete(key);
      if (!this.watching) this.stop();
    }, PRUNE_MS);
    this.timers.push(prune);
  }

  startOf(key: string): number | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.plan.gaps[i]?.start_ts_ms;
  }

  written(key: string): GapRecord | undefined {
    return this.wrote.get(key);
  }

  /** Call before routing `record`: the first record of a watched kind ends its gap. */
  seen(record: MarketRecord): void {
    if (record.data_type === "gap") return;
    const key = kindKey(record.data_type, record.exchange, record.market_type, record.symbol);
    const i = this.watched.get(key);
    if (i === undefined) return;
    this.watched.delete(key);
    // A source whose clock went back (a replay started over) gets a gap of zero length: the
    // engine was down, but no time on that clock is missing.
    this.claim(i, (g) => Math.max(g.start_ts_ms, record.ts_ms));
  }

  /** Deadline or stop: every gap not written yet ends at `now_ms`. */
  closeAll(now_ms: number): void {
    for (let i = 0; i < this.plan.gaps.length; i++) this.claim(i, (g) => Math.max(g.start_ts_ms, now_ms));
    this.watched.clear();
    this.stop();
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
  }

  private claim(i: number, end: (g: EngineDownGap) => number): void {
    const g = this.plan.gaps[i];
    if (g === undefined || Atomics.compareExchange(this.claims, i, 0, 1) !== 0) return;
    const end_ts_ms = end(g);
    const gap: GapRecord = {
      data_type: "gap",
      exchange: g.exchange,
      market_type: g.market_type,
      symbol: g.symbol,
      ts_ms: end_ts_ms,
      recv_ts_ms: Date.now(),
      data_type_affected: g.data_type,
      start_ts_ms: g.start_ts_ms,
      end_ts_ms,
      cause: "engine_down",
      recovered_records: 0,
      recovered_at_ms: 0,
    };
    this.wrote.set(kindKey(g.data_type, g.exchange, g.market_type, g.symbol), gap);
    this.emit(gap);
  }
}
