import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { replayVenueOverrides } from "./overrides.ts";
import { startSimulator, type Simulator } from "./simulator.ts";
import { replaySource } from "./source.ts";
import { unclaimedMessage } from "./capture-source.ts";

/** `bun run start --replay [DIR] [--generate]`: the simulator plus the config overrides pointing venues at it. */
export interface Replay {
  readonly simulator: Simulator;
  readonly overrides: ReturnType<typeof replayVenueOverrides>;
  stop(): Promise<void>;
}

/**
 * Starts the simulator on DIR, or without one on ../shared/fixtures/exchanges when it exists and
 * on the built-in generator otherwise (`generate` forces the generator, and so does
 * `replay.rate: live`, which only the generator serves). The log line names the source beside
 * the URL; a capture's lines no venue claims are counted and named in a warning.
 */
export async function startReplay(config: Config, dir: string | null, log: Logger, generate = false): Promise<Replay> {
  const source = replaySource(dir, generate || (config.replay.rate === "live" && dir === null));
  if (source.unclaimed !== undefined && source.unclaimed.length > 0) log.warn({ unclaimed: source.unclaimed.length }, unclaimedMessage(source.unclaimed));
  const simulator = await startSimulator({
    source,
    host: config.replay.host,
    port: config.replay.port,
    rate: config.replay.rate,
  });
  const overrides = replayVenueOverrides(simulator);
  log.info({ url: simulator.url, source: simulator.source, rate: config.replay.rate, symbols: simulator.symbols }, "venue simulator started");
  return { simulator, overrides, stop: () => simulator.stop() };
}
