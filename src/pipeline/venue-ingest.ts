import type { Logger } from "../log/logger.ts";
import type { MarketRecord } from "../records/types.ts";
import { CaptureWriter } from "../replay/capture.ts";
import type { Counters } from "../stats/counters.ts";
import { venueCounter } from "../stats/layout.ts";
import type { Config } from "../config/schema.ts";
import type { IngestShardInit } from "../supervisor/messages.ts";
import { splitConnectLimit } from "../venues/connection/connect-share.ts";
import type { EngineDownPolls } from "../venues/engine-down-polls.ts";
import { IngestRunner } from "../venues/ingest.ts";
import { getVenue } from "../venues/registry.ts";
import type { BookHealth, Instrument } from "../venues/types.ts";
import type { BookSyncReport } from "../venues/connection/sync-queue.ts";

/** How often frame counts and normalizer counts are copied into the shared counters, ms. */
const STATS_INTERVAL_MS = 250;

export interface VenueIngest {
  stop(): Promise<void>;
  bookHealth(): BookHealth[];
  /** Books waiting for the REST budget, and symbols failing on their own (IngestRunner.syncReport), given this shard's `bookHealth()`. */
  bookSync(books: readonly BookHealth[]): BookSyncReport;
  /** Unrecognized and malformed frames per channel since start. */
  badByChannel(): Record<string, number>;
  /** REST requests waiting for the venue's budget. */
  restQueue(): number;
  /** Instrument refresh: subscribe `add`, drop `remove` (native ids), leave the rest connected. */
  changeSymbols(add: readonly Instrument[], remove: readonly string[]): void;
}

/**
 * Runs one venue shard's IngestRunner inside an ingest thread and reports it through the shared
 * counters: frames in, last frame time, connection state, reconnects, the normalizer's
 * unrecognized/malformed counts and book resyncs (added as deltas, since several workers of
 * one venue share the venue's slots), and REST weight drawn and 429/418 answers.
 */
export async function startVenueIngest(
  shard: IngestShardInit,
  config: Config,
  record_dir: string | null,
  emit: (record: MarketRecord) => void,
  counters: Counters,
  log: Logger,
  engine_down: EngineDownPolls | null,
): Promise<VenueIngest> {
  const slot = (name: Parameters<typeof venueCounter>[1]) => counters.slot(venueCounter(shard.venue, name));
  const messagesIn = slot("messages_in");
  const lastMessage = slot("last_message_ms");
  const connected = slot("connected");
  const reconnects = slot("reconnects");
  const unrecognized = slot("unrecognized");
  const errors = slot("errors");
  const resyncs = slot("resyncs");
  const errorEvents = slot("error_events");
  const openConnections = slot("open_connections");
  const wsRequests = slot("ws_requests");
  const wsPeak = slot("ws_requests_peak_per_s");
  const wsIncidents = slot("ws_incidents");
  const backfillFailures = slot("trade_backfill_failures");
  const restWeight = slot("rest_weight");
  const rest429 = slot("rest_429");
  const rest418 = slot("rest_418");
  const normalizerExceptions = slot("normalizer_exceptions");
  const record = record_dir === null ? undefined : new CaptureWriter(record_dir, `${shard.venue}-${shard.index}`);
  const local = { frames: 0, last_ms: 0, connected: false, threw: 0 };
  // This shard's share of the venue family's connection-attempt limit.
  const limit = getVenue(shard.venue).connect_limit;
  const limiter = limit === undefined ? undefined : splitConnectLimit(limit, shard.connect_shares);
  const runner = new IngestRunner({
    venue: shard.venue,
    config: config.venues[shard.venue],
    symbols: shard.symbols,
    ...(shard.instruments === null ? {} : { instruments: shard.instruments }),
    orderbook: config.orderbook,
    emit,
    ...(record === undefined ? {} : { record }),
    ...(limiter === undefined ? {} : { connect_limiter: limiter }),
    ...(engine_down === null ? {} : { engine_down }),
    rest: {
      budget: shard.rest_budget,
      ...(shard.rest_scale === null ? {} : { scale: shard.rest_scale }),
      stats: {
        weight: (n) => counters.add(restWeight, n),
        limited: (status) => counters.add(status === 418 ? rest418 : rest429, 1),
      },
      // One line per incident over all of the venue's workers (the shared budget decides).
      onIncident: ({ status, wait_ms, url }) =>
        log.warn(
          { venue: shard.venue, status, wait_s: Math.ceil(wait_ms / 1000), url },
          status === 418
            ? "venue banned this IP (418): all REST to the venue stops until the ban ends, then the queue resumes, book snapshots first"
            : "venue REST rate limited (429): all REST to the venue waits out Retry-After, then the queue resumes, book snapshots first",
        ),
    },
    stats: {
      // Per frame only local arithmetic; the shared counters are written on the stats timer,
      // except the connected gauge, set by the first frame after a (re)connect so /health says
      // `connected` as soon as records can flow.
      messagesIn(n, last_message_ms) {
        local.frames += n;
        if (last_message_ms > local.last_ms) local.last_ms = last_message_ms;
        if (!local.connected) {
          counters.set(connected, 1);
          local.connected = true;
        }
      },
      reconnect() {
        counters.add(reconnects, 1);
        counters.set(connected, 0);
        local.connected = false;
      },
      error(channel, detail) {
        counters.add(errors, 1);
        log.warn({ channel, ...(detail === undefined ? {} : { detail }) }, "venue channel error");
      },
      backfillFailed(channel, detail) {
        counters.add(backfillFailures, 1);
        log.warn({ channel, detail }, "trade backfill stopped short; the gap keeps what it recovered");
      },
      incident(incident) {
        counters.add(wsIncidents, 1);
        log.warn({ venue: shard.venue, kind: incident.kind, url: incident.url, detail: incident.detail, next: incident.next }, "venue connection incident");
      },
      // Every error reply; the first of each incident also comes as `incident` (logged there).
      venueError() {
        counters.add(errorEvents, 1);
      },
      // Each throw is counted; one line per resync (at most one a minute) names the last error
      // and the frames dropped since the previous line.
      normalizerThrew(error, url, resynced) {
        counters.add(normalizerExceptions, 1);
        local.threw++;
        if (!resynced) return;
        log.error(
          { venue: shard.venue, url, err: error, dropped_frames: local.threw },
          "venue normalizer threw on a frame (a bug): the frame is dropped, the shard's books resync, the other venues in the thread are untouched",
        );
        local.threw = 0;
      },
    },
  });
  try {
    await runner.start();
  } catch (error) {
    // What the failed start opened (a capture file, REST timers) is closed before it is tried again.
    await runner.stop();
    throw error;
  }

  const flushFrames = (): void => {
    if (local.frames === 0) return;
    counters.add(messagesIn, local.frames);
    counters.max(lastMessage, local.last_ms);
    local.frames = 0;
  };
  const seen = { unrecognized: 0, errors: 0, resyncs: 0, open: 0, requests: 0 };
  // Several workers share the venue's slots: each adds the change of its own figures.
  const flushConnections = (): void => {
    const conn = runner.connection;
    const open = conn?.openConnections ?? 0;
    const requests = conn?.requests ?? 0;
    counters.add(openConnections, open - seen.open);
    counters.add(wsRequests, requests - seen.requests);
    counters.max(wsPeak, conn?.requestsPeakPerS ?? 0);
    seen.open = open;
    seen.requests = requests;
  };
  const timer = setInterval(() => {
    flushFrames();
    flushConnections();
    const stats = runner.normalizer?.stats;
    if (stats === undefined) return;
    const resyncTotal = (runner.normalizer?.bookHealth() ?? []).reduce((n, b) => n + b.resyncs, 0);
    counters.add(unrecognized, stats.unrecognized - seen.unrecognized);
    counters.add(errors, stats.errors - seen.errors);
    counters.add(resyncs, resyncTotal - seen.resyncs);
    if (stats.unrecognized > seen.unrecognized || stats.errors > seen.errors) {
      log.warn({ unrecognized: stats.unrecognized, errors: stats.errors, by_channel: stats.bad_by_channel }, "frames not normalized");
    }
    seen.unrecognized = stats.unrecognized;
    seen.errors = stats.errors;
    seen.resyncs = resyncTotal;
  }, STATS_INTERVAL_MS);

  return {
    async stop() {
      clearInterval(timer);
      await runner.stop();
      flushFrames();
      flushConnections();
      counters.set(connected, 0);
    },
    bookHealth: () => runner.normalizer?.bookHealth() ?? [],
    bookSync: (books) => runner.syncReport(books),
    badByChannel: () => ({ ...(runner.normalizer?.stats.bad_by_channel ?? {}) }),
    restQueue: () => runner.rest.queued,
    changeSymbols: (add, remove) => runner.changeSymbols(add, remove),
  };
}
