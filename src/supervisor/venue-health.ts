import type { HealthComponent, VenueStats } from "../http/stats-types.ts";
import { duration } from "../venues/connection/sync-estimate.ts";

/**
 * A venue's `/health` component from its `/stats` entry:
 * - REST blocked by a 418 IP ban: `banned`; by a 429's Retry-After: `rate_limited`. Both are
 *   failed states naming the status, the count of such responses and the seconds to go, since
 *   books cannot sync and polls are not answered until the block ends;
 * - books waiting for their turn in the REST budget: `syncing`, the venue working as planned;
 * - otherwise the connection state.
 */
export function venueHealth(v: VenueStats): HealthComponent {
  const { blocked_ms, block_status, responses_418, responses_429 } = v.rest;
  if (blocked_ms > 0) {
    const retry_after_s = Math.ceil(blocked_ms / 1000);
    const banned = block_status === 418;
    const what = banned ? `IP banned (HTTP 418, ${responses_418} so far)` : `rate limited (HTTP 429, ${responses_429} so far)`;
    return { state: banned ? "banned" : "rate_limited", detail: `${what}: REST stopped for another ${duration(blocked_ms)}`, retry_after_s };
  }
  const { waiting, total, eta_s } = v.book_sync;
  if (v.state === "connected" && waiting > 0) {
    return { state: "syncing", detail: `${waiting} of ${total} books wait for the REST weight budget, about ${duration(eta_s * 1000)} to go` };
  }
  return { state: v.state };
}
