import { setPriority } from "node:os";
import type { VenueKey } from "../src/config/venue-keys.ts";
import { startSimulator, type Simulator } from "../src/replay/simulator.ts";
import { generatorSource } from "../src/replay/source.ts";

/**
 * The venue simulator on a thread of its own (bench/sim-thread.ts): the generator at live rates,
 * its thread at `nice` (Linux keeps a nice value per thread; setpriority(2) with pid 0 changes
 * only the caller's, and the threads it starts inherit it).
 */
export type SimThreadRequest =
  | { readonly kind: "start"; readonly symbols: number; readonly nice: number }
  | { readonly kind: "skip"; readonly venue: VenueKey; readonly n: number }
  | { readonly kind: "violations" }
  | { readonly kind: "stop" };

export type SimThreadReply =
  | { readonly kind: "ready"; readonly url: string; readonly symbols: Record<VenueKey, string[]>; readonly description: string }
  | {
      readonly kind: "violations";
      readonly total: number;
      readonly venues: Record<string, Record<string, number>>;
      readonly details: Record<string, Record<string, number>>;
    }
  | { readonly kind: "stopped" }
  | { readonly kind: "error"; readonly message: string };

declare const self: Worker;

let simulator: Simulator | null = null;

const reply = (message: SimThreadReply): void => self.postMessage(message);

self.onmessage = async (event: MessageEvent<SimThreadRequest>) => {
  const request = event.data;
  try {
    if (request.kind === "start") {
      if (request.nice !== 0 && process.platform === "linux") setPriority(request.nice);
      const source = generatorSource(request.symbols);
      simulator = await startSimulator({ source, rate: "live", host: "127.0.0.1", port: 0 });
      reply({ kind: "ready", url: simulator.url, symbols: simulator.symbols, description: source.description });
    } else if (simulator === null) {
      throw new Error(`the simulator thread got "${request.kind}" before "start"`);
    } else if (request.kind === "skip") {
      simulator.skip(request.venue, request.n);
    } else if (request.kind === "violations") {
      reply({ kind: "violations", total: simulator.violations.total, venues: simulator.violations.venues(), details: simulator.violations.details() });
    } else {
      await simulator.stop();
      reply({ kind: "stopped" });
    }
  } catch (error) {
    reply({ kind: "error", message: (error as Error).message });
  }
};
