import type { VenueKey } from "../config/schema.ts";
import { stepAt } from "./generated-book.ts";
import type { SimSocket } from "./sim-connection.ts";

/**
 * The simulator's driver for the built-in generator: frames are rendered when they are due,
 * per instrument step, and only for streams some connection subscribed to. One timer per feed
 * (a venue family: Binance spot, Binance USDⓈ-M, OKX, Deribit) emits every frame due since
 * its last tick, inside one cork per connection so a tick's frames leave in one write each.
 *
 * - `rate: "live"`: step k of instrument i is due at GENERATED_T0_MS + k × 100 ms + its phase
 *   (phases spread the instruments over the 100 ms), and the feed's once-a-second channels
 *   (mark price, liquidations, open interest, funding, DVOL) come from the feed itself at
 *   their venue cadence. A tick that finds a connection over MAX_BUFFERED_BYTES waits; the
 *   steps it held back follow in later ticks, at most MAX_CATCHUP_STEPS per instrument a tick,
 *   so a stream's chain never breaks.
 * - a number R: R instrument steps a second per feed (0 = as fast as the sockets drain), round
 *   robin over the instruments, while the feed has connections; event times are the steps'
 *   own, so they run ahead of or behind the wall clock as the rate says. Steps start at the
 *   step of the simulator's start time, so ids still move forward from run to run.
 */

/** A stream a generated instrument emits; also what sim-faults.ts sees of a frame. */
export interface LiveStream {
  /** Subscription key: a lower-case Binance stream, `channel:instId` on OKX, a Deribit channel. */
  readonly key: string;
  /** Venue-native symbol. */
  readonly symbol: string;
  readonly snapshot: boolean;
  /** OKX books: the snapshot push of step k, sent instead of the update to a connection waiting for one. */
  readonly snapshotText?: (k: number) => string;
}

/** Where a feed writes its frames. */
export interface FrameSink {
  /** Whether any connection subscribed to `stream` (if not, the feed skips rendering it). */
  wants(stream: LiveStream): boolean;
  /** Sends `text` (frame of step `k`, 0 for frames without a step) to every subscriber of `stream`. */
  emit(stream: LiveStream, text: string, k: number): void;
}

/** One venue family's generated instruments. */
export interface GeneratedFeed {
  /** Venue keys whose connections receive its frames. */
  readonly venues: readonly VenueKey[];
  /** Instruments that step. */
  readonly size: number;
  /** Per instrument: ms of its steps within the 100 ms. */
  readonly phases: Float64Array;
  /** Per instrument: the last step the stream passed (REST snapshots answer with this step's book). */
  readonly passed: Float64Array;
  /** Emits instrument `i`'s step `k` (book update and trades) to the streams that want it. */
  step(i: number, k: number, sink: FrameSink): void;
  /** Live rate: the pushes due in the second starting at `second_ms` (mark price, liquidations, ...). */
  second(second_ms: number, sink: FrameSink): void;
}

/** The pacing the generated feeds run at. */
export type GeneratedRate = number | "live";

/** What the driver asks of the simulator's faults (sim-faults.ts SimFaults). */
export interface LiveFaults {
  /** Whether any fault is set: the hot path's check. */
  readonly any: boolean;
  /** A book update's text under faults: undefined when dropped, else as sent (sim-faults.ts). */
  bookUpdate(venue: VenueKey, frame: Pick<LiveStream, "key" | "symbol" | "snapshot">, text: string): string | undefined;
}

/** What the simulator lends the driver. */
export interface LiveHost {
  readonly all: ReadonlySet<SimSocket>;
  /** Sends a data frame as the simulator does (silence faults, raw payloads, counters). */
  readonly send: (ws: SimSocket, text: string) => void;
  readonly faults: LiveFaults;
  /** Whether `frame` is one of `venue`'s book updates, which faults act on (SimVenue.isBookUpdate). */
  readonly isBookUpdate: (venue: VenueKey, frame: Pick<LiveStream, "key" | "snapshot">) => boolean;
  /** Frames still to skip per venue (`Simulator.skip`). */
  readonly skips: Record<VenueKey, number>;
}

/** A socket holding more than this many unsent bytes pauses its feed (backpressure, not loss). */
const MAX_BUFFERED_BYTES = 4 << 20;
/** Ms between ticks of a live feed: 20 ms late at most, 50 wake-ups a second per feed. */
const LIVE_TICK_MS = 20;
/** Steps one instrument may catch up in one tick after a pause. */
const MAX_CATCHUP_STEPS = 20;
/** Steps per feed per tick at a numeric rate, so one tick never starves the event loop. */
const MAX_BURST = 2000;
/** Ms between ticks at a fixed numeric rate. */
const PACED_TICK_MS = 5;

class FeedState {
  conns: SimSocket[] = [];
  /** Subscription key -> this feed's connections subscribed to it (spot and USDⓈ-M share key names). */
  readonly router = new Map<string, SimSocket[]>();
  timer: ReturnType<typeof setTimeout> | undefined;
  origin_ms = 0;
  emitted = 0;
  next = 0;
  second = 0;
  constructor(readonly feed: GeneratedFeed) {}
}

export class LiveDriver implements FrameSink {
  private readonly states: FeedState[];
  /** The feed whose tick is running: `wants` and `emit` route through its connections. */
  private active: FeedState | undefined;
  private dirty = true;
  private stopped = false;

  constructor(
    private readonly host: LiveHost,
    feeds: readonly GeneratedFeed[],
    private readonly rate: GeneratedRate,
    start_ms: number,
  ) {
    this.states = feeds.map((f) => new FeedState(f));
    for (const f of feeds) {
      const now = rate === "live" ? Date.now() : start_ms;
      for (let i = 0; i < f.size; i++) f.passed[i] = stepAt(now, f.phases[i] ?? 0);
    }
  }

  /** Connections or subscriptions changed: the router is rebuilt before the next tick. */
  changed(): void {
    this.dirty = true;
  }

  start(): void {
    for (const s of this.states) this.schedule(s, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states) clearTimeout(s.timer);
  }

  wants(stream: LiveStream): boolean {
    return this.active?.router.has(stream.key) === true;
  }

  emit(stream: LiveStream, text: string, k: number): void {
    const conns = this.active?.router.get(stream.key);
    if (conns === undefined) return;
    const { faults, skips } = this.host;
    // A per-frame identity only under faults: sequence_gap drops one update per symbol a second.
    const frame = faults.any ? { key: stream.key, symbol: stream.symbol, snapshot: stream.snapshot } : undefined;
    let skipped: VenueKey | undefined;
    for (const ws of conns) {
      const c = ws.data;
      if (stream.snapshotText !== undefined && c.pending.has(stream.key)) {
        c.pending.delete(stream.key);
        this.host.send(ws, stream.snapshotText(k));
        continue;
      }
      if (skips[c.venue] > 0 || skipped === c.venue) {
        if (skipped !== c.venue) skips[c.venue]--;
        skipped = c.venue;
        continue;
      }
      const out = frame !== undefined && this.host.isBookUpdate(c.venue, frame) ? faults.bookUpdate(c.venue, frame, text) : text;
      if (out !== undefined) this.host.send(ws, out);
    }
  }

  private schedule(s: FeedState, delay_ms: number): void {
    if (this.stopped) return;
    s.timer = setTimeout(() => this.tick(s), delay_ms);
  }

  private rebuild(): void {
    this.dirty = false;
    const had = this.states.map((s) => s.conns.length > 0);
    for (const s of this.states) {
      s.conns = [];
      s.router.clear();
    }
    for (const ws of this.host.all) {
      for (const s of this.states) {
        if (!s.feed.venues.includes(ws.data.venue)) continue;
        s.conns.push(ws);
        for (const key of ws.data.subs) {
          const list = s.router.get(key);
          if (list === undefined) s.router.set(key, [ws]);
          else list.push(ws);
        }
      }
    }
    // A paced feed that gets its first connection starts its pacing now.
    this.states.forEach((s, i) => {
      if (had[i] === true || s.conns.length === 0) return;
      s.origin_ms = performance.now();
      s.emitted = 0;
    });
  }

  private tick(s: FeedState): void {
    if (this.dirty) this.rebuild();
    if (s.conns.length === 0) {
      // Live time passes without listeners too: REST snapshots answer the current step, and a
      // first subscriber starts there rather than with a backlog.
      if (this.rate === "live") this.skipTo(s.feed, Date.now());
      this.schedule(s, this.rate === "live" ? LIVE_TICK_MS : 50);
      return;
    }
    let full = false;
    for (const ws of s.conns) if (ws.getBufferedAmount() > MAX_BUFFERED_BYTES) full = true;
    let sent = false;
    if (!full) {
      this.active = s;
      const run = this.rate === "live" ? () => this.live(s) : () => (sent = this.paced(s));
      this.corked(s.conns, 0, run);
      this.active = undefined;
    }
    const delay = this.rate === "live" ? LIVE_TICK_MS : this.rate === 0 ? (sent ? 0 : 1) : PACED_TICK_MS;
    this.schedule(s, delay);
  }

  /** Runs `fn` with every connection from `from` on corked (one write per connection). */
  private corked(conns: readonly SimSocket[], from: number, fn: () => void): void {
    const ws = conns[from];
    if (ws === undefined) fn();
    else ws.cork(() => this.corked(conns, from + 1, fn));
  }

  private live(s: FeedState): void {
    const f = s.feed;
    const now = Date.now();
    for (let i = 0; i < f.size; i++) {
      const due = stepAt(now, f.phases[i] ?? 0);
      const passed = f.passed[i] ?? due;
      if (due <= passed) continue;
      const last = Math.min(due, passed + MAX_CATCHUP_STEPS);
      for (let k = passed + 1; k <= last; k++) f.step(i, k, this);
      f.passed[i] = last;
    }
    const second = Math.floor(now / 1000);
    if (second !== s.second) {
      s.second = second;
      f.second(second * 1000, this);
    }
  }

  private skipTo(f: GeneratedFeed, now_ms: number): void {
    for (let i = 0; i < f.size; i++) f.passed[i] = stepAt(now_ms, f.phases[i] ?? 0);
  }

  /** One burst at a numeric rate; false when nothing was due. */
  private paced(s: FeedState): boolean {
    const f = s.feed;
    if (f.size === 0) return false;
    let budget = MAX_BURST;
    if (this.rate !== "live" && this.rate > 0) {
      const due = Math.floor(((performance.now() - s.origin_ms) * this.rate) / 1000) - s.emitted;
      budget = Math.min(budget, due);
    }
    if (budget <= 0) return false;
    for (let n = 0; n < budget; n++) {
      const i = s.next;
      const k = (f.passed[i] ?? 0) + 1;
      f.step(i, k, this);
      f.passed[i] = k;
      s.next = i + 1 === f.size ? 0 : i + 1;
    }
    s.emitted += budget;
    return true;
  }
}
