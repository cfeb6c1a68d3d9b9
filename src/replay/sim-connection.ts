import type { ServerWebSocket } from "bun";
import type { VenueKey } from "../config/schema.ts";
import type { BinanceSimSocket } from "../venues/binance/sim-protocol.ts";
import type { SimViolations } from "./sim-violations.ts";

/**
 * What the simulator keeps per WebSocket connection, and what a venue's simulator protocol
 * (src/venues/<venue>/sim-protocol.ts) gets from the simulator. Declared apart from
 * simulator.ts so venue protocols do not import the simulator.
 */

export interface SimConnection {
  readonly venue: VenueKey;
  readonly subs: Set<string>;
  /** OKX books keys waiting for their next snapshot push. */
  readonly pending: Set<string>;
  heartbeat: ReturnType<typeof setInterval> | undefined;
  awaitingTest: boolean;
  /** When the client last sent anything (Date.now() ms): OKX closes idle connections. */
  last_client_ms: number;
  /** Times of the subscribe/unsubscribe/login requests of the last hour (OKX), oldest first. */
  readonly requests: number[];
  /** The client logged in (OKX `op: login`). */
  logged_in: boolean;
  /** Binance sockets: route, payload form, rate and lifetime (venues/binance/sim-protocol.ts). */
  readonly binance: BinanceSimSocket | undefined;
}

export type SimSocket = ServerWebSocket<SimConnection>;

export interface SimProtocolContext {
  readonly violations: SimViolations;
  /** Sends a control message (ack, pong, error, heartbeat) unless a `silence` fault holds the venue; false when held. */
  readonly reply: (ws: SimSocket, text: string) => boolean;
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

export function newSimConnection(venue: VenueKey, binance: BinanceSimSocket | undefined, now_ms: number): SimConnection {
  return { venue, subs: new Set(), pending: new Set(), heartbeat: undefined, awaitingTest: false, last_client_ms: now_ms, requests: [], logged_in: false, binance };
}

/** A refused WebSocket handshake, as the venues answer one: 429 and a JSON body. */
export function refuseUpgrade(status: number, body: object): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
