import type { Server } from "bun";
import { VENUE_KEYS, type VenueKey } from "../config/venue-keys.ts";
import { getVenueSim } from "../venues/sim-registry.ts";
import type { FeedFrame } from "./feed.ts";
import type { Shifts } from "./frame-template.ts";
import { FeedPump, type PumpFeed } from "./feed-pump.ts";
import { LiveDriver, type GeneratedRate } from "./live-feed.ts";
import type { RecordedLine } from "./recording.ts";
import { newSimConnection, type SimConnection, type SimSocket } from "./sim-connection.ts";
import { handleFaultRequest, parseFaultRequest, SimFaults, type ActiveFault, type FaultKind, type FaultRequest } from "./sim-faults.ts";
import { ReferenceBodies, type SimListing } from "./sim-rest.ts";
import type { SimEnvironment, SimProtocolOptions, SimVenue, StartSimVenue } from "./sim-venue.ts";
import { SimViolations } from "./sim-violations.ts";
import { SimRestLimits, type SimRestOptions } from "./sim-weight.ts";
import { recordingsSource, replaySource, type RecordingSource } from "./source.ts";
import { SyntheticPushes } from "./synthetic-pushes.ts";

export type { SimConnection } from "./sim-connection.ts";

/**
 * The venue simulator (SPEC section 10): one Bun.serve on loopback speaking each venue's
 * protocol subset under a path prefix per venue key, so the engine's `ws_url`/`rest_url` for
 * venue V are `ws://host:port/V` and `http://host:port/V`. Each venue's definition carries its
 * simulated server (src/venues/<venue>/sim-venue.ts: recordings, subscribe protocol, rules, the
 * paths it serves); this file routes connections and requests to them by prefix and owns what
 * every venue shares: the feeds' pacing (feed-pump.ts), REST weight limits (sim-weight.ts),
 * violations, `GET /simulator/stats`, and `POST /simulator/faults`, which makes a venue
 * misbehave for a while (sim-faults.ts). Recordings loop through feed-pump.ts; the built-in
 * generator's markets are rendered step by step as they fall due (live-feed.ts).
 */

export interface SimulatorOptions extends SimProtocolOptions {
  /** What to replay; wins over `dir`. */
  readonly source?: RecordingSource;
  /** Recordings folder; without it and `source`: `../shared/fixtures/exchanges` beside the checkout, else the generator. */
  readonly dir?: string;
  readonly host?: string;
  readonly port?: number;
  /**
   * Recorded frames per second per feed; 0 = as fast as the sockets drain. The generator takes
   * instrument steps per second per feed, or `"live"`: every instrument at its venue's own
   * cadence on the wall clock (live-feed.ts).
   */
  readonly rate?: GeneratedRate;
  /** Ms between pushes of data without a recording (mark price, DVOL, ...). */
  readonly synthetic_interval_ms?: number;
  /** REST limits: shrunken for tests, in-flight grace, ban length (sim-weight.ts). */
  readonly rest?: SimRestOptions;
  /** Wall-clock start, ms, which places loop 0 on the loop grid (feed.ts); default now. Tests pin it. */
  readonly start_ms?: number;
  /**
   * Recordings only: send no recorded frame until `release()`, so clients connect and subscribe
   * first and the first loop reaches them whole (a capture replayed against its recorded run).
   */
  readonly hold?: boolean;
}

export interface Simulator {
  /** `http://host:port` */
  readonly url: string;
  /** What it replays (RecordingSource.description). */
  readonly source: string;
  /** Data frames sent per venue key (recorded and synthetic, acks and pongs excluded). */
  readonly sent: Record<VenueKey, number>;
  /** REST requests answered per venue key. */
  readonly rest: Record<VenueKey, number>;
  /** WebSocket connections accepted per venue key since start. */
  readonly connects: Readonly<Record<VenueKey, number>>;
  /** Pongs received in answer to the servers' pings. */
  readonly pongs: { count: number };
  /** Native symbols each venue's recording carries. */
  readonly symbols: Record<VenueKey, string[]>;
  /** Venue rules clients broke, by rule (also `GET /simulator/stats`). */
  readonly violations: SimViolations;
  /** REST weight per venue as the venues count it. */
  readonly rest_limits: SimRestLimits;
  /** What the venues list in their instrument metadata (sim-rest.ts): tests delist and list instruments. */
  readonly listing: SimListing;
  connections(venue?: VenueKey): number;
  /** Closes every connection (of one venue) now, as a network drop would. Returns how many. */
  dropConnections(venue?: VenueKey): number;
  /** The next `n` frames that would reach `venue` are not sent (forces a gap). */
  skip(venue: VenueKey, n: number): void;
  /** The next `count` REST requests to `venue` get 429 with `Retry-After: retry_after_s`. */
  rateLimit(venue: VenueKey, count: number, retry_after_s: number): void;
  /**
   * Makes `venue` misbehave for `seconds` (sim-faults.ts), as `POST /simulator/faults` does.
   * Throws on a kind the venue cannot show (checksum on Binance, book faults on Deribit).
   */
  fault(request: FaultRequest): void;
  /** Faults in force now. */
  faults(): ActiveFault[];
  /** Starts the recorded feeds of a simulator started with `hold`. */
  release(): void;
  /**
   * What a replayed recording adds to `native`'s times, update ids and trade ids in the first
   * loop (feed.ts): a recorded record maps to its replayed one by these. Undefined for the
   * generator, which replays nothing.
   */
  replayShifts(venue: VenueKey, native: string): Shifts | undefined;
  /** What `kind` faults did to `venue` since start (sim-faults.ts `note`). */
  faultEffects(venue: VenueKey, kind: FaultKind): number;
  stop(): Promise<void>;
}

function counters(): Record<VenueKey, number> {
  return Object.fromEntries(VENUE_KEYS.map((k) => [k, 0])) as Record<VenueKey, number>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return new VenueSimulator(options);
}

class VenueSimulator implements Simulator {
  readonly url: string;
  readonly source: string;
  readonly sent = counters();
  readonly rest = counters();
  readonly connects = counters();
  readonly pongs = { count: 0 };
  readonly symbols: Record<VenueKey, string[]>;
  readonly violations = new SimViolations();
  readonly rest_limits: SimRestLimits;
  readonly listing: SimListing;
  private readonly injected = new SimFaults();
  private readonly all = new Set<SimSocket>();
  private readonly venues: Readonly<Record<VenueKey, SimVenue>>;
  /** Each venue's simulated server once (venue keys of one server share it), in VENUE_KEYS order. */
  private readonly servers: readonly SimVenue[];
  private readonly skips = counters();
  /** Plays the recordings; undefined when the generator drives the feeds. */
  private readonly pump: FeedPump | undefined;
  /** Renders the generator's markets as they fall due; undefined when recordings play. */
  private readonly driver: LiveDriver | undefined;
  private readonly syntheticTimer: ReturnType<typeof setInterval> | undefined;
  private readonly server: Server<SimConnection>;

  constructor(options: SimulatorOptions) {
    const source = options.source ?? (options.dir !== undefined ? recordingsSource(options.dir) : replaySource(null, false));
    // The generator's markets are served step by step (live-feed.ts), not looped from a recording.
    const assets = source.assets;
    if (options.rate === "live" && assets === undefined) throw new RangeError(`simulator: rate "live" needs the generator, not ${source.description}`);
    if (options.hold === true && assets !== undefined) throw new RangeError("simulator: hold needs a recording; the generator renders its markets on the wall clock");
    const start_ms = options.start_ms ?? Date.now();
    this.source = source.description;
    this.rest_limits = new SimRestLimits(this.violations, options.rest);
    const faults = this.injected;
    const refs = new ReferenceBodies((file: string): RecordedLine[] => source.read(file));
    this.listing = refs.listing;
    this.venues = startVenues({
      read: (file) => (assets === undefined ? source.read(file) : []),
      refs,
      assets,
      start_ms,
      violations: this.violations,
      options,
      reply(ws, text) {
        if (faults.any && faults.holds(ws.data.venue)) return false;
        ws.send(text);
        return true;
      },
      silenced: (venue) => faults.active(venue, "silence"),
      refusesSubscription: (venue, native) => faults.any && faults.refusesSubscription(venue, native),
      connections: (venue) => this.connections(venue),
    });
    this.servers = [...new Set(Object.values(this.venues))];
    this.symbols = Object.fromEntries(VENUE_KEYS.map((venue) => [venue, this.venues[venue].symbols(venue)])) as Record<VenueKey, string[]>;
    const sent = this.sent;
    // A data frame, unless a `silence` fault holds its venue, in the connection's shape.
    const send = (ws: SimSocket, text: string): void => {
      if (faults.any && faults.holds(ws.data.venue)) return;
      const shape = ws.data.session.shape;
      ws.send(shape === undefined ? text : shape(text));
      sent[ws.data.venue]++;
    };
    const host = { all: this.all, faults, send, skips: this.skips };
    if (assets === undefined) {
      const feeds = new Map(VENUE_KEYS.map((venue): [VenueKey, PumpFeed] => [venue, { feed: this.venues[venue].feed(venue), isBookUpdate: (frame) => this.venues[venue].isBookUpdate(frame) }]));
      this.pump = new FeedPump(feeds, typeof options.rate === "number" ? options.rate : 0, host, options.hold === true);
    } else {
      const isBookUpdate = (venue: VenueKey, frame: Pick<FeedFrame, "key" | "snapshot">): boolean => this.venues[venue].isBookUpdate(frame);
      const feeds = this.servers.flatMap((sim) => sim.generated);
      this.driver = new LiveDriver({ ...host, isBookUpdate }, feeds, options.rate ?? 0, start_ms);
    }
    const synthetic = new SyntheticPushes({ all: this.all, venueOf: (venue) => this.venues[venue], send });
    // At the live rate the generated feeds push these channels at their own cadence.
    if (options.rate !== "live") this.syntheticTimer = setInterval(() => synthetic.tick(Date.now()), options.synthetic_interval_ms ?? 1000);
    this.server = this.serve(options.host ?? "127.0.0.1", options.port ?? 0);
    this.url = `http://${this.server.hostname}:${this.server.port}`;
    this.pump?.start();
    this.driver?.start();
  }

  connections(venue?: VenueKey): number {
    let n = 0;
    for (const ws of this.all) if (venue === undefined || ws.data.venue === venue) n++;
    return n;
  }

  dropConnections(venue?: VenueKey): number {
    let n = 0;
    for (const ws of [...this.all]) {
      if (venue !== undefined && ws.data.venue !== venue) continue;
      ws.terminate();
      n++;
    }
    return n;
  }

  skip(venue: VenueKey, n: number): void {
    this.skips[venue] += n;
  }

  rateLimit(venue: VenueKey, count: number, retry_after_s: number): void {
    this.rest_limits.inject(venue, count, retry_after_s);
  }

  fault(request: FaultRequest): void {
    const checked = parseFaultRequest(request);
    if (typeof checked === "string") throw new RangeError(`simulator fault: ${checked}`);
    this.inject(checked);
  }

  faults(): ActiveFault[] {
    return this.injected.list();
  }

  faultEffects(venue: VenueKey, kind: FaultKind): number {
    return this.injected.effect(venue, kind);
  }

  release(): void {
    this.pump?.release();
  }

  replayShifts(venue: VenueKey, native: string): Shifts | undefined {
    return this.pump === undefined ? undefined : this.venues[venue].feed(venue).shifts(native, 0);
  }

  async stop(): Promise<void> {
    this.pump?.stop();
    this.driver?.stop();
    clearInterval(this.syntheticTimer);
    for (const sim of this.servers) sim.stop();
    for (const ws of this.all) ws.data.session.close(ws);
    await this.server.stop(true);
  }

  private inject(f: FaultRequest): void {
    this.injected.inject(f);
    if (f.kind !== "disconnect") return;
    for (const ws of [...this.all]) {
      if (ws.data.venue !== f.venue) continue;
      ws.terminate();
      this.injected.note(f.venue, "disconnect");
    }
  }

  private serve(hostname: string, port: number): Server<SimConnection> {
    const { all, pump, driver, connects, pongs } = this;
    return Bun.serve<SimConnection>({
      hostname,
      port,
      fetch: (req, srv) => {
        const url = new URL(req.url);
        if (url.pathname === "/simulator/stats") return Response.json(this.stats());
        if (url.pathname === "/simulator/faults") return handleFaultRequest(req, (f) => this.inject(f));
        const slash = url.pathname.indexOf("/", 1);
        const venue = url.pathname.slice(1, slash < 0 ? undefined : slash) as VenueKey;
        if (!VENUE_KEYS.includes(venue)) return new Response(`simulator: unknown venue in ${url.pathname}`, { status: 404 });
        const path = slash < 0 ? "/" : url.pathname.slice(slash);
        if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return this.answer(venue, path, url);
        const refused = this.injected.any ? this.injected.refuseUpgrade(venue) : undefined;
        if (refused !== undefined) return refused;
        const session = this.venues[venue].admit(venue, path, url.searchParams);
        if (session instanceof Response) return session;
        return srv.upgrade(req, { data: newSimConnection(venue, session) }) ? undefined : new Response("upgrade failed", { status: 400 });
      },
      websocket: {
        open(ws) {
          all.add(ws);
          connects[ws.data.venue]++;
          pump?.attach(ws);
          driver?.changed();
          ws.data.session.open(ws);
        },
        message(ws, message) {
          ws.data.session.message(ws, typeof message === "string" ? message : new TextDecoder().decode(message));
          driver?.changed();
        },
        pong(ws) {
          pongs.count++;
          ws.data.session.pong(ws);
        },
        close(ws) {
          ws.data.session.close(ws);
          all.delete(ws);
          pump?.detach(ws);
          driver?.changed();
        },
      },
    });
  }

  /** A REST request to `venue`: past the faults and the weight limits, the venue's answer with its used-weight headers. */
  private answer(venue: VenueKey, path: string, url: URL): Response {
    const limitedByFault = this.injected.any ? (this.injected.refuseRest(venue) ?? this.injected.failRest(venue, path)) : undefined;
    if (limitedByFault !== undefined) return limitedByFault;
    const verdict = this.rest_limits.admit(venue, `${path}${url.search}`, Date.now());
    if ("refuse" in verdict) return verdict.refuse;
    this.rest[venue]++;
    const answer = this.venues[venue].rest(venue, path, url.searchParams);
    for (const [name, value] of Object.entries(verdict.headers)) answer.headers.set(name, value);
    return answer;
  }

  /** `GET /simulator/stats`. */
  private stats(): Record<string, unknown> {
    const conns: Record<string, number> = {};
    /** Per venue, the streams each open connection is subscribed to (delivered ones). */
    const subscriptions: Record<string, number[]> = {};
    for (const ws of this.all) {
      conns[ws.data.venue] = (conns[ws.data.venue] ?? 0) + 1;
      (subscriptions[ws.data.venue] ??= []).push(ws.data.subs.size);
    }
    const stats: Record<string, unknown> = {
      violations: this.violations.rules(),
      violations_by_venue: this.violations.venues(),
      violation_details: this.violations.details(),
      connections: conns,
      subscriptions,
      connects: { ...this.connects },
      rest: { ...this.rest },
      rest_weight_peaks: this.rest_limits.peaks(),
      sent: { ...this.sent },
      faults: this.injected.list(),
      fault_effects: this.injected.effectCounts(),
    };
    for (const sim of this.servers) Object.assign(stats, sim.stats());
    return stats;
  }
}

/**
 * Starts each venue's simulated server once: venue keys that carry the same start function
 * (src/venues/sim-registry.ts) share the SimVenue it returns.
 */
function startVenues(env: SimEnvironment): Readonly<Record<VenueKey, SimVenue>> {
  const started = new Map<StartSimVenue, SimVenue>();
  const of = (venue: VenueKey): SimVenue => {
    const start = getVenueSim(venue).start;
    const sim = started.get(start) ?? start(env);
    started.set(start, sim);
    return sim;
  };
  return Object.fromEntries(VENUE_KEYS.map((venue) => [venue, of(venue)])) as Record<VenueKey, SimVenue>;
}
