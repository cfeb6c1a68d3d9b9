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

  count(venue: VenueKey, rule: string, n = 1): void {
    this.byRule.set(rule, (this.byRule.get(rule) ?? 0) + n);
    let own = this.byVenue.get(venue);
    if (own === undefined) {
      own = new Map();
      this.byVenue.set(venue, own);
    }
    own.set(rule, (own.get(rule) ?? 0) + n);
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
    return Object.fromEntries([...this.byVenue].map(([venue, rules]) => [venue, Object.fromEntries(rules)]));
  }
}
