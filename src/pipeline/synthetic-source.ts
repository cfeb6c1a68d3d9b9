import type { TradeRecord } from "../records/types.ts";
import type { SyntheticSpec } from "../supervisor/messages.ts";

/**
 * A sequenced trade generator standing in for venue connections (engine tests and load runs):
 * record i has trade_id = String(i), so a consumer can check every sequence number arrived
 * exactly once. Trades are spread over a few symbols so routing by symbol hash is exercised.
 */
export class SyntheticSource {
  static readonly SYMBOLS = ["SYN-USDT", "SYN-BTC", "SYN-ETH", "SYN-EUR"] as const;
  /** Records produced per tick before yielding to the event loop. */
  private static readonly CHUNK = 2048;
  private next = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Today, 00:00 UTC: recent enough for the hot tables' 3-day TTL, fixed within a day. */
  static baseMs(now_ms = Date.now()): number {
    return Math.floor(now_ms / 86_400_000) * 86_400_000;
  }
  private readonly base_ms = SyntheticSource.baseMs();

  constructor(
    private readonly spec: SyntheticSpec,
    /** Offset of this worker's sequence numbers, so several workers do not collide. */
    private readonly first_id: number,
    private readonly emit: (record: TradeRecord) => void,
    private readonly flush: () => number,
  ) {}

  /** Starts producing; `flush` returns the backlog, and a backlog pauses production instead of dropping. */
  start(): void {
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    // Back-pressure: while records wait outside a full ring, produce nothing new.
    if (this.flush() > 0) {
      this.timer = setTimeout(() => this.tick(), 1);
      return;
    }
    const started = performance.now();
    const budget = this.spec.rate === 0 ? SyntheticSource.CHUNK : Math.max(1, Math.round(this.spec.rate / 100));
    let produced = 0;
    while (produced < budget && this.next < this.spec.records) {
      this.emit(this.record(this.next));
      this.next++;
      produced++;
    }
    this.flush();
    if (this.next >= this.spec.records) return;
    const delay = this.spec.rate === 0 ? 0 : Math.max(0, 10 - (performance.now() - started));
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private record(i: number): TradeRecord {
    const id = this.first_id + i;
    const ts = this.base_ms + id;
    return {
      data_type: "trade",
      exchange: "binance",
      market_type: "spot",
      symbol: SyntheticSource.SYMBOLS[id % SyntheticSource.SYMBOLS.length] as string,
      ts_ms: ts,
      // The wall clock, as a venue record's receive time is: engine_down gaps count only the
      // kinds whose last kept record was received during the run that crashed.
      recv_ts_ms: Date.now(),
      trade_id: String(id),
      price: `${100 + (id % 1000)}.${String(id % 100).padStart(2, "0")}`,
      quantity: "0.001",
      side: id % 2 === 0 ? "buy" : "sell",
      is_maker: id % 2 === 1,
      trade_time: ts,
    };
  }

  get produced(): number {
    return this.next;
  }

  get done(): boolean {
    return this.next >= this.spec.records;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }
}
