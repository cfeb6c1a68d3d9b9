import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client";
import type { Server } from "bun";
import type { Config, VenueKey } from "../config/schema.ts";
import { VENUE_KEYS } from "../config/venue-keys.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { isRecordType, RECORD_TYPES, type RecordType } from "../records/types.ts";
import { sharedDeliveredSeqs } from "../bus/delivered-seqs.ts";
import { RING_OPEN, SpscRing } from "../ring/spsc-ring.ts";
import { Counters } from "../stats/counters.ts";
import { counterNames, typeCounter } from "../stats/layout.ts";
import type { BookHealth } from "../venues/types.ts";
import { RestBudget, scaleLimits, type RestLimitScale } from "../venues/connection/rest-budget.ts";
import type { BookSyncReport } from "../venues/connection/sync-queue.ts";
import { syncEtaMs } from "../venues/connection/sync-estimate.ts";
import { venueHealth } from "./venue-health.ts";
import { getVenue } from "../venues/registry.ts";
import { createHttpHandler, startHttpServer } from "../http/server.ts";
import { exposureWarning, isLoopbackHost, systemLoopbackAliases } from "../http/security.ts";
import { registerSecrets } from "../log/redact.ts";
import { secretValues } from "../config/secrets.ts";
import { handleQuery } from "../http/query.ts";
import { startClickHouseServer } from "../http/clickhouse-server.ts";
import type { HealthComponent, HealthReport, NatsStats, ProcessStats, StatsSnapshot } from "../http/stats-types.ts";
import { createClickHouse } from "../storage/client.ts";
import { ensureSchema, schemaNames } from "../storage/schema.ts";
import { InsertSinks } from "../storage/insert-sinks.ts";
import { ManagedNats } from "./nats-process.ts";
import { RunMarker } from "./run-marker.ts";
import { StartProgress } from "./start-progress.ts";
import { EngineDownRecorder } from "./engine-down.ts";
import { NatsMonitor } from "./nats-monitor.ts";
import { RingSet } from "./ring-set.ts";
import { ClickHouseMonitor } from "./clickhouse-monitor.ts";
import { ManagedWorker } from "./managed-worker.ts";
import type { BatchInit, FromWorker, IngestInit, IngestShardInit, SyntheticSpec } from "./messages.ts";
import { laneCount } from "../config/batch-lanes.ts";
import { connectShares, ingestShards, planTopology, venueConfigErrors, type BatchPlan, type IngestPlan, type TopologyPlan } from "./topology.ts";
import { resolveVenueSymbols, symbolsChanged } from "./symbol-resolution.ts";
import type { VenueSymbols } from "./instrument-refresh.ts";
import { selectorConfigErrors } from "../venues/selection.ts";
import type { Instrument } from "../venues/types.ts";
import { heapSize } from "bun:jsc";
import { HeapGuard } from "../setup/heap-guard.ts";
import { syncEstimateLines, venuePollOverloads } from "./rest-estimates.ts";
import type { PollOverload } from "../venues/connection/poll-estimate.ts";
import { releaseCodePages } from "../setup/code-pages.ts";
import { buildStats, RateSampler } from "./stats.ts";
import { ClockSkewWatch } from "./clock-skew.ts";
import { latencySeries } from "../stats/latency.ts";
import { TieringJob } from "../tiering/tiering-job.ts";
import { openTieringClients, type TieringClients } from "../tiering/clients.ts";

const INGEST_ENTRY = new URL("../../workers/ingest.worker.ts", import.meta.url);
const BATCH_ENTRY = new URL("../../workers/batch.worker.ts", import.meta.url);
/** Largest SQL body POST /query reads. */
const QUERY_MAX_BODY_BYTES = 1 << 20;

export interface EngineOptions {
  /** Where --record writes raw frames, or null. */
  readonly record_dir?: string | null;
  /** Replace venue connections with a synthetic sequenced-trade source (tests, load). */
  readonly synthetic?: SyntheticSpec | null;
  /** Logger to use instead of a new root logger. */
  readonly log?: Logger;
  /** Shrinks venues' documented REST limits (tests: a book storm on a small budget; the simulator takes the same scale). */
  readonly rest_scale?: Partial<Record<VenueKey, RestLimitScale>>;
}

/** A failure while starting; everything started before it has been stopped again. */
export class EngineStartError extends Error {
  override readonly name = "EngineStartError";
}

/**
 * The engine's supervisor (main thread): owns config, rings, counters, embedded NATS, the ClickHouse
 * client for schema/health/query/tiering, the HTTP server, and the worker threads.
 */
export class Engine {
  readonly log: Logger;
  /** The topology spawned: planned again at start from the venues' resolved symbols. */
  plan: TopologyPlan;
  readonly counters = new Counters(counterNames());
  readonly workers: ManagedWorker[] = [];
  private rings: RingSet;
  /** Per venue with ingest workers: its resolved symbols and their refresh (instrument-refresh.ts). */
  private readonly venueSymbols = new Map<VenueKey, VenueSymbols>();
  /** Per venue: the limits its bucket polls ask more of than its budget sustains (`rest.poll_overloads` in /stats). */
  private readonly pollOverloads = new Map<VenueKey, readonly PollOverload[]>();
  /** Book health per ingest shard (last report). */
  private readonly books = new Map<string, readonly BookHealth[]>();
  /** Per record type: the stream sequences its storage consumers hold and acknowledged (delivered-seqs.ts). */
  private readonly deliveredSeqs = new Map<RecordType, SharedArrayBuffer>();
  /** Unrecognized and malformed frames per channel, per ingest shard (last report). */
  private readonly badFrames = new Map<string, Readonly<Record<string, number>>>();
  /** REST requests queued per ingest shard (last report). */
  private readonly restQueues = new Map<string, number>();
  /** Books waiting for the REST budget and failing symbols, per ingest shard (last report). */
  private readonly bookSync = new Map<string, BookSyncReport>();
  /** One REST weight budget per venue, shared by its ingest workers and kept across their restarts. */
  private readonly restBudgets = new Map<VenueKey, RestBudget>();
  /** Ingest shards whose venue failed to start and is being tried again: the last error and attempts. */
  private readonly shardFailures = new Map<string, { readonly message: string; readonly attempts: number }>();
  /** Records each ingest thread holds outside full rings, per type (its last report). */
  private readonly overflow = new Map<string, Readonly<Record<string, number>>>();
  private readonly started_ms = Date.now();
  private readonly rates = new RateSampler(this.counters);
  private embeddedNats: ManagedNats | null = null;
  /** The NATS servers the engine and its batch workers connect to (the embedded one's URL, or nats.servers). */
  private natsServers: readonly string[] | null = null;
  private nats: NatsMonitor | null = null;
  private clickhouse: ClickHouseClient | null = null;
  private clickhouseMonitor: ClickHouseMonitor | null = null;
  private queryClient: ClickHouseClient | null = null;
  private clickhouseServer: Server<undefined> | null = null;
  /** Where batch workers' inserts run, on this thread (see ManagedWorker). */
  private insertSinks: InsertSinks | null = null;
  private tiering: TieringJob | null = null;
  private tieringClients: TieringClients | null = null;
  private server: Server<undefined> | null = null;
  private stopping: Promise<void> | null = null;
  private heapGuard: HeapGuard | null = null;
  private startProgress: StartProgress | null = null;
  /** This run's claim on the data directory (run-marker.ts); removed by a clean stop. */
  private marker: RunMarker | null = null;
  /** After an unclean stop: the engine_down gaps the ingest workers write. */
  private engineDown: EngineDownRecorder | null = null;
  private readonly clockSkew: ClockSkewWatch;

  constructor(
    /** The configuration; at start each venue's `symbols` becomes its resolved list. */
    public config: Config,
    private readonly options: EngineOptions = {},
  ) {
    registerSecrets(secretValues(config, process.env));
    this.log = options.log ?? createLogger(config.log.level, { component: "supervisor" });
    this.plan = planTopology(config);
    this.rings = new RingSet(this.plan, config.ring);
    this.clockSkew = new ClockSkewWatch(config, this.counters, this.log);
  }

  get dataDir(): string {
    return resolve(this.config.engine.data_dir);
  }

  /** Where ClickHouse's HTTP interface listens (http.clickhouse_port); null when it does not. */
  get clickhouseHttpUrl(): string | null {
    return this.clickhouseServer === null ? null : `http://${this.clickhouseServer.hostname}:${this.clickhouseServer.port}`;
  }

  get httpUrl(): string | null {
    return this.server === null ? null : `http://${this.server.hostname}:${this.server.port}`;
  }

  /** The NATS servers connected to, comma-separated. */
  get natsServerUrl(): string | null {
    return this.natsServers === null ? null : this.natsServers.join(",");
  }

  /** pid of the embedded nats-server now running; null with an external server or none. */
  get natsServerPid(): number | null {
    return this.embeddedNats?.pid ?? null;
  }

  get clickhouseClient(): ClickHouseClient | null {
    return this.clickhouse;
  }

  private get natsNeeded(): boolean {
    return this.config.nats.enabled && this.plan.batch.length > 0;
  }

  private get clickhouseNeeded(): boolean {
    return this.config.clickhouse.enabled && this.config.engine.role !== "collect";
  }

  async start(): Promise<void> {
    // A storer collects nothing: what its venue settings ask is no concern of it.
    const venueErrors = this.config.engine.role === "store" ? [] : [...venueConfigErrors(this.config), ...selectorConfigErrors(this.config)];
    if (venueErrors.length > 0) throw new EngineStartError(`invalid configuration: ${venueErrors.join("; ")}`);
    if (!this.options.synthetic) {
      try {
        await this.resolveSymbols();
      } catch (cause) {
        if (cause instanceof EngineStartError) throw cause;
        throw new EngineStartError(`symbol resolution failed: ${(cause as Error).message}`, { cause });
      }
    }
    const role = this.config.engine.role;
    if (role !== "all" && !this.config.nats.enabled) {
      throw new EngineStartError(`engine.role ${role} needs NATS between collectors and storers: nats.enabled is false`);
    }
    if (role === "store" && !this.config.clickhouse.enabled) throw new EngineStartError("engine.role store needs ClickHouse: clickhouse.enabled is false");
    if (!this.config.nats.enabled && !this.config.clickhouse.enabled && this.plan.batch.length > 0) {
      throw new EngineStartError("nats.enabled and clickhouse.enabled are both false: batch workers would have nowhere to put records");
    }
    for (const warning of this.plan.warnings) this.log.warn(warning);
    mkdirSync(this.dataDir, { recursive: true });
    try {
      this.marker = RunMarker.open(this.dataDir, this.config.engine.role);
    } catch (cause) {
      throw new EngineStartError((cause as Error).message, { cause });
    }
    try {
      await this.marker.endOrphanNats(this.log);
      await this.startServices();
      this.engineDown = new EngineDownRecorder(this.marker);
      const publishes = this.config.engine.role !== "store";
      await this.engineDown.prepare({ config: this.config, jsm: publishes ? (this.nats?.manager ?? null) : null, clickhouse: this.clickhouse, log: this.log });
      await Promise.all(this.plan.batch.map((b) => this.spawn(this.batchInit(b), BATCH_ENTRY)));
      if (!this.options.synthetic) {
        for (const line of syncEstimateLines(this.config, this.plan, (venue) => this.restBudgetOf(venue))) this.log.info(line.fields, line.message);
        const natives = new Map<VenueKey, string[]>();
        for (const i of ingestShards(this.plan)) natives.set(i.venue, [...(natives.get(i.venue) ?? []), ...i.symbols]);
        for (const [venue, symbols] of natives) this.checkPolls(venue, symbols);
      }
      await Promise.all(this.plan.ingest.map((i) => this.spawn(this.ingestInit(i), INGEST_ENTRY)));
    } catch (cause) {
      await this.stop();
      throw new EngineStartError((cause as Error).message, { cause });
    }
    this.heapGuard = new HeapGuard();
    for (const v of this.venueSymbols.values()) v.start();
    this.clockSkew.start();
    this.log.info(
      { role: this.config.engine.role, ingest: this.plan.ingest.length, batch: this.plan.batch.length, rings: this.plan.rings.length, http: this.httpUrl, clickhouse_http: this.clickhouseHttpUrl, nats: this.natsServerUrl },
      "engine started",
    );
    this.releaseStartCode("engine started");
    // A storer has no venues to wait for: its start is over now, and the pages are handed back.
    const collects = this.plan.ingest.length > 0;
    this.startProgress = new StartProgress(
      () => this.stats(),
      (line) => this.log.info(line.fields, line.message),
      () => (collects ? this.releaseStartCode("collecting") : undefined),
    );
    this.startProgress.start();
  }

  /**
   * Hands back the code pages the start ran (src/setup/code-pages.ts): once the engine has
   * started, and again when every venue is connected and every book live, which runs the
   * connect, subscribe and snapshot paths once more.
   */
  private releaseStartCode(stage: string): void {
    const code = releaseCodePages();
    if (code.skipped === null) this.log.info({ stage, released_mb: Math.round(code.released_bytes / 1048576) }, "code pages only the start used handed back to the kernel");
    else this.log.debug({ stage, reason: code.skipped }, "code pages kept");
  }

  /**
   * Resolves every collecting venue's symbols from its metadata (symbol-resolution.ts) and plans
   * the topology over them; a symbol the venue does not list, a selector that matches nothing or
   * metadata a selector cannot do without stop the start (exit code 2).
   */
  private async resolveSymbols(): Promise<void> {
    const resolved = await resolveVenueSymbols({
      config: this.config,
      counters: this.counters,
      log: this.log,
      budget: (venue) => this.restBudgetOf(venue),
      onChange: (venue, added, removed) => this.onSymbolChange(venue, added, removed),
      record_dir: this.options.record_dir ?? null,
    });
    for (const v of resolved.venues) this.venueSymbols.set(v.venue, v);
    if (resolved.errors.length > 0) {
      for (const v of resolved.venues) v.stop();
      throw new EngineStartError(`invalid configuration: ${resolved.errors.join("; ")}`);
    }
    this.config = resolved.config;
    this.plan = planTopology(this.config);
    this.rings = new RingSet(this.plan, this.config.ring);
  }

  /** Reads every venue's instrument metadata now, as the `instruments_refresh_s` timer does. */
  async refreshInstruments(): Promise<void> {
    await Promise.all([...this.venueSymbols.values()].map((v) => v.refresh()));
  }

  /** A refresh changed `venue`'s symbols: each change goes to the ingest thread of the shard it concerns. */
  private onSymbolChange(venue: VenueKey, added: readonly Instrument[], removed: readonly string[]): void {
    for (const { worker, init, message } of symbolsChanged(this.workers, venue, added, removed)) {
      // A thread that restarts later starts from its current symbols.
      worker.init = init;
      worker.post(message);
    }
    if (!this.options.synthetic) this.checkPolls(venue, this.venueShards(venue).flatMap((s) => s.symbols));
  }

  /** Recomputes `venue`'s poll overloads for `natives`, its symbols now; a change (at start: any overload) is logged. */
  private checkPolls(venue: VenueKey, natives: readonly string[]): void {
    const next = venuePollOverloads(this.config, venue, natives, this.venueSymbols.get(venue)?.instruments ?? null, this.restBudgetOf(venue));
    const before = this.pollOverloads.get(venue) ?? [];
    this.pollOverloads.set(venue, next);
    if (JSON.stringify(next) === JSON.stringify(before)) return;
    for (const o of next) this.log.warn({ venue, limit: o.limit_name, asked: o.asked, sustained: o.sustained, symbols_fit: o.symbols_fit }, `${venue} ${o.text}`);
    if (next.length === 0) this.log.info({ venue, symbols: natives.length }, `${venue} polls fit their REST budget again`);
  }

  private async startServices(): Promise<void> {
    const cfg = this.config;
    if (this.natsNeeded) {
      if (cfg.nats.servers.length === 0) {
        this.embeddedNats = await ManagedNats.start(
          {
            binary: cfg.nats.embedded.binary,
            host: cfg.nats.embedded.host,
            port: cfg.nats.embedded.port,
            max_procs: cfg.nats.embedded.max_procs,
            store_dir: join(this.dataDir, "nats"),
          },
          { initial_ms: cfg.engine.restart_initial_ms, max_ms: cfg.engine.restart_max_ms },
          this.log.child({ component: "nats-server" }),
          (server) => this.marker?.setNats(server.pid, server.store_dir),
        );
        this.natsServers = [this.embeddedNats.url];
      } else {
        this.natsServers = cfg.nats.servers;
      }
      // Where this process stores, its consumers count their own pending messages.
      const pendingTypes = this.clickhouseNeeded ? [] : RECORD_TYPES.filter((t) => laneCount(cfg, t) > 0);
      this.nats = await NatsMonitor.connect(this.natsServers, cfg.nats, this.counters, this.log, pendingTypes);
    }
    if (this.clickhouseNeeded) {
      this.clickhouse = createClickHouse(cfg.clickhouse, this.dataDir, this.log.child({ component: "clickhouse-client" }));
      await ensureSchema(this.clickhouse, schemaNames(cfg.clickhouse));
      this.insertSinks = new InsertSinks(this.clickhouse, cfg.clickhouse, this.dataDir, this.log.child({ component: "clickhouse-client" }));
      this.clickhouseMonitor = new ClickHouseMonitor(this.clickhouse, cfg.clickhouse.url === "" ? "embedded" : "server", cfg.clickhouse.url);
      if (cfg.tiering.enabled) this.startTiering();
    }
    if (cfg.http.enabled) {
      // The query endpoint gets a client of its own: readonly=1 must not leak into inserts.
      const queryClient = this.clickhouseNeeded && cfg.clickhouse.url === "" ? createClickHouse(cfg.clickhouse, this.dataDir, this.log.child({ component: "clickhouse-client", client: "query" })) : null;
      this.queryClient = queryClient;
      const query =
        queryClient === null
          ? null
          : (req: Request) => handleQuery(req, queryClient, { max_body_bytes: QUERY_MAX_BODY_BYTES, timeout_ms: cfg.clickhouse.request_timeout_ms });
      const exposed = exposureWarning(cfg.http.host, cfg.http.auth_token);
      if (exposed !== null) this.log.warn(exposed);
      // Both listeners answer the same loopback names; /etc/hosts is read once, here.
      const loopback_aliases = systemLoopbackAliases();
      const handler = createHttpHandler({ stats: () => this.stats(), health: () => this.health(), query, latency: () => latencySeries(this.counters) }, {
        auth_token: cfg.http.auth_token,
        loopback_only: isLoopbackHost(cfg.http.host),
        loopback_aliases,
      });
      this.server = startHttpServer(cfg.http.host, cfg.http.port, handler);
      if (queryClient !== null && cfg.http.clickhouse_port !== 0) {
        const client = (name: string) => createClickHouse(cfg.clickhouse, this.dataDir, this.log.child({ component: "clickhouse-client", client: name }));
        // Two clients of its own (embedded, so left to the process's exit like the query client).
        const guard_client = client("clickhouse-http-guard");
        const run_client = client("clickhouse-http");
        this.clickhouseServer = await startClickHouseServer({
          host: cfg.http.host,
          port: cfg.http.clickhouse_port,
          auth_token: cfg.http.auth_token,
          loopback_aliases,
          max_body_bytes: QUERY_MAX_BODY_BYTES,
          timeout_ms: cfg.clickhouse.request_timeout_ms,
          guard_client,
          run_client,
          log: this.log.child({ component: "clickhouse-http" }),
        });
      }
    }
  }

  /** The in-engine hot->cold job (same instance, or a cold server per tiering.mode). */
  private startTiering(): void {
    const clients = openTieringClients(this.config, this.log.child({ component: "clickhouse-client", client: "tiering" }));
    this.tieringClients = clients;
    this.tiering = new TieringJob(clients.hot, clients.cold, this.config.tiering, clients.databases, this.log.child({ component: "tiering" }));
    this.tiering.start();
  }

  private restBudget(venue: VenueKey): SharedArrayBuffer {
    return this.restBudgetOf(venue).buffer;
  }

  private restBudgetOf(venue: VenueKey): RestBudget {
    let budget = this.restBudgets.get(venue);
    if (budget === undefined) {
      budget = new RestBudget(scaleLimits(getVenue(venue).rest_limits.buckets, this.options.rest_scale?.[venue]));
      this.restBudgets.set(venue, budget);
    }
    return budget;
  }

  private ingestInit(plan: IngestPlan): IngestInit {
    return {
      kind: "ingest",
      id: plan.id,
      index: plan.index,
      shards: plan.shards.map(({ id, venue, index, symbols }) => ({
        id,
        venue,
        index,
        symbols,
        instruments: this.venueSymbols.get(venue)?.instruments ?? null,
        rest_budget: this.restBudget(venue),
        rest_scale: this.options.rest_scale?.[venue] ?? null,
        connect_shares: connectShares(this.plan, venue),
      })),
      config: this.config,
      counters: this.counters.buffer,
      rings: this.rings.linksFrom(plan.id),
      record_dir: this.options.record_dir ?? null,
      synthetic: this.options.synthetic ?? null,
      engine_down: this.engineDown?.plan ?? null,
    };
  }

  private batchInit(plan: BatchPlan): BatchInit {
    const role = this.config.engine.role;
    const publish = this.natsServers !== null && role !== "store";
    const consumes = this.natsServers !== null && this.clickhouseNeeded;
    return {
      kind: "batch",
      id: plan.id,
      index: plan.index,
      lanes: plan.lanes.map(({ type, index }) => ({ type, index, rings: this.rings.linksTo(type, index), delivered_seqs: consumes ? this.deliveredSeqsOf(type) : null })),
      config: this.config,
      counters: this.counters.buffer,
      nats_servers: this.natsServers,
      publish,
      store: this.clickhouseNeeded,
    };
  }

  /** The delivered-sequence buffer of `type`'s storage consumers, made at its first lane's start. */
  private deliveredSeqsOf(type: RecordType): SharedArrayBuffer {
    let delivered = this.deliveredSeqs.get(type);
    if (delivered === undefined) {
      delivered = sharedDeliveredSeqs(laneCount(this.config, type));
      this.deliveredSeqs.set(type, delivered);
    }
    return delivered;
  }

  private async spawn(init: IngestInit | BatchInit, entry: URL): Promise<void> {
    const log = this.log.child({ worker: init.id });
    const worker = new ManagedWorker(
      init,
      entry,
      log,
      (w, m) => this.onWorkerMessage(w, m),
      { initial_ms: this.config.engine.restart_initial_ms, max_ms: this.config.engine.restart_max_ms },
      init.kind === "batch" && init.store ? (this.insertSinks?.forWorker(init.id) ?? null) : null,
    );
    this.workers.push(worker);
    await worker.start();
  }

  private onWorkerMessage(worker: ManagedWorker, message: FromWorker): void {
    if (worker.init.kind !== "ingest") return;
    if (message.type === "shard_failed") {
      this.shardFailures.set(message.shard, { message: message.message, attempts: message.attempts });
    } else if (message.type === "venue_health") {
      this.shardFailures.delete(message.shard);
      this.books.set(message.shard, message.books);
      this.bookSync.set(message.shard, message.book_sync);
      this.badFrames.set(message.shard, message.bad_by_channel);
      this.restQueues.set(message.shard, message.rest_queue);
    } else if (message.type === "overflow") {
      this.overflow.set(worker.id, message.by_type);
    } else if (message.type === "ready") {
      this.overflowLost(worker.id);
    }
  }

  /**
   * A restarted ingest thread starts with empty overflow: what it last reported holding died with
   * it. It is counted as dropped and logged (the gap records the thread would have written on a
   * drop died with it too).
   */
  private overflowLost(thread_id: string): void {
    const held = this.overflow.get(thread_id);
    this.overflow.delete(thread_id);
    if (held === undefined) return;
    for (const [type, n] of Object.entries(held)) {
      if (n <= 0 || !isRecordType(type)) continue;
      this.counters.add(this.counters.slot(typeCounter(type, "dropped")), n);
      this.log.error({ worker: thread_id, data_type: type, records: n }, "records an ingest thread held outside its full rings were lost with it");
    }
  }

  /** Graceful stop: intake first, then drain rings and flush sinks, then services. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    this.startProgress?.stop();
    this.heapGuard?.stop();
    this.clockSkew.stop();
    for (const v of this.venueSymbols.values()) v.stop();
    const deadline = this.config.engine.shutdown_deadline_ms;
    await Promise.all(this.workers.filter((w) => w.init.kind === "ingest").map((w) => w.stop(deadline)));
    // An ingest worker that was down (restarting) never ended its rings; its producer is gone
    // now, so end them here (a fresh attach reads the true write index) and batch workers finish.
    for (const { ring } of this.rings.all()) {
      if (ring.state === RING_OPEN) SpscRing.attach(ring.sab).close();
    }
    await Promise.all(this.workers.filter((w) => w.init.kind === "batch").map((w) => w.stop(deadline)));
    await this.tiering?.stop();
    this.server?.stop(true);
    this.clickhouseServer?.stop(true);
    await this.nats?.close();
    await this.embeddedNats?.stop();
    await this.clickhouseMonitor?.stop();
    // Server mode: close the HTTP clients. Embedded chDB: every insert has committed (its parts
    // are on disk) and the process exits next; its connections are left to that exit. Closing
    // them in a process that keeps using chDB once aborted the embedded engine for the rest of
    // the process ("The server is shutting down due to a fatal error", in the test suite, where
    // engines start and stop in one process).
    if (this.config.clickhouse.url !== "") {
      await this.queryClient?.close();
      await this.tieringClients?.close();
      await this.clickhouse?.close();
    }
    // Clean unless gaps of an unclean stop are still unwritten (an ingest worker never ran):
    // the marker then stays and the next start writes them.
    this.marker?.close(this.engineDown?.finished ?? this.marker.previous === null);
    this.log.info(this.finalCounts(), "engine stopped");
  }

  /**
   * What this process moved, per data type it has batch workers for: `published` (acknowledged by
   * JetStream) in the roles that collect, `stored` (committed to ClickHouse) in those that store.
   */
  finalCounts(): { role: Config["engine"]["role"]; published?: Record<string, number>; stored?: Record<string, number> } {
    const role = this.config.engine.role;
    const types = [...new Set(this.plan.batch.flatMap((b) => b.lanes.map((l) => l.type)))];
    const counts = (name: "published" | "stored") => Object.fromEntries(types.map((t) => [t, this.counters.read(typeCounter(t, name))]));
    return { role, ...(role === "store" ? {} : { published: counts("published") }), ...(role === "collect" ? {} : { stored: counts("stored") }) };
  }

  health(): HealthReport {
    const components: Record<string, { state: string; detail?: string }> = {};
    const nats = this.natsComponent();
    const clickhouse = this.clickhouseMonitor?.snapshot() ?? null;
    if (this.natsNeeded) components.nats = { state: nats.state, ...(nats.last_error === null ? {} : { detail: nats.last_error }) };
    if (clickhouse !== null) components.clickhouse = { state: clickhouse.state, ...(clickhouse.last_error === null ? {} : { detail: clickhouse.last_error }) };
    for (const w of this.workers) components[`worker:${w.id}`] = { state: w.state, ...(w.lastError === null ? {} : { detail: w.lastError }) };
    const venueStats = this.stats().venues;
    for (const venue of VENUE_KEYS) {
      const v = venueStats[venue];
      if (v === undefined || !v.enabled || this.options.synthetic) continue;
      components[`venue:${venue}`] = this.withStartFailure(venue, venueHealth(v));
    }
    const ok = Object.entries(components).every(([, c]) => c.state === "up" || c.state === "running" || c.state === "connected" || c.state === "syncing");
    return { ok, components };
  }

  /** A venue's health, naming why it is not up when one of its shards keeps failing to start. */
  private withStartFailure(venue: VenueKey, component: HealthComponent): HealthComponent {
    const failed = this.venueShards(venue).flatMap((s) => {
      const f = this.shardFailures.get(s.id);
      return f === undefined ? [] : [`${s.id}: ${f.message} (${f.attempts} failed start${f.attempts === 1 ? "" : "s"}, trying again)`];
    });
    if (failed.length === 0 || component.detail !== undefined) return component;
    return { ...component, detail: failed.join("; ") };
  }

  /** The shards of the running ingest threads, with their symbols now (refreshes change them). */
  private shardsNow(): IngestShardInit[] {
    return this.workers.flatMap((w) => (w.init.kind === "ingest" ? w.init.shards : []));
  }

  private venueShards(venue: VenueKey): IngestShardInit[] {
    return this.shardsNow().filter((s) => s.venue === venue);
  }

  /** Books each shard keeps: its symbols now, when its venue collects books. */
  private plannedBooks(): Map<string, number> {
    return new Map(this.shardsNow().map((s) => [s.id, this.config.venues[s.venue].data_types.includes("orderbook") ? s.symbols.length : 0]));
  }

  private natsComponent(): NatsStats {
    const restarts = this.embeddedNats?.restarts ?? 0;
    const monitor = this.nats?.snapshot() ?? { state: this.natsNeeded ? ("down" as const) : ("disabled" as const), mode: "", url: "", latency_ms: null, last_error: null };
    return { ...monitor, restarts };
  }

  private processStats(): ProcessStats {
    const heap = this.heapGuard?.report() ?? { heap_bytes: heapSize(), full_collections: 0 };
    return { rss_bytes: process.memoryUsage.rss(), ...heap };
  }

  stats(): StatsSnapshot {
    return buildStats({
      config: this.config,
      counters: this.counters,
      rates: this.rates.sample(),
      uptime_s: (Date.now() - this.started_ms) / 1000,
      process: this.processStats(),
      workers: this.workers,
      rings: this.rings.all(),
      books: this.books,
      bad_frames: this.badFrames,
      rest_queues: this.restQueues,
      book_sync: this.bookSync,
      planned_books: this.plannedBooks(),
      sync_eta_ms: (venue, waiting) => {
        const cost = getVenue(venue).rest_limits.snapshotCost?.(this.config.orderbook.snapshot_limit);
        const budget = this.restBudgets.get(venue);
        return cost === undefined || budget === undefined ? 0 : syncEtaMs(budget, cost, waiting);
      },
      rest_block: (venue) => {
        const budget = this.restBudgets.get(venue);
        return { blocked_ms: budget?.blockedMs() ?? 0, status: budget?.blockStatus ?? 0 };
      },
      shard_failures: this.shardFailures,
      overflow: this.overflow,
      nats: this.natsComponent(),
      clickhouse: this.clickhouseMonitor?.snapshot() ?? { state: "disabled", mode: "", url: "", latency_ms: null, last_error: null },
      tiering: this.tiering?.status() ?? {},
      synthetic: this.options.synthetic !== null && this.options.synthetic !== undefined,
      symbol_changes: (venue) => this.venueSymbols.get(venue)?.recent(),
      poll_overloads: (venue) => this.pollOverloads.get(venue) ?? [],
      clock_skew: (venue) => this.clockSkew.stats(venue),
    });
  }
}
