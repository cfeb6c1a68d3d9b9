import { Counter, Gauge, Registry } from "prom-client";
import type { LatencySeries } from "../stats/latency.ts";
import { ReadHistogram } from "./read-histogram.ts";
import type { StatsSnapshot } from "./stats-types.ts";

/**
 * `GET /metrics`: the /stats snapshot as Prometheus text (prom-client renders HELP/TYPE and
 * escaping). Metric objects are built once; a scrape only sets values. Each metric name has
 * one fixed set of label names.
 */
export class MetricsExporter {
  private readonly registry = new Registry();
  private readonly counters: Counter[] = [];
  private readonly gauges: Gauge[] = [];

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    const c = new Counter<L>({ name, help, labelNames, registers: [this.registry] });
    this.counters.push(c as unknown as Counter);
    return c;
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    const g = new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
    this.gauges.push(g as unknown as Gauge);
    return g;
  }

  private readonly uptime = this.gauge("spectra_uptime_seconds", "Seconds since the engine started.", []);
  private readonly venueMessages = this.counter("spectra_venue_messages_total", "Frames received per venue.", ["venue"]);
  private readonly venueReconnects = this.counter("spectra_venue_reconnects_total", "Reconnects per venue.", ["venue"]);
  private readonly venueUnrecognized = this.counter("spectra_venue_unrecognized_total", "Frames not recognized per venue.", ["venue"]);
  private readonly venueErrors = this.counter("spectra_venue_errors_total", "Malformed frames per venue.", ["venue"]);
  private readonly venueResyncs = this.counter("spectra_venue_resyncs_total", "Order-book resyncs per venue.", ["venue"]);
  private readonly venueErrorEvents = this.counter("spectra_venue_error_events_total", "Error events the venue sent and venue limits the engine ran into.", ["venue"]);
  private readonly venueBad = this.counter("spectra_venue_bad_frames_total", "Unrecognized or malformed frames per venue and channel.", ["venue", "channel"]);
  private readonly venueConnected = this.gauge("spectra_venue_connected", "1 while the venue has an open connection.", ["venue"]);
  private readonly venueOpen = this.gauge("spectra_venue_open_connections", "WebSocket connections open per venue.", ["venue"]);
  private readonly venueRequests = this.counter("spectra_venue_ws_requests_total", "Requests sent over WebSocket connections per venue (Binance SUBSCRIBE).", ["venue"]);
  private readonly venueRequestPeak = this.gauge("spectra_venue_ws_requests_peak_per_second", "Most requests one connection of the venue sent within one second.", ["venue"]);
  private readonly venueIncidents = this.counter("spectra_venue_ws_incidents_total", "1008 closes, shutdown notices, silences and refused requests (the first error reply of an incident) on the venue's connections.", ["venue"]);
  private readonly venueBackfillFailures = this.counter("spectra_trade_backfill_failures_total", "Trade backfills after a gap that stopped short (refused, stuck, past the page bound) per venue.", ["venue"]);
  private readonly venueNormalizerExceptions = this.counter("spectra_venue_normalizer_exceptions_total", "Frames the venue's normalizer threw on (a bug in its code): each dropped and logged, the books resynced.", ["venue"]);
  private readonly venueStartFailures = this.counter("spectra_venue_start_failures_total", "Failed starts of the venue's ingest shards (each tried again with backoff; /health names the last error).", ["venue"]);
  private readonly venueRestWeight = this.counter("spectra_venue_rest_weight_total", "REST weight drawn from the venue's budget (venue units).", ["venue"]);
  private readonly venueRestQueue = this.gauge("spectra_venue_rest_queue", "REST requests waiting for the venue's budget.", ["venue"]);
  private readonly venueRestLimited = this.counter("spectra_venue_rest_rate_limited_total", "REST answers 429 (too many requests) and 418 (IP banned) per venue.", ["venue", "status"]);
  private readonly venuePollOverload = this.gauge("spectra_venue_poll_overload_ratio", "Weight the venue's bucket polls ask of a limit per poll period over what the REST budget sustains; only limits asked past 1 have a series.", ["venue", "limit"]);
  private readonly venueRestBlocked = this.gauge("spectra_venue_rest_blocked_seconds", "Seconds until REST to the venue may go on after a 429 or 418 (0 = not blocked).", ["venue"]);
  private readonly venueBooks = this.gauge("spectra_venue_books", "Order books per venue by sync state: live, syncing, waiting (for the REST weight budget).", ["venue", "state"]);
  private readonly venueSyncEta = this.gauge("spectra_venue_book_sync_eta_seconds", "Seconds until the last book waiting for the venue's REST budget can fetch its snapshot.", ["venue"]);
  private readonly venueBookFailures = this.gauge("spectra_venue_failing_symbols", "Symbols failing on their own (book snapshot refused, unbridged or in a resync loop; stream silent; subscription refused).", ["venue"]);
  private readonly venueSymbols = this.gauge("spectra_venue_symbols", "Symbols the venue's ingest workers collect (resolved from the config and the venue's metadata).", ["venue"]);
  private readonly venueSymbolChanges = this.counter("spectra_venue_symbol_changes_total", "Listings subscribed (added) and delistings dropped (removed) by instrument refreshes.", ["venue", "change"]);
  private readonly venueRefreshes = this.counter("spectra_venue_instrument_refreshes_total", "Instrument metadata reads per venue, by result.", ["venue", "result"]);
  private readonly venueRefreshAge = this.gauge("spectra_venue_instrument_refresh_age_seconds", "Seconds since the venue's last successful instrument metadata read (-1 before the first).", ["venue"]);
  private readonly venueAge = this.gauge("spectra_venue_last_message_age_seconds", "Seconds since the venue's last frame (-1 before the first).", ["venue"]);
  private readonly typeTotals = {
    ingested: this.counter("spectra_records_ingested_total", "Records written to rings by ingest workers.", ["data_type"]),
    published: this.counter("spectra_records_published_total", "Records acknowledged by JetStream.", ["data_type"]),
    stored: this.counter("spectra_records_stored_total", "Records committed to ClickHouse.", ["data_type"]),
    dropped: this.counter("spectra_records_dropped_total", "Records dropped on full rings, or lost with a restarted ingest thread that held them.", ["data_type"]),
    dead_lettered: this.counter("spectra_records_dead_lettered_total", "Records or messages kept in the dead-letter stream (without NATS: refused records, logged and dropped).", ["data_type"]),
    duplicate_deliveries: this.counter("spectra_duplicate_deliveries_total", "Second JetStream deliveries of messages already held or stored, acknowledged without storing them again.", ["data_type"]),
    duplicate_publishes: this.counter("spectra_duplicate_publishes_total", "Records the stream dropped on their first publish as copies of records it already held (same Nats-Msg-Id within its duplicate window).", ["data_type"]),
    publish_errors: this.counter("spectra_publish_errors_total", "Failed JetStream publishes.", ["data_type"]),
    insert_errors: this.counter("spectra_insert_errors_total", "Failed ClickHouse inserts.", ["data_type"]),
  } as const;
  private readonly pending = this.gauge("spectra_consumer_pending_messages", "Messages waiting in the durable consumer.", ["data_type"]);
  private readonly overflow = this.gauge("spectra_overflow_records", "Records ingest workers hold outside full rings.", ["data_type"]);
  private readonly insertSeconds = this.gauge("spectra_last_insert_seconds", "Duration of the last ClickHouse insert.", ["data_type"]);
  private readonly insertRows = this.gauge("spectra_last_insert_rows", "Rows of the last ClickHouse insert.", ["data_type"]);
  private readonly workerUp = this.gauge("spectra_worker_running", "1 while the worker runs.", ["worker", "kind"]);
  private readonly workerRestarts = this.counter("spectra_worker_restarts_total", "Worker restarts.", ["worker", "kind"]);
  private readonly ringDepth = this.gauge("spectra_ring_depth_bytes", "Bytes waiting in a ring.", ["worker", "peer", "data_type"]);
  private readonly ringCapacity = this.gauge("spectra_ring_capacity_bytes", "Ring capacity.", ["worker", "peer", "data_type"]);
  private readonly ringHigh = this.gauge("spectra_ring_high_water_bytes", "Highest ring depth seen.", ["worker", "peer", "data_type"]);
  private readonly bookResyncs = this.counter("spectra_book_resyncs_total", "Order-book resyncs per symbol.", ["venue", "symbol"]);
  private readonly bookChecksum = this.counter("spectra_book_checksum_failures_total", "Order-book checksum failures per symbol.", ["venue", "symbol"]);
  private readonly bookGaps = this.counter("spectra_book_sequence_gaps_total", "Order-book sequence gaps per symbol.", ["venue", "symbol"]);
  private readonly bookLive = this.gauge("spectra_book_live", "1 while the book is in sync.", ["venue", "symbol"]);
  private readonly componentUp = this.gauge("spectra_component_up", "1 while the component is up, 0 while it is down (NATS, ClickHouse; no series when the engine does not use it).", ["component"]);
  private readonly natsRestarts = this.counter("spectra_nats_restarts_total", "Times the embedded nats-server was started again after it exited on its own.", []);
  private readonly componentLatency = this.gauge("spectra_component_latency_seconds", "Last round trip to the component.", ["component"]);
  private readonly tierWatermark = this.gauge("spectra_tiering_watermark_seconds", "Hot->cold watermark (unix seconds).", ["table"]);
  private readonly tierLag = this.gauge("spectra_tiering_lag_seconds", "How far cold lags behind hot.", ["table"]);
  private readonly tierVerified = this.counter("spectra_tiering_windows_verified_total", "Windows verified in cold.", ["table"]);
  private readonly tierFailed = this.counter("spectra_tiering_windows_failed_total", "Windows that failed verification.", ["table"]);

  private readonly rss = this.gauge("spectra_process_resident_memory_bytes", "Resident set size of the engine process.", []);
  private readonly heap = this.gauge("spectra_heap_bytes", "JavaScript heap of a thread (supervisor or worker) after its last collection.", ["thread"]);
  private readonly fullCollections = this.counter("spectra_heap_full_collections_total", "Full collections the heap guard ran on a thread (since the thread started).", ["thread"]);
  private readonly latency = {
    exchange_to_receive: new ReadHistogram(
      "spectra_exchange_to_receive_seconds",
      "Exchange event time to receipt by the ingest worker, per venue and data type (negative values, clock skew, are observed as 0 and counted in spectra_clock_skew_negative_total).",
      ["venue", "data_type"],
      [this.registry],
    ),
    receive_to_commit: new ReadHistogram("spectra_receive_to_commit_seconds", "Receipt to the ClickHouse commit of the record's insert, per venue and data type.", ["venue", "data_type"], [this.registry]),
  } as const;
  private readonly skewNegative = this.counter("spectra_clock_skew_negative_total", "Records stamped by the exchange later than their receipt (clock skew), per venue and data type.", ["venue", "data_type"]);
  private readonly skewIncidents = this.counter("spectra_clock_skew_incidents_total", "Times a venue's clock skew passed venues.<v>.max_clock_skew_ms.", ["venue"]);
  private readonly skewLast = this.gauge("spectra_clock_skew_seconds", "Largest (exchange time - receipt) over the venue's last second with records; positive means events stamped after receipt.", ["venue"]);
  private readonly recovered = this.counter("spectra_recovered_records_total", "Records recoveries after gaps brought back (REST backfills), per venue and affected data type.", ["venue", "data_type"]);
  private readonly httpRefused = this.counter("spectra_http_refused_requests_total", "HTTP requests answered with an error status.", ["status"]);

  async render(s: StatsSnapshot, refused: ReadonlyMap<number, number>, latency: readonly LatencySeries[] = []): Promise<string> {
    for (const c of this.counters) c.reset();
    for (const g of this.gauges) g.reset();
    for (const h of Object.values(this.latency)) h.reset();
    for (const l of latency) this.latency[l.histogram].set({ venue: l.venue, data_type: l.data_type }, l.reading);
    this.uptime.set(s.uptime_s);
    this.rss.set(s.process.rss_bytes);
    this.heap.set({ thread: "supervisor" }, s.process.heap_bytes);
    this.fullCollections.inc({ thread: "supervisor" }, s.process.full_collections);
    for (const [venue, v] of Object.entries(s.venues)) {
      this.venueMessages.inc({ venue }, v.messages_in);
      this.venueReconnects.inc({ venue }, v.reconnects);
      this.venueUnrecognized.inc({ venue }, v.unrecognized);
      this.venueErrors.inc({ venue }, v.errors);
      this.venueResyncs.inc({ venue }, v.resyncs);
      this.venueErrorEvents.inc({ venue }, v.error_events);
      for (const [channel, n] of Object.entries(v.bad_by_channel)) this.venueBad.inc({ venue, channel }, n);
      this.venueConnected.set({ venue }, v.state === "connected" ? 1 : 0);
      this.venueOpen.set({ venue }, v.open_connections);
      this.venueRequests.inc({ venue }, v.ws_requests);
      this.venueRequestPeak.set({ venue }, v.ws_requests_peak_per_s);
      this.venueIncidents.inc({ venue }, v.ws_incidents);
      this.venueAge.set({ venue }, v.last_message_age_ms === null ? -1 : v.last_message_age_ms / 1000);
      this.venueRestWeight.inc({ venue }, v.rest.weight_used);
      this.venueBackfillFailures.inc({ venue }, v.trade_backfill_failures);
      this.venueStartFailures.inc({ venue }, v.start_failures);
      this.venueNormalizerExceptions.inc({ venue }, v.normalizer_exceptions);
      this.venueRestQueue.set({ venue }, v.rest.queue);
      this.venueRestBlocked.set({ venue }, v.rest.blocked_ms / 1000);
      for (const o of v.rest.poll_overloads) this.venuePollOverload.set({ venue, limit: o.limit }, o.asked / o.sustained);
      for (const state of ["live", "syncing", "waiting"] as const) this.venueBooks.set({ venue, state }, v.book_sync[state]);
      this.venueSyncEta.set({ venue }, v.book_sync.eta_s);
      this.venueBookFailures.set({ venue }, v.failing_symbols.length);
      this.venueRestLimited.inc({ venue, status: "429" }, v.rest.responses_429);
      this.venueRestLimited.inc({ venue, status: "418" }, v.rest.responses_418);
      this.venueSymbols.set({ venue }, v.symbols.resolved);
      this.venueSymbolChanges.inc({ venue, change: "added" }, v.symbols.added);
      this.venueSymbolChanges.inc({ venue, change: "removed" }, v.symbols.removed);
      this.venueRefreshes.inc({ venue, result: "ok" }, v.symbols.refreshes);
      this.venueRefreshes.inc({ venue, result: "failed" }, v.symbols.refresh_failures);
      this.venueRefreshAge.set({ venue }, v.symbols.last_refresh_ms === null ? -1 : Math.max(0, Date.now() - v.symbols.last_refresh_ms) / 1000);
      for (const [data_type, l] of Object.entries(v.latency)) this.skewNegative.inc({ venue, data_type }, l.exchange_to_receive.negative);
      this.skewIncidents.inc({ venue }, v.clock_skew.incidents);
      if (v.clock_skew.last_ms !== null) this.skewLast.set({ venue }, v.clock_skew.last_ms / 1000);
      for (const [data_type, n] of Object.entries(v.recovered)) this.recovered.inc({ venue, data_type }, n);
    }
    for (const [data_type, t] of Object.entries(s.data_types)) {
      for (const [key, metric] of Object.entries(this.typeTotals)) metric.inc({ data_type }, t[key as keyof typeof this.typeTotals]);
      this.pending.set({ data_type }, t.consumer_pending);
      this.overflow.set({ data_type }, t.overflow);
      this.insertSeconds.set({ data_type }, t.last_insert_ms / 1000);
      this.insertRows.set({ data_type }, t.last_insert_rows);
    }
    for (const w of s.workers) {
      this.workerUp.set({ worker: w.id, kind: w.kind }, w.state === "running" ? 1 : 0);
      this.workerRestarts.inc({ worker: w.id, kind: w.kind }, w.restarts);
      if (w.heap_bytes !== null) this.heap.set({ thread: w.id }, w.heap_bytes);
      this.fullCollections.inc({ thread: w.id }, w.full_collections);
      for (const r of w.rings) {
        this.ringDepth.set({ worker: w.id, peer: r.peer, data_type: r.type }, r.depth_bytes);
        this.ringCapacity.set({ worker: w.id, peer: r.peer, data_type: r.type }, r.capacity_bytes);
        this.ringHigh.set({ worker: w.id, peer: r.peer, data_type: r.type }, r.high_water_bytes);
      }
    }
    for (const [venue, books] of Object.entries(s.books)) {
      for (const b of books) {
        const labels = { venue, symbol: b.symbol };
        this.bookResyncs.inc(labels, b.resyncs);
        this.bookChecksum.inc(labels, b.checksum_failures);
        this.bookGaps.inc(labels, b.sequence_gaps);
        this.bookLive.set(labels, b.state === "live" ? 1 : 0);
      }
    }
    for (const [component, c] of [["nats", s.nats], ["clickhouse", s.clickhouse]] as const) {
      // A component this engine does not use (ClickHouse on a collector) has no series, so an
      // alert on `spectra_component_up == 0` fires only for components that are down.
      if (c.state === "disabled") continue;
      this.componentUp.set({ component }, c.state === "up" ? 1 : 0);
      if (c.latency_ms !== null) this.componentLatency.set({ component }, c.latency_ms / 1000);
    }
    this.natsRestarts.inc(s.nats.restarts);
    for (const [table, t] of Object.entries(s.tiering)) {
      if (t.watermark_ms !== null) this.tierWatermark.set({ table }, t.watermark_ms / 1000);
      if (t.lag_ms !== null) this.tierLag.set({ table }, t.lag_ms / 1000);
      this.tierVerified.inc({ table }, t.windows_verified);
      this.tierFailed.inc({ table }, t.windows_failed);
    }
    for (const [status, n] of refused) this.httpRefused.inc({ status: String(status) }, n);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
