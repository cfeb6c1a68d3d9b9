import type { VenueKey } from "../config/schema.ts";
import type { FeedFrame, ReplayFeed } from "./feed.ts";
import type { SimSocket } from "./sim-connection.ts";
import type { SimFaults } from "./sim-faults.ts";

/**
 * Plays each replay feed to the connections subscribed to its frames: one cursor per feed (venue
 * keys given the same feed share it), looping through the recording, paced at `rate` frames/s or
 * as fast as the sockets drain. A feed advances only while it has connections, and pauses while
 * one of them holds too many unsent bytes (backpressure, not loss). A pump started held sends
 * nothing until `release`, so clients can connect and subscribe first and then receive every
 * frame of the first loop (a capture replayed whole).
 */

/** A socket holding more than this many unsent bytes pauses its feed. */
const MAX_BUFFERED_BYTES = 4 << 20;
/** Ms between pump passes while no client is connected. */
const IDLE_PUMP_MS = 50;
/** Frames per feed per tick at the maximum rate, so one tick never starves the event loop. */
const MAX_BURST = 2000;

/** A feed and its venue's test for the book updates that faults act on (SimVenue.isBookUpdate). */
export interface PumpFeed {
  readonly feed: ReplayFeed;
  isBookUpdate(frame: FeedFrame): boolean;
}

/** Where frames go: `send` applies faults that hold a venue and the connection's payload shape. */
export interface PumpOutput {
  /** Every connection open now. */
  readonly all: ReadonlySet<SimSocket>;
  readonly faults: SimFaults;
  readonly send: (ws: SimSocket, text: string) => void;
  /** Frames still to withhold per venue (`Simulator.skip`). */
  readonly skips: Record<VenueKey, number>;
}

class FeedCursor {
  loop = 0;
  index = 0;
  /** This loop's text per frame, rendered on first send (frames nobody subscribes to never are). */
  private readonly texts: (string | undefined)[];
  readonly conns = new Set<SimSocket>();
  /** Pacing origin for a fixed rate, reset when the feed resumes. */
  origin_ms = 0;
  emitted = 0;
  readonly feed: ReplayFeed;
  constructor(readonly source: PumpFeed) {
    this.feed = source.feed;
    this.texts = new Array<string | undefined>(source.feed.frames.length).fill(undefined);
  }
  text(index: number, frame: FeedFrame): string {
    let text = this.texts[index];
    if (text === undefined) {
      text = frame.template.render(this.feed.shifts(frame.symbol, this.loop));
      this.texts[index] = text;
    }
    return text;
  }
  nextLoop(): void {
    this.loop++;
    this.texts.fill(undefined);
  }
}

export class FeedPump {
  private readonly cursors: FeedCursor[] = [];
  private readonly cursorOf = new Map<VenueKey, FeedCursor>();
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    feeds: ReadonlyMap<VenueKey, PumpFeed>,
    private readonly rate: number,
    private readonly out: PumpOutput,
    private held = false,
  ) {
    const byFeed = new Map<ReplayFeed, FeedCursor>();
    for (const [venue, source] of feeds) {
      let cursor = byFeed.get(source.feed);
      if (cursor === undefined) {
        cursor = new FeedCursor(source);
        byFeed.set(source.feed, cursor);
        this.cursors.push(cursor);
      }
      this.cursorOf.set(venue, cursor);
    }
  }

  start(): void {
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Starts a held pump's feeds: each paces from now. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    const now = performance.now();
    for (const cursor of this.cursors) {
      cursor.origin_ms = now;
      cursor.emitted = 0;
    }
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.pump();
  }

  /** A connection opened (it is in `out.all` already): its venue's feed goes to it. */
  attach(ws: SimSocket): void {
    if (this.out.all.size === 1 && !this.stopped) {
      // The pump may be in its idle wait: start the stream now.
      clearTimeout(this.timer);
      this.pump();
    }
    const cursor = this.cursorOf.get(ws.data.venue);
    if (cursor && cursor.conns.size === 0) {
      cursor.origin_ms = performance.now();
      cursor.emitted = 0;
    }
    cursor?.conns.add(ws);
  }

  detach(ws: SimSocket): void {
    this.cursorOf.get(ws.data.venue)?.conns.delete(ws);
  }

  private pump(): void {
    if (this.stopped) return;
    let sentAny = false;
    for (const cursor of this.cursors) if (this.pumpFeed(cursor)) sentAny = true;
    // At the maximum rate, go again at once while frames flow; a pass that sent nothing (every
    // feed paced or held back by a full socket) waits a millisecond instead of spinning. With
    // no client connected the pass waits IDLE_PUMP_MS (polling every millisecond cost ~1.3 %
    // of a core per idle simulator); `attach` starts it at once when a client connects.
    const rate = this.rate;
    const delay = this.out.all.size === 0 ? IDLE_PUMP_MS : rate === 0 && sentAny ? 0 : rate === 0 ? 1 : 5;
    this.timer = setTimeout(() => this.pump(), delay);
  }

  /** Sends the feed's next burst; false when it sent nothing. */
  private pumpFeed(cursor: FeedCursor): boolean {
    if (this.held || cursor.conns.size === 0 || cursor.feed.frames.length === 0) return false;
    for (const ws of cursor.conns) if (ws.getBufferedAmount() > MAX_BUFFERED_BYTES) return false;
    let budget = MAX_BURST;
    if (this.rate > 0) {
      const due = Math.floor(((performance.now() - cursor.origin_ms) * this.rate) / 1000) - cursor.emitted;
      budget = Math.min(budget, due);
    }
    if (budget <= 0) return false;
    // One cork per connection per burst: the burst's frames leave in one write, not one each.
    const corked = [...cursor.conns];
    const burst = (i: number): void => {
      const ws = corked[i];
      if (ws === undefined) this.sendBurst(cursor, budget);
      else ws.cork(() => burst(i + 1));
    };
    burst(0);
    return true;
  }

  private sendBurst(cursor: FeedCursor, budget: number): void {
    const { faults, send, skips } = this.out;
    const frames = cursor.feed.frames;
    for (let n = 0; n < budget; ) {
      const index = cursor.index;
      const frame = frames[index];
      if (frame !== undefined) {
        let skipped: VenueKey | undefined;
        const bookFault = faults.any && cursor.source.isBookUpdate(frame);
        for (const ws of cursor.conns) {
          const c = ws.data;
          if (!c.subs.has(frame.key)) continue;
          if (frame.snapshot) c.pending.delete(frame.key);
          else if (c.pending.has(frame.key)) continue;
          if (skips[c.venue] > 0 || skipped === c.venue) {
            if (skipped !== c.venue) skips[c.venue]--;
            skipped = c.venue;
            continue;
          }
          const text = bookFault ? faults.bookUpdate(c.venue, frame, cursor.text(index, frame)) : cursor.text(index, frame);
          if (text !== undefined) send(ws, text);
        }
        cursor.feed.advance(index);
        if (frame.trade === true) cursor.feed.keepTrades?.(frame, cursor.text(index, frame));
        cursor.emitted++;
        n++;
      }
      cursor.index++;
      if (cursor.index >= frames.length) {
        cursor.index = 0;
        cursor.nextLoop();
      }
    }
  }
}
