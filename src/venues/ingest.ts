import type { VenueConfig, VenueKey } from "../config/schema.ts";
import type { DataType, GapCause, MarketRecord } from "../records/types.ts";
import type { CaptureWriter } from "../replay/capture.ts";
import { BinanceConnection } from "./binance/connection.ts";
import { binanceDepthPath, binancePolls, binancePremiumIndexPath, type BinanceVenue } from "./binance/channels.ts";
import { deribitVolatilityIndexPath } from "./deribit/channels.ts";
import { DERIBIT_WORKER_REQUESTS_PER_S } from "./deribit/limits.ts";
import { PacedRequests } from "./connection/paced-requests.ts";
import { BucketDedup, BucketPoller, periodMs, type PollTask } from "./connection/bucket-poller.ts";
import { RestBudget, scaleLimits, type RestLimitScale } from "./connection/rest-budget.ts";
import { RestClient, type RestClientStats, type RestLimitIncident } from "./connection/rest-client.ts";
import { splitConnectLimit } from "./connection/connect-share.ts";
import {
  DEFAULT_TUNING,
  type ConnectionContext,
  type ConnectionIncident,
  type ConnectionTuning,
  type VenueConnection,
  type VenueErrorEvent,
} from "./connection/venue-connection.ts";
import type { WindowLimiter } from "./connection/window-limiter.ts";
import type { WsGap } from "./connection/ws-client.ts";
import { DeribitConnection } from "./deribit/connection.ts";
import { INSTRUMENT_PATHS, parseInstrumentBodies } from "./instruments.ts";
import { OkxConnection } from "./okx/connection.ts";
import { okxPolls } from "./okx/channels.ts";
import { getVenue } from "./registry.ts";
import type { Instrument, InstrumentMap, Normalizer } from "./types.ts";

/** Shortest interval between two depth snapshot requests for one symbol, ms. */
const SNAPSHOT_MIN_INTERVAL_MS = 1000;
/**
 * Start does not wait out a long block (a 418 ban lasts up to 3 days): past this the worker
 * fails naming the block, and its restarts find the block in the venue's shared budget and
 * send nothing until it ends.
 */
const INSTRUMENTS_MAX_BLOCK_MS = 60_000;

/**
 * One venue's intake for one ingest worker: instrument metadata from REST, the venue's
 * connections, the normalizer fed with every frame, REST depth snapshots and OKX book
 * resubscriptions on the normalizer's request, bucket-aligned REST polls, and a `gap` record
 * per (symbol, data type) for every hole a reconnect leaves.
 */

export interface IngestStats {
  messagesIn(n: number, last_message_ms: number): void;
  reconnect(): void;
  /** A failed REST call, a stale channel or a closed connection, by channel. */
  error(channel: string, detail?: string): void;
  /** The venue closed, retired or starved a connection (logged once by the caller). */
  incident?(incident: ConnectionIncident): void;
  /** An error reply from the venue or a venue limit reached (counted; incidents go to `incident`). */
  venueError?(event: VenueErrorEvent): void;
}

export interface IngestOptions {
  readonly venue: VenueKey;
  readonly config: VenueConfig;
  /** Native symbols of this worker's shard. */
  readonly symbols: readonly string[];
  readonly orderbook: { readonly depth: number; readonly snapshot_interval_ms: number; readonly snapshot_limit: number };
  readonly emit: (record: MarketRecord) => void;
  readonly stats?: IngestStats;
  readonly record?: CaptureWriter;
  readonly tuning?: Partial<ConnectionTuning>;
  /** Ms after a bucket closes before it is polled. */
  readonly poll_delay_ms?: number;
  /**
   * Ms after start before the first poll: Binance open-interest values are priced with the
   * mark price from the socket, so the socket gets a head start.
   */
  readonly first_poll_delay_ms?: number;
  /**
   * This thread's share of the venue's connection-attempt limit (connect-share.ts); without
   * one the runner takes the whole limit, as the only thread of its venue family.
   */
  readonly connect_limiter?: WindowLimiter;
  readonly rest?: IngestRestOptions;
}

/** How this runner's REST joins the venue's: the shared budget, stats, and incident reports. */
export interface IngestRestOptions {
  /** The venue's budget memory (supervisor-owned, shared by its ingest threads); private when absent. */
  readonly budget?: SharedArrayBuffer;
  readonly stats?: RestClientStats;
  readonly onIncident?: (incident: RestLimitIncident) => void;
  /** Shrinks the venue's documented limits (tests; the simulator takes the same scale). */
  readonly scale?: RestLimitScale;
}

export class InstrumentFetchError extends Error {}

export class IngestRunner {
  normalizer: Normalizer | undefined;
  connection: VenueConnection | undefined;
  poller: BucketPoller | undefined;
  readonly rest: RestClient;
  private readonly tuning: ConnectionTuning;
  private readonly snapshotsInFlight = new Set<string>();
  /** When each symbol's last depth snapshot was asked for (Date.now() ms). */
  private readonly lastSnapshotAsk = new Map<string, number>();
  private dedup: BucketDedup | undefined;
  /** Set while a poll body is pushed: records emitted then are bucket-deduplicated. */
  private polling = false;
  private stopped = false;
  private firstPoll: ReturnType<typeof setTimeout> | undefined;
  /** Deribit backfills: one at a time, paced under the IP's connection cap and credit pool. */
  private readonly backfills = new PacedRequests(DERIBIT_WORKER_REQUESTS_PER_S, 1000);
  /** This worker's symbols now: the shard it started with, changed by instrument refreshes. */
  private readonly symbols: string[];
  /** Instrument metadata, with the instruments refreshes add. */
  private readonly instruments = new Map<string, Instrument>();
  /** The poller's tasks, rebuilt in place when the symbols change. */
  private readonly tasks: PollTask[] = [];

  constructor(private readonly options: IngestOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.symbols = [...options.symbols];
    const limits = getVenue(options.venue).rest_limits;
    const rest = options.rest ?? {};
    this.rest = new RestClient({
      base_url: options.config.rest_url,
      limits,
      budget: new RestBudget(scaleLimits(limits.buckets, rest.scale), rest.budget),
      timeout_ms: this.tuning.rest_timeout_ms,
      ...(rest.stats === undefined ? {} : { stats: rest.stats }),
      ...(rest.onIncident === undefined ? {} : { onIncident: rest.onIncident }),
    });
  }

  async start(): Promise<void> {
    const { venue, config } = this.options;
    for (const [native, inst] of await this.fetchInstruments()) this.instruments.set(native, inst);
    const instruments = this.instruments;
    const period_ms = periodMs(config.poll_period);
    this.dedup = new BucketDedup(period_ms);
    this.normalizer = getVenue(venue).createNormalizer({
      symbols: this.symbols,
      data_types: config.data_types,
      depth: this.options.orderbook.depth,
      snapshot_interval_ms: this.options.orderbook.snapshot_interval_ms,
      instruments,
      emit: (r) => this.emitRecord(r),
    });
    const ctx: ConnectionContext = {
      venue,
      config,
      symbols: this.symbols,
      instruments,
      tuning: this.tuning,
      onFrame: (text, recv, url) => this.frame(text, recv, url),
      onGap: (gap, symbols, data_types) => {
        this.gap(gap, symbols, instruments, data_types);
        this.recover(gap, symbols, data_types);
      },
      onDisconnect: (recv, data_types) => {
        this.options.stats?.reconnect();
        // Books restart only when the lost connection carried them (USDⓈ-M books ride /public alone).
        if (data_types === undefined || data_types.includes("orderbook")) this.normalizer?.connectionLost(recv);
      },
      onIncident: (incident) => this.options.stats?.incident?.(incident),
      onVenueError: (event) => {
        this.options.stats?.venueError?.(event);
        if (event.first) this.options.stats?.incident?.({ kind: "refused", url: event.url, detail: `${event.code} ${event.msg}`, next: event.next });
      },
      ...this.connectLimiter(),
      onStale: (channel) => {
        this.options.stats?.error(channel);
        // A silent mark-price stream falls back to REST premiumIndex (SPEC section 1).
        if (venue === "binance_derivatives" && channel.includes("@markprice")) void this.fetchInto(this.premiumIndexUrl(channel.split("@")[0]?.toUpperCase() ?? ""), "premiumIndex");
      },
    };
    this.connection = venue.startsWith("binance") ? new BinanceConnection(ctx) : venue.startsWith("okx") ? new OkxConnection(ctx) : new DeribitConnection(ctx);
    this.connection.start();
    this.tasks.push(...this.pollTasks(instruments));
    const tasks = this.tasks;
    if (tasks.length > 0) {
      this.poller = new BucketPoller({
        period_ms,
        delay_ms: this.options.poll_delay_ms ?? 5_000,
        tasks,
        rest: this.rest,
        onBody: (task, body, recv) => this.pollBody(task, body, recv),
        onError: (task, error) => this.options.stats?.error(task.key, error),
      });
      const poller = this.poller;
      this.firstPoll = setTimeout(() => !this.stopped && poller.start(), this.options.first_poll_delay_ms ?? 2_000);
    }
  }

  /**
   * Instrument refresh (src/supervisor/instrument-refresh.ts): subscribes `add` on the live
   * connections (their books sync as at start) and drops `remove`; other symbols' connections
   * and books are left alone. Called only after `start`.
   */
  changeSymbols(add: readonly Instrument[], remove: readonly string[]): void {
    for (const inst of add) this.instruments.set(inst.native, inst);
    const dropped = new Set(remove.filter((n) => this.symbols.includes(n)));
    const added = [...new Set(add.map((i) => i.native))].filter((n) => !this.symbols.includes(n) && !dropped.has(n));
    const kept = this.symbols.filter((n) => !dropped.has(n));
    this.symbols.splice(0, this.symbols.length, ...kept, ...added);
    for (const n of dropped) this.lastSnapshotAsk.delete(n);
    this.normalizer?.setSymbols?.(this.symbols);
    this.connection?.changeSymbols?.(added, [...dropped]);
    this.tasks.splice(0, this.tasks.length, ...this.pollTasks(this.instruments));
  }

  private connectLimiter(): { connect_limiter?: WindowLimiter } {
    if (this.options.connect_limiter !== undefined) return { connect_limiter: this.options.connect_limiter };
    const limit = getVenue(this.options.venue).connect_limit;
    return limit === undefined ? {} : { connect_limiter: splitConnectLimit(limit, 1) };
  }

  /** Closes the sockets and stops polling; resolves once everything is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.firstPoll);
    this.rest.stop();
    this.backfills.stop();
    await Promise.all([this.connection?.stop(), this.poller?.stop()]);
    await this.options.record?.close();
  }

  private emitRecord(record: MarketRecord): void {
    if (this.polling && record.data_type !== "gap" && this.dedup && !this.dedup.accept(`${record.symbol}|${record.data_type}`, record.ts_ms)) return;
    this.options.emit(record);
  }

  private frame(text: string, recv: number, url: string): void {
    this.options.record?.write("ws", url, recv, text);
    this.options.stats?.messagesIn(1, recv);
    const normalizer = this.normalizer;
    if (!normalizer) return;
    normalizer.push({ source: "ws", url, recv_ts_ms: recv, raw: text });
    this.serviceRequests(normalizer);
  }

  private serviceRequests(normalizer: Normalizer): void {
    const wanted = normalizer.takeSnapshotRequests();
    for (const native of wanted) void this.snapshot(native);
    const books = normalizer.takeResubscribeRequests();
    if (books.length > 0) this.connection?.resubscribeBooks?.(books);
  }

  private async snapshot(native: string): Promise<void> {
    // A symbol an instrument refresh dropped is not asked for again (its depth may be refused now).
    if (this.snapshotsInFlight.has(native) || !this.options.venue.startsWith("binance") || !this.symbols.includes(native)) return;
    this.snapshotsInFlight.add(native);
    // A reply that does not sync the book (unreadable, or a chain that breaks again at once)
    // asks for the next snapshot on the next frame: at most one request per symbol a second,
    // so a bad reply never turns into a request loop against the venue's rate limits.
    const wait_ms = (this.lastSnapshotAsk.get(native) ?? Number.NEGATIVE_INFINITY) + SNAPSHOT_MIN_INTERVAL_MS - Date.now();
    if (wait_ms > 0) await Bun.sleep(wait_ms);
    if (this.stopped) return;
    this.lastSnapshotAsk.set(native, Date.now());
    const url = `${this.options.config.rest_url}${binanceDepthPath(this.options.venue as BinanceVenue, native, this.options.orderbook.snapshot_limit)}`;
    const result = await this.rest.get(url, "snapshot");
    this.snapshotsInFlight.delete(native);
    if (this.stopped || !this.normalizer) return;
    if (!result.ok) {
      this.options.stats?.error("depth", `${result.status} ${result.error}`);
      // Ask again on the next frame: the normalizer still needs the snapshot.
      setTimeout(() => !this.stopped && void this.snapshot(native), SNAPSHOT_MIN_INTERVAL_MS);
      return;
    }
    this.http(url, result.body, result.recv_ts_ms);
  }

  /**
   * What REST can give back after a socket hole: Deribit's volatility index history for the
   * hole (1 s candles, SPEC section 1 "REST for backfill"), and Binance's current mark price and
   * funding (premiumIndex) so funding records resume at once instead of at the next push.
   */
  private recover(gap: WsGap, natives: readonly string[], data_types: readonly DataType[] | undefined): void {
    const { venue, config } = this.options;
    if (venue === "deribit_derivatives" && config.data_types.includes("volatility_index")) {
      for (const currency of natives) {
        const url = `${config.rest_url}${deribitVolatilityIndexPath(currency, gap.start_ts_ms, gap.end_ts_ms, "1")}`;
        this.backfills.run(() => this.fetchInto(url, "get_volatility_index_data"));
      }
    }
    if (venue === "binance_derivatives" && config.data_types.includes("funding_rate") && (data_types?.includes("funding_rate") ?? true)) {
      for (const native of natives) void this.fetchInto(this.premiumIndexUrl(native), "premiumIndex");
    }
  }

  private premiumIndexUrl(native: string): string {
    return `${this.options.config.rest_url}${binancePremiumIndexPath(native)}`;
  }

  /** GETs `url` and feeds the body to the normalizer; a failure is counted on `channel`. */
  private async fetchInto(url: string, channel: string): Promise<void> {
    const result = await this.rest.get(url, "other");
    if (this.stopped) return;
    if (!result.ok) {
      this.options.stats?.error(channel, `${result.status} ${result.error}`);
      return;
    }
    this.http(url, result.body, result.recv_ts_ms);
  }

  private http(url: string, body: string, recv: number): void {
    const normalizer = this.normalizer;
    if (!normalizer) return;
    this.options.record?.write("http", url, recv, body);
    normalizer.push({ source: "http", url, recv_ts_ms: recv, raw: body });
    this.serviceRequests(normalizer);
  }

  private pollBody(task: PollTask, body: string, recv: number): void {
    this.polling = true;
    this.http(task.url, body, recv);
    this.polling = false;
  }

  private pollTasks(instruments: InstrumentMap): PollTask[] {
    const { venue, config } = this.options;
    const symbols = this.symbols;
    const polls = venue.startsWith("binance")
      ? binancePolls(venue as BinanceVenue, symbols, config.data_types, config.poll_period)
      : venue.startsWith("okx")
        ? okxPolls(symbols, config.data_types, config.poll_period, instruments)
        : [];
    return polls.map((p) => ({ key: `${p.native}/${p.data_type}`, url: `${config.rest_url}${p.path}` }));
  }

  private gap(gap: WsGap, natives: readonly string[], instruments: InstrumentMap, carried: readonly DataType[] | undefined): void {
    const def = getVenue(this.options.venue);
    const types: DataType[] = this.options.config.data_types.filter((t) => !isPolled(t, this.options.venue) && (carried?.includes(t) ?? true));
    for (const native of natives) {
      const inst = instruments.get(native);
      const symbol = inst?.symbol ?? native;
      const market_type = inst?.market_type ?? (this.options.venue === "deribit_derivatives" ? "options" : "spot");
      for (const t of types) {
        this.options.emit({
          data_type: "gap",
          exchange: def.exchange,
          market_type,
          symbol,
          ts_ms: gap.end_ts_ms,
          recv_ts_ms: gap.end_ts_ms,
          data_type_affected: t,
          start_ts_ms: gap.start_ts_ms,
          end_ts_ms: gap.end_ts_ms,
          cause: gap.cause satisfies GapCause,
        });
      }
    }
  }

  private async fetchInstruments(): Promise<InstrumentMap> {
    const { venue, config } = this.options;
    const bodies: string[] = [];
    for (const path of INSTRUMENT_PATHS[venue]) {
      const url = `${config.rest_url}${path}`;
      const result = await this.rest.get(url, "other", INSTRUMENTS_MAX_BLOCK_MS);
      if (!result.ok) throw new InstrumentFetchError(`${venue}: instrument metadata ${url} failed: ${result.status} ${result.error}`);
      this.options.record?.write("http", url, result.recv_ts_ms, result.body);
      bodies.push(result.body);
    }
    return parseInstrumentBodies(venue, bodies);
  }
}

/** REST-polled types see no socket gap: their buckets are fetched regardless of the socket. */
function isPolled(t: DataType, venue: VenueKey): boolean {
  if (t === "lsr_top_position" || t === "lsr_all_account") return true;
  return t === "open_interest" && venue.startsWith("binance");
}
