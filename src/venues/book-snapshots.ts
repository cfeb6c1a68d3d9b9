import type { RestClient } from "./connection/rest-client.ts";

/** Shortest interval between two depth snapshot requests for one symbol, ms. */
const SNAPSHOT_MIN_INTERVAL_MS = 1000;

export interface BookSnapshotsOptions {
  readonly rest: RestClient;
  /** The full URL of one symbol's depth snapshot. */
  readonly url: (native: string) => string;
  /** Whether the symbol's book is still kept; a snapshot of one that is not is never asked for. */
  readonly wanted: (native: string) => boolean;
  /** A snapshot body, for the normalizer. */
  readonly onBody: (url: string, body: string, recv_ts_ms: number) => void;
  /** A failed request; the snapshot is asked for again a second later. */
  readonly onError: (detail: string) => void;
}

/**
 * REST depth snapshots for the books of a venue that syncs them from REST (the venue's
 * `ingest.snapshotPath`), on the normalizer's request: one request in flight per symbol. A reply
 * that does not sync the book (unreadable, or a chain that breaks again at once) asks for the
 * next snapshot on the next frame: at most one request per symbol a second, so a bad reply never
 * turns into a request loop against the venue's rate limits.
 */
export class BookSnapshots {
  private readonly inFlight = new Set<string>();
  /** When each symbol's last snapshot was asked for (Date.now() ms). */
  private readonly lastAsk = new Map<string, number>();
  private stopped = false;

  constructor(private readonly options: BookSnapshotsOptions) {}

  async request(native: string): Promise<void> {
    if (this.inFlight.has(native) || !this.options.wanted(native)) return;
    this.inFlight.add(native);
    const wait_ms = (this.lastAsk.get(native) ?? Number.NEGATIVE_INFINITY) + SNAPSHOT_MIN_INTERVAL_MS - Date.now();
    if (wait_ms > 0) await Bun.sleep(wait_ms);
    if (this.stopped) return;
    this.lastAsk.set(native, Date.now());
    const url = this.options.url(native);
    const result = await this.options.rest.get(url, "snapshot");
    this.inFlight.delete(native);
    if (this.stopped) return;
    if (!result.ok) {
      this.options.onError(`${result.status} ${result.error}`);
      // Ask again: the normalizer still needs the snapshot.
      setTimeout(() => !this.stopped && void this.request(native), SNAPSHOT_MIN_INTERVAL_MS);
      return;
    }
    this.options.onBody(url, result.body, result.recv_ts_ms);
  }

  /** Forgets a symbol no longer kept (its last ask time). */
  forget(native: string): void {
    this.lastAsk.delete(native);
  }

  /** Requests not answered yet deliver nothing. */
  stop(): void {
    this.stopped = true;
  }
}
