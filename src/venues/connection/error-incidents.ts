import type { VenueErrorEvent } from "./venue-connection.ts";

/**
 * Error events of one connection grouped into incidents: an incident is a run of one code on
 * one connection. Every event is counted; the first of an incident is logged with what the
 * engine does next. A new connection starts new incidents (`reset` on open).
 */
export class ErrorIncidents {
  private readonly open = new Set<string>();

  constructor(private readonly url: string) {}

  event(code: string, msg: string, next: string): VenueErrorEvent {
    const first = !this.open.has(code);
    this.open.add(code);
    return { url: this.url, code, msg, next, first };
  }

  reset(): void {
    this.open.clear();
  }
}
