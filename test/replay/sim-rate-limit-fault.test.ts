import { afterAll, beforeAll, expect, test } from "bun:test";
import type { VenueKey } from "../../src/config/schema.ts";
import { replayVenueOverrides } from "../../src/replay/overrides.ts";
import { startSimulator, type Simulator } from "../../src/replay/simulator.ts";
import { generatorSource } from "../../src/replay/source.ts";
import { getVenue } from "../../src/venues/registry.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ source: generatorSource(2), rate: 100 });
});

afterAll(async () => {
  await sim.stop();
});

/** The simulator's answer to `venue`'s first instrument metadata request. */
async function metadataRequest(venue: VenueKey): Promise<Response> {
  const rest_url = replayVenueOverrides(sim).venues[venue]?.rest_url;
  return fetch(`${rest_url}${getVenue(venue).instruments.paths[0]}`);
}

const cases: { venue: VenueKey; body: unknown; retry_after: boolean }[] = [
  { venue: "binance_spot", body: { code: -1003, msg: expect.stringContaining("Too many requests") }, retry_after: true },
  { venue: "okx_spot", body: { code: "50011", data: [], msg: "Too Many Requests" }, retry_after: false },
  { venue: "deribit_derivatives", body: { jsonrpc: "2.0", error: { message: "too_many_requests", code: 10028 } }, retry_after: false },
];

for (const { venue, body, retry_after } of cases) {
  test(`${venue}: a rate_limit fault answers 429 in the venue's own shape`, async () => {
    expect((await metadataRequest(venue)).status).toBe(200);
    sim.fault({ venue, kind: "rate_limit", seconds: 30 });
    const refused = await metadataRequest(venue);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual(body);
    expect(refused.headers.get("retry-after")).toBe(retry_after ? "30" : null);
    expect(sim.faultEffects(venue, "rate_limit")).toBe(1);
  });
}
