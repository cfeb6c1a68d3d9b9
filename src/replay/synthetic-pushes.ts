import type { VenueKey } from "../config/schema.ts";
import type { SimSocket } from "./sim-connection.ts";
import type { SimVenue } from "./sim-venue.ts";

/**
 * Pushes of channels that have no recording (mark price, liquidations, DVOL, ...), once per
 * synthetic tick, to the connections subscribed to them: each venue says which of its keys are
 * such channels and what they carry (SimVenue.push). Each text is built once per venue key and
 * subscription key per tick.
 */

export interface SyntheticSources {
  readonly all: ReadonlySet<SimSocket>;
  readonly venueOf: (venue: VenueKey) => SimVenue;
  readonly send: (ws: SimSocket, text: string) => void;
}

export class SyntheticPushes {
  private n = 0;

  constructor(private readonly src: SyntheticSources) {}

  tick(now_ms: number): void {
    const n = this.n++;
    const texts = new Map<string, string | null>();
    for (const ws of this.src.all) {
      const venue = ws.data.venue;
      for (const key of ws.data.subs) {
        const at = `${venue} ${key}`;
        let text = texts.get(at);
        if (text === undefined) {
          text = this.src.venueOf(venue).push(venue, key, now_ms, n);
          texts.set(at, text);
        }
        if (text !== null) this.src.send(ws, text);
      }
    }
  }
}
