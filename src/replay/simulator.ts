import type { Server } from "bun";
import { VENUE_KEYS, type VenueKey } from "../config/schema.ts";
import { BinanceReplay } from "./binance-replay.ts";
import { DeribitReplay } from "./deribit-replay.ts";
import type { FeedFrame, ReplayFeed } from "./feed.ts";
import { OkxReplay } from "./okx-replay.ts";
import { replaySource, recordingsSource, type RecordingSource } from "./source.ts";
import { binanceRest, deribitRest, okxRest, ReferenceBodies, type RestContext, type SimListing } from "./sim-rest.ts";
import { SyntheticPushes } from "./synthetic-pushes.ts";
import { SimViolations } from "./sim-violations.ts";
import { newSimConnection, type SimConnection, type SimSocket } from "./sim-connection.ts";
import { handleFaultRequest, isBookUpdate, parseFaultRequest, SimFaults, type ActiveFault, type FaultKind, type FaultRequest } from "./sim-faults.ts";
import { BinanceSimProtocol, rawPayload, type BinanceSimSocket } from "../venues/binance/sim-protocol.ts";
import { OkxSimProtocol } from "../venues/okx/sim-protocol.ts";
import { DeribitSimProtocol } from "../venues/deribit/sim-protocol.ts";
import { SimRestLimits, type SimRestOptions } from "./sim-weight.ts";
import { LiveDriver, type GeneratedRate } from "./live-feed.ts";

export type { SimConnection } from "./sim-connection.ts";

/**
 * The venue simulator (SPEC section 10): one Bun.serve on loopback speaking each venue's
 * protocol subset under a path prefix per venue key, so the engine's `ws_url`/`rest_url` for
 * venue V are `ws://host:port/V` and `http://host:port/V`:
 *   /binance_spot/{ws,stream}               /binance_spot/api/v3/{depth,exchangeInfo}
 *   /binance_derivatives/{public,market}/{ws,stream}   /binance_derivatives/fapi/v1/…, /futures/data/…
 *   /okx_spot|okx_derivatives/ws/v5/public  …/api/v5/public/…, …/api/v5/rubik/…
 *   /deribit_derivatives/ws/api/v2          …/api/v2/public/…
 * Each recording loops through one cursor per feed (okx_spot and okx_derivatives share the OKX
 * feed), paced at `rate` frames/s or as fast as the sockets drain; a frame goes to every
 * connection subscribed to its key. A feed advances only while it has connections.
 * `GET /simulator/stats` counts the venue rules clients broke; `POST /simulator/faults` makes a
 * venue misbehave for a while (sim-faults.ts).
 */

export interface SimulatorOptions {
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
  /** Ms between the WebSocket pings Binance's server sends (0 = none). */
  readonly binance_ping_interval_ms?: number;
  /** Lifetime of a Binance connection, ms (default 24 h; `serverShutdown` comes before the close). */
  readonly binance_lifetime_ms?: number;
  /** Binance connection attempts allowed per venue in a window (default 300 per 5 min). */
  readonly binance_connect_limit?: { readonly max: number; readonly window_ms: number };
  /** Ms of client silence after which OKX closes a connection (30 s; tests shorten it). */
  readonly okx_idle_ms?: number;
  /** REST limits: shrunken for tests, in-flight grace, ban length (sim-weight.ts). */
  readonly rest?: SimRestOptions;
  /** Wall-clock start, ms, which places loop 0 on the loop grid (feed.ts); default now. Tests pin it. */
  readonly start_ms?: number;
}

type Socket = SimSocket;

export interface Simulator {
  /** `http://host:port` */
  readonly url: string;
  /** What it replays (RecordingSource.description). */
  readonly source: string;
  /** Data frames sent per venue key (recorded and synthetic, acks and pongs excluded). */
  readonly sent: Record<VenueKey, number>;
  /** REST requests answered per venue key. */
  readonly rest: Record<VenueKey, number>;
  /** Pongs received in answer to the Binance pings. */
  readonly pongs: { count: number };
  /** Native symbols each venue's recording carries. */
  readonly symbols: Record<VenueKey, string[]>;
  /** Venue rules clients broke, by rule (also `GET /simulator/stats`). */
  readonly violations: SimViolations;
  /** Binance connection attempts accepted, per venue. */
  readonly binanceConnects: Readonly<Record<"binance_spot" | "binance_derivatives", number>>;
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
  /** What `kind` faults did to `venue` since start (sim-faults.ts `note`). */
  faultEffects(venue: VenueKey, kind: FaultKind): number;
  stop(): Promise<void>;
}

const FEED_OF: Record<VenueKey, string> = {
  binance_spot: "binance_spot",
  binance_derivatives: "binance_derivatives",
  okx_spot: "okx",
  okx_derivatives: "okx",
  deribit_derivatives: "deribit",
};
/** A socket holding more than this many unsent bytes pauses its feed (backpressure, not loss). */
const MAX_BUFFERED_BYTES = 4 << 20;
/** Ms between pump passes while no client is connected. */
const IDLE_PUMP_MS = 50;
/** Frames per feed per tick at the maximum rate, so one tick never starves the event loop. */
const MAX_BURST = 2000;

class FeedCursor {
  loop = 0;
  index = 0;
  /** This loop's text per frame, rendered on first send (frames nobody subscribes to never are). */
  private readonly texts: (string | undefined)[];
  readonly conns = new Set<Socket>();
  /** Pacing origin for a fixed rate, reset when the feed resumes. */
  origin_ms = 0;
  emitted = 0;
  constructor(readonly feed: ReplayFeed) {
    this.texts = new Array<string | undefined>(feed.frames.length).fill(undefined);
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

function counters(): Record<VenueKey, number> {
  return Object.fromEntries(VENUE_KEYS.map((k) => [k, 0])) as Record<VenueKey, number>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const source = options.source ?? (options.dir !== undefined ? recordingsSource(options.dir) : replaySource(null, false));
  const rate = typeof options.rate === "number" ? options.rate : 0;
  const start_ms = options.start_ms ?? Date.now();
  // The generator's markets are served step by step (live-feed.ts), not looped from a recording.
  const generated = source.generated?.(options.rate === "live");
  if (options.rate === "live" && generated === undefined) throw new RangeError(`simulator: rate "live" needs the generator, not ${source.description}`);
  const data = (file: string) => (generated === undefined ? source.read(file) : []);
  const spot = new BinanceReplay(data("binance_spot.jsonl"), false, start_ms);
  const futures = new BinanceReplay(data("binance_derivatives.jsonl"), true, start_ms);
  const okx = new OkxReplay(data("okx.jsonl"), start_ms);
  const deribit = new DeribitReplay(data("deribit.jsonl"), start_ms);
  const cursors = new Map<string, FeedCursor>([
    ["binance_spot", new FeedCursor(spot)],
    ["binance_derivatives", new FeedCursor(futures)],
    ["okx", new FeedCursor(okx)],
    ["deribit", new FeedCursor(deribit)],
  ]);
  const refs = new ReferenceBodies(source);
  const ctx: RestContext = { now: Date.now, binance: generated?.binance ?? new Map([["binance_spot", spot], ["binance_derivatives", futures]]), okx: generated?.okx ?? okx };
  const sent = counters();
  const rest = counters();
  const skips = counters();
  const pongs = { count: 0 };
  const violations = new SimViolations();
  const binance = new BinanceSimProtocol(violations, {
    ...(options.binance_lifetime_ms === undefined ? {} : { lifetime_ms: options.binance_lifetime_ms }),
    ...(options.binance_connect_limit === undefined ? {} : { connect_limit: options.binance_connect_limit }),
  });
  const faults = new SimFaults();
  const restLimits = new SimRestLimits(violations, options.rest);
  const all = new Set<Socket>();
  const send = (ws: Socket, text: string): void => {
    if (faults.any && faults.holds(ws.data.venue)) return;
    ws.send(ws.data.binance?.raw === true ? rawPayload(text) : text);
    sent[ws.data.venue]++;
  };
  const reply = (ws: Socket, text: string): boolean => {
    if (faults.any && faults.holds(ws.data.venue)) return false;
    ws.send(text);
    return true;
  };
  const okxProtocol = new OkxSimProtocol({ violations, reply }, { ...(options.okx_idle_ms === undefined ? {} : { idle_ms: options.okx_idle_ms }) });
  const deribitProtocol = new DeribitSimProtocol({ violations, reply }, refs);
  const injectFault = (f: FaultRequest): void => {
    faults.inject(f);
    if (f.kind !== "disconnect") return;
    for (const ws of [...all]) {
      if (ws.data.venue !== f.venue) continue;
      ws.terminate();
      faults.note(f.venue, "disconnect");
    }
  };
  const synthetic = new SyntheticPushes({ all, futures: generated?.binance.get("binance_derivatives") ?? futures, okx: generated?.okx ?? okx, send });
  const driver = generated === undefined ? undefined : new LiveDriver({ all, send, faults, skips }, generated.feeds, options.rate ?? 0, start_ms);

  const server: Server<SimConnection> = Bun.serve<SimConnection>({
    hostname: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/simulator/stats") return Response.json(simulatorStats());
      if (url.pathname === "/simulator/faults") return handleFaultRequest(req, injectFault);
      const slash = url.pathname.indexOf("/", 1);
      const venue = url.pathname.slice(1, slash < 0 ? undefined : slash) as VenueKey;
      if (!VENUE_KEYS.includes(venue)) return new Response(`simulator: unknown venue in ${url.pathname}`, { status: 404 });
      const path = slash < 0 ? "/" : url.pathname.slice(slash);
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
        const refused =
          (faults.any ? faults.refuseUpgrade(venue) : undefined) ??
          (venue === "okx_spot" || venue === "okx_derivatives"
            ? okxProtocol.admit(venue)
            : venue === "deribit_derivatives"
              ? deribitProtocol.admit([...all].filter((ws) => ws.data.venue === venue).length)
              : undefined);
        if (refused !== undefined) return refused;
        let b: BinanceSimSocket | undefined;
        if (venue === "binance_spot" || venue === "binance_derivatives") {
          const up = binance.upgrade(venue, path, url.searchParams);
          if (up instanceof Response) return up;
          b = up;
        }
        const data: SimConnection = newSimConnection(venue, b, Date.now());
        return srv.upgrade(req, { data }) ? undefined : new Response("upgrade failed", { status: 400 });
      }
      const limitedByFault = faults.any ? faults.refuseRest(venue) : undefined;
      if (limitedByFault !== undefined) return limitedByFault;
      const verdict = restLimits.admit(venue, `${path}${url.search}`, Date.now());
      if ("refuse" in verdict) return verdict.refuse;
      rest[venue]++;
      const answer =
        generated?.rest(venue, path, url.searchParams, Date.now(), refs.listing.unlisted) ??
        (venue.startsWith("binance")
        ? binanceRest(venue, path, url.searchParams, ctx, refs)
        : venue.startsWith("okx")
          ? okxRest(path, url.searchParams, ctx, refs)
          : deribitRest(path, url.searchParams, ctx, refs));
      for (const [name, value] of Object.entries(verdict.headers)) answer.headers.set(name, value);
      return answer;
    },
    websocket: {
      open(ws) {
        all.add(ws);
        driver?.changed();
        if (all.size === 1 && !stopped && driver === undefined) {
          // The pump may be in its idle wait: start the stream now.
          clearTimeout(timer);
          pump();
        }
        const cursor = cursors.get(FEED_OF[ws.data.venue]);
        if (cursor && cursor.conns.size === 0) {
          cursor.origin_ms = performance.now();
          cursor.emitted = 0;
        }
        cursor?.conns.add(ws);
        if (ws.data.binance) binance.open(ws, ws.data.binance);
      },
      message(ws, message) {
        const text = typeof message === "string" ? message : new TextDecoder().decode(message);
        const venue = ws.data.venue;
        if (ws.data.binance) binance.message(ws, ws.data.binance, text);
        else if (venue.startsWith("okx")) okxProtocol.message(ws, text);
        else deribitProtocol.message(ws, text);
        driver?.changed();
      },
      pong(ws) {
        pongs.count++;
        if (ws.data.binance) binance.pong(ws, ws.data.binance);
      },
      close(ws) {
        if (ws.data.binance) binance.close(ws.data.binance);
        all.delete(ws);
        driver?.changed();
        clearInterval(ws.data.heartbeat);
        cursors.get(FEED_OF[ws.data.venue])?.conns.delete(ws);
      },
    },
  });

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pump = (): void => {
    if (stopped) return;
    let sentAny = false;
    for (const cursor of cursors.values()) if (pumpFeed(cursor)) sentAny = true;
    // At the maximum rate, go again at once while frames flow; a pass that sent nothing (every
    // feed paced or held back by a full socket) waits a millisecond instead of spinning. With
    // no client connected the pass waits IDLE_PUMP_MS (polling every millisecond cost ~1.3 %
    // of a core per idle simulator); `open` starts it at once when a client connects.
    const delay = all.size === 0 ? IDLE_PUMP_MS : rate === 0 && sentAny ? 0 : rate === 0 ? 1 : 5;
    timer = setTimeout(pump, delay);
  };

  /** Sends the feed's next burst; false when it sent nothing. */
  function pumpFeed(cursor: FeedCursor): boolean {
    if (cursor.conns.size === 0 || cursor.feed.frames.length === 0) return false;
    for (const ws of cursor.conns) if (ws.getBufferedAmount() > MAX_BUFFERED_BYTES) return false;
    let budget = MAX_BURST;
    if (rate > 0) {
      const due = Math.floor(((performance.now() - cursor.origin_ms) * rate) / 1000) - cursor.emitted;
      budget = Math.min(budget, due);
    }
    if (budget <= 0) return false;
    // One cork per connection per burst: the burst's frames leave in one write, not one each.
    const corked = [...cursor.conns];
    const burst = (i: number): void => {
      const ws = corked[i];
      if (ws === undefined) sendBurst(cursor, budget);
      else ws.cork(() => burst(i + 1));
    };
    burst(0);
    return true;
  }

  function sendBurst(cursor: FeedCursor, budget: number): void {
    const frames = cursor.feed.frames;
    for (let n = 0; n < budget; ) {
      const index = cursor.index;
      const frame = frames[index];
      if (frame !== undefined) {
        let skipped: VenueKey | undefined;
        const bookFault = faults.any && isBookUpdate(frame);
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

  // At the live rate the generated feeds push these channels at their own cadence.
  const syntheticTimer = generated?.pushes_side_channels === true ? undefined : setInterval(() => synthetic.tick(Date.now()), options.synthetic_interval_ms ?? 1000);
  const pingEvery = options.binance_ping_interval_ms ?? 20_000;
  const pingTimer =
    pingEvery > 0
      ? setInterval(() => {
          for (const ws of all) if (ws.data.venue.startsWith("binance") && !faults.active(ws.data.venue, "silence")) ws.ping();
        }, pingEvery)
      : undefined;
  const idleTimer = setInterval(() => okxProtocol.closeIdle(all, Date.now()), Math.min(1000, Math.max(10, okxProtocol.idle_ms / 4)));
  if (driver === undefined) pump();
  else driver.start();

  function simulatorStats(): Record<string, unknown> {
    const conns: Record<string, number> = {};
    const subscriptions: Record<string, number[]> = {};
    for (const ws of all) {
      conns[ws.data.venue] = (conns[ws.data.venue] ?? 0) + 1;
      (subscriptions[ws.data.venue] ??= []).push(ws.data.subs.size);
    }
    return {
      violations: violations.rules(),
      violations_by_venue: violations.venues(),
      connections: conns,
      /** Per venue, the streams each open connection is subscribed to (delivered ones). */
      subscriptions,
      rest: { ...rest },
      rest_weight_peaks: restLimits.peaks(),
      sent: { ...sent },
      binance_connects: { ...binance.connects },
      peak_incoming_per_s: { ...binance.peak_incoming_per_s },
      faults: faults.list(),
      fault_effects: faults.effectCounts(),
    };
  }

  const symbols = generated?.symbols ?? {
    binance_spot: [...spot.symbols],
    binance_derivatives: [...futures.symbols],
    okx_spot: okx.instruments.filter((i) => i.split("-").length === 2),
    okx_derivatives: okx.instruments.filter((i) => i.endsWith("-SWAP")),
    deribit_derivatives: ["BTC", "ETH"],
  };

  return {
    url: `http://${server.hostname}:${server.port}`,
    source: source.description,
    sent,
    rest,
    pongs,
    symbols,
    violations,
    binanceConnects: binance.connects,
    rest_limits: restLimits,
    listing: refs.listing,
    connections: (venue) => [...all].filter((ws) => venue === undefined || ws.data.venue === venue).length,
    dropConnections(venue) {
      let n = 0;
      for (const ws of [...all]) {
        if (venue !== undefined && ws.data.venue !== venue) continue;
        ws.terminate();
        n++;
      }
      return n;
    },
    skip(venue, n) {
      skips[venue] += n;
    },
    rateLimit(venue, count, retry_after_s) {
      restLimits.inject(venue, count, retry_after_s);
    },
    fault(request) {
      const checked = parseFaultRequest(request);
      if (typeof checked === "string") throw new RangeError(`simulator fault: ${checked}`);
      injectFault(checked);
    },
    faults: () => faults.list(),
    faultEffects: (venue, kind) => faults.effect(venue, kind),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      driver?.stop();
      clearInterval(syntheticTimer);
      clearInterval(pingTimer);
      clearInterval(idleTimer);
      for (const ws of all) {
        clearInterval(ws.data.heartbeat);
        if (ws.data.binance) binance.close(ws.data.binance);
      }
      await server.stop(true);
    },
  };
}
