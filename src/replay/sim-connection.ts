import type { ServerWebSocket } from "bun";
import type { VenueKey } from "../config/schema.ts";

/**
 * What the simulator keeps per WebSocket connection: the venue key it came in under, what it is
 * subscribed to, and the venue's session for it (SimVenue.admit, src/venues/<venue>/sim-venue.ts),
 * which holds everything venue-specific: request counts, heartbeats, lifetime timers. Declared
 * apart from simulator.ts so venue protocols never import the simulator.
 */

export interface SimConnection {
  readonly venue: VenueKey;
  /** Subscription keys (FeedFrame.key) whose frames this connection receives. */
  readonly subs: Set<string>;
  /** Keys waiting for their next snapshot frame: a book's updates are held until it (OKX). */
  readonly pending: Set<string>;
  readonly session: SimSession;
}

export type SimSocket = ServerWebSocket<SimConnection>;

/** A venue's side of one WebSocket connection, made before the handshake. */
export interface SimSession {
  /** The text a data frame goes out as on this connection (Binance `/ws`: the bare payload); undefined = as rendered. */
  readonly shape: ((text: string) => string) | undefined;
  open(ws: SimSocket): void;
  message(ws: SimSocket, text: string): void;
  /** The client answered a server ping. */
  pong(ws: SimSocket): void;
  /** The connection closed or the simulator stops: the session's timers end. Safe to call twice. */
  close(ws: SimSocket): void;
}

/** A client message as a JSON object, or undefined when it is not one. */
export function parseClientMessage(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function newSimConnection(venue: VenueKey, session: SimSession): SimConnection {
  return { venue, subs: new Set(), pending: new Set(), session };
}

/** A refused WebSocket handshake, as the venues answer one: a status and a JSON body. */
export function refuseUpgrade(status: number, body: object): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
