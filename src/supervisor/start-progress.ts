import type { StatsSnapshot } from "../http/stats-types.ts";

/**
 * What the engine is waiting for after it started, logged until every collecting venue is
 * connected and every book is live: "waiting for binance_spot (books 120/500 live), okx_spot
 * (connecting)". A line is logged when that changes, at most once per interval, and one
 * "collecting" line ends it. A storer (no venues) has nothing to wait for and logs nothing.
 */

export interface StartProgressLine {
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** The line for one stats snapshot, and whether start-up is complete. */
export function startProgress(s: StatsSnapshot): { readonly line: StartProgressLine | null; readonly done: boolean } {
  const venues = Object.entries(s.venues).filter(([, v]) => v.enabled);
  if (venues.length === 0) return { line: null, done: true };
  const waiting: string[] = [];
  let live = 0;
  let total = 0;
  for (const [name, v] of venues) {
    live += v.book_sync.live;
    total += v.book_sync.total;
    if (v.state !== "connected") waiting.push(`${name} (connecting)`);
    else if (v.book_sync.live < v.book_sync.total) waiting.push(`${name} (books ${v.book_sync.live}/${v.book_sync.total} live${v.book_sync.waiting > 0 ? `, ${v.book_sync.waiting} waiting for REST weight, ETA ${v.book_sync.eta_s} s` : ""})`);
  }
  const connected = venues.filter(([, v]) => v.state === "connected").length;
  const fields = { venues_connected: connected, venues: venues.length, books_live: live, books: total };
  if (waiting.length === 0) return { line: { message: `collecting: ${venues.length} venue${venues.length === 1 ? "" : "s"} connected, ${total} books live`, fields }, done: true };
  return { line: { message: `starting: waiting for ${waiting.join(", ")}`, fields }, done: false };
}

export class StartProgress {
  private timer: ReturnType<typeof setInterval> | undefined;
  private last = "";

  constructor(
    private readonly read: () => StatsSnapshot,
    private readonly report: (line: StartProgressLine) => void,
    private readonly done: () => void = () => {},
    private readonly interval_ms = 5_000,
  ) {}

  start(): void {
    if (this.tick()) return this.done();
    this.timer = setInterval(() => {
      if (!this.tick()) return;
      this.stop();
      this.done();
    }, this.interval_ms);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reports the current line when it changed; true once start-up is complete. */
  private tick(): boolean {
    const { line, done } = startProgress(this.read());
    if (line !== null && line.message !== this.last) {
      this.last = line.message;
      this.report(line);
    }
    return done;
  }
}
