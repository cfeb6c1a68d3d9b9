import type { Logger } from "../log/logger.ts";
import type { Config } from "../config/schema.ts";
import { VENUE_KEYS, type VenueKey } from "../config/venue-keys.ts";
import type { ClockSkewStats } from "../http/stats-types.ts";
import type { Counters } from "../stats/counters.ts";
import { SKEW_NONE, skewIncidentCounter, skewWindowCounter } from "../stats/latency.ts";

/** How often the venues' skew windows are read, ms. */
const CLOCK_SKEW_CHECK_MS = 1000;

interface VenueSkew {
  readonly window: number;
  readonly incidents: number;
  /** Largest `ts_ms - recv_ts_ms` of the last window that had records; null before the first. */
  last_ms: number | null;
  /** The incident under way: its largest skew; null while none is. */
  incident_peak_ms: number | null;
}

/**
 * Clock skew per venue. Ingest workers raise `skew.<venue>.window_max_ms` to the largest
 * `ts_ms - recv_ts_ms` they see (IngestObserver); every CLOCK_SKEW_CHECK_MS this reads and
 * restarts each window, over all of the venue's workers at once. An event stamped later than it
 * was received by more than `venues.<v>.max_clock_skew_ms` can only come from a clock difference
 * (delay only makes receipt later), so a window past the limit starts an incident: one warning
 * and one count (`skew.<venue>.incidents`). The incident ends, with one info line, at the first
 * window with records that stays within the limit; a window without records changes nothing.
 * A local clock ahead of the venue's looks like delay and shows in the exchange_to_receive
 * histogram instead.
 */
export class ClockSkewWatch {
  private readonly venues = new Map<VenueKey, VenueSkew>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly config: Config,
    private readonly counters: Counters,
    private readonly log: Logger,
  ) {
    for (const venue of VENUE_KEYS) {
      const window = counters.slot(skewWindowCounter(venue));
      counters.set(window, SKEW_NONE);
      this.venues.set(venue, { window, incidents: counters.slot(skewIncidentCounter(venue)), last_ms: null, incident_peak_ms: null });
    }
  }

  start(): void {
    this.timer ??= setInterval(() => this.check(), CLOCK_SKEW_CHECK_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads and restarts every venue's window; warns once when an incident starts. */
  check(): void {
    for (const [venue, v] of this.venues) {
      const skew_ms = this.counters.exchange(v.window, SKEW_NONE);
      if (skew_ms === SKEW_NONE) continue;
      v.last_ms = skew_ms;
      const limit_ms = this.config.venues[venue].max_clock_skew_ms;
      if (skew_ms > limit_ms) {
        if (v.incident_peak_ms === null) {
          v.incident_peak_ms = skew_ms;
          this.counters.add(v.incidents, 1);
          this.log.warn(
            { venue, skew_ms, max_clock_skew_ms: limit_ms },
            "venue clock skew: events are stamped later than this machine received them, beyond venues.<venue>.max_clock_skew_ms; check NTP here, exchange latencies of this venue read low meanwhile",
          );
        } else if (skew_ms > v.incident_peak_ms) v.incident_peak_ms = skew_ms;
      } else if (v.incident_peak_ms !== null) {
        this.log.info({ venue, skew_ms, peak_skew_ms: v.incident_peak_ms, max_clock_skew_ms: limit_ms }, "venue clock skew back within max_clock_skew_ms");
        v.incident_peak_ms = null;
      }
    }
  }

  /** The venue's skew for /stats. */
  stats(venue: VenueKey): ClockSkewStats {
    const v = this.venues.get(venue);
    return {
      max_clock_skew_ms: this.config.venues[venue].max_clock_skew_ms,
      last_ms: v?.last_ms ?? null,
      in_incident: (v?.incident_peak_ms ?? null) !== null,
      incidents: v === undefined ? 0 : this.counters.get(v.incidents),
    };
  }
}
