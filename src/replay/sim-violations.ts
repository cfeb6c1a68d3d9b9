import type { VenueKey } from "../config/schema.ts";

/**
 * What the simulator counts when a client breaks a venue rule (SPEC section 13), by rule name:
 * `binance_ws_message_rate`, `binance_legacy_path`, `rest_weight_429`, … A rule counts each time
 * the simulator enforces it (closes, refuses, bans), the way the venue would. Served as
 * `GET /simulator/stats` beside connection and REST counts; tests and benches expect zero.
 */
export class SimViolations {
  private readonly byRule = new Map<string, number>();
  private readonly byVenue = new Map<VenueKey, Map<string, number>>();
  private readonly byDetail = new Map<VenueKey, Map<string, number>>();

  /** Counts `n` breaches of `rule`; `detail` names what was breached (a REST limit's bucket). */
  count(venue: VenueKey, rule: string, n = 1, detail?: string): void {
    this.byRule.set(rule, (this.byRule.get(rule) ?? 0) + n);
    bump(this.byVenue, venue, rule, n);
    if (detail !== undefined) bump(this.byDetail, venue, `${rule}: ${detail}`, n);
  }

  /** Violations of every rule, all venues together. */
  get total(): number {
    let n = 0;
    for (const v of this.byRule.values()) n += v;
    return n;
  }

  /** `{ rule: count }` over every venue. */
  rules(): Record<string, number> {
    return Object.fromEntries(this.byRule);
  }

  /** `{ venue: { rule: count } }`. */
  venues(): Record<string, Record<string, number>> {
    return byVenue(this.byVenue);
  }

  /** `{ venue: { "rule: detail": count } }` for the breaches counted with a detail. */
  details(): Record<string, Record<string, number>> {
    return byVenue(this.byDetail);
  }
}

function bump(map: Map<VenueKey, Map<string, number>>, venue: VenueKey, key: string, n: number): void {
  let own = map.get(venue);
  if (own === undefined) {
    own = new Map();
    map.set(venue, own);
  }
  own.set(key, (own.get(key) ?? 0) + n);
}

function byVenue(map: Map<VenueKey, Map<string, number>>): Record<string, Record<string, number>> {
  return Object.fromEntries([...map].map(([venue, counts]) => [venue, Object.fromEntries(counts)]));
}
