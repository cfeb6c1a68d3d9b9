import { resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { replayVenueOverrides } from "./overrides.ts";
import { defaultRecordingsDir } from "./recording.ts";
import { startSimulator, type Simulator } from "./simulator.ts";

/** `bun run start --replay [DIR]`: the simulator plus the config overrides pointing venues at it. */
export interface Replay {
  readonly simulator: Simulator;
  readonly overrides: ReturnType<typeof replayVenueOverrides>;
  stop(): Promise<void>;
}

export async function startReplay(config: Config, dir: string | null, log: Logger): Promise<Replay> {
  const simulator = await startSimulator({
    dir: dir === null ? defaultRecordingsDir() : resolve(dir),
    host: config.replay.host,
    port: config.replay.port,
    rate: config.replay.rate,
  });
  const overrides = replayVenueOverrides(simulator);
  log.info({ url: simulator.url, rate: config.replay.rate, symbols: simulator.symbols }, "venue simulator started");
  return { simulator, overrides, stop: () => simulator.stop() };
}
