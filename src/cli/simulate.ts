import { parseArgs } from "node:util";
import { VENUE_KEYS } from "../config/venue-keys.ts";
import { replayVenueOverrides } from "../replay/overrides.ts";
import { startSimulator, type Simulator } from "../replay/simulator.ts";
import { generatorSource, recordingsSource, replaySource, type RecordingSource } from "../replay/source.ts";
import type { GeneratedRate } from "../replay/live-feed.ts";
import { helpText, usageLine, wantsHelp, type CommandHelp } from "./help.ts";

/**
 * `bun run simulate`: the venue simulator alone, on loopback, for any engine or tool to point
 * its venues' `ws_url`/`rest_url` at. When it is ready it prints one JSON line:
 * `{"url","source","venues":{"<venue>":{"ws_url","rest_url"}},"symbols":{"<venue>":[…]}}`.
 */

export const SIMULATE_HELP: CommandHelp = {
  usage: "bun run simulate [--port P] [--recordings DIR | --generate] [--symbols N] [--rate R|live] [--lifetime-s S]",
  about: 'Serves the venue simulator (Binance, OKX and Deribit WebSocket and REST with their limits and faults) on 127.0.0.1. Prints one JSON line with "url" and each venue\'s "ws_url"/"rest_url" when ready, then serves until SIGINT or SIGTERM.',
  flags: [
    ["--port P", "listen on 127.0.0.1:P (default 0: a free port, printed in the ready line)"],
    ["--recordings DIR", "replay DIR: every *.jsonl under it, assigned to venues by URL"],
    ["--generate", "serve the built-in generator (the default when ../shared/fixtures/exchanges is absent)"],
    ["--symbols N", "generated symbols per venue (default 4; implies --generate)"],
    ["--rate R", "frames per second per feed, 0 = as fast as the sockets drain (default 1000); with the generator: instrument steps per second per feed"],
    ["--rate live", "the generator at live rates: every book 10 times a second, bursty trades, the other types at their venue cadence (implies --generate)"],
    ["--lifetime-s S", "lifetime of a Binance connection, ending with serverShutdown (default 86400, the venue's 24 h)"],
    ["--help, -h", "this text"],
  ],
  exits: [
    [0, "stopped by SIGINT/SIGTERM"],
    [2, "bad arguments, or the simulator cannot start"],
  ],
};

function usageError(message: string): never {
  process.stderr.write(`simulate: ${message}\n${usageLine(SIMULATE_HELP)}\n`);
  process.exit(2);
}

function nonNegativeInt(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) usageError(`${flag} wants a non-negative integer, got "${text}"`);
  return n;
}

interface SimulateArgs {
  readonly port: number;
  readonly rate: GeneratedRate;
  /** Binance connection lifetime, ms; undefined = the simulator's default (24 h). */
  readonly lifetime_ms: number | undefined;
  readonly source: () => RecordingSource;
}

function parse(argv: string[]): SimulateArgs {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        recordings: { type: "string" },
        generate: { type: "boolean" },
        symbols: { type: "string" },
        rate: { type: "string" },
        "lifetime-s": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
  const port = nonNegativeInt("--port", values.port, 0);
  if (port > 65535) usageError(`--port must be at most 65535, got ${port}`);
  const rate: GeneratedRate = values.rate === "live" ? "live" : nonNegativeInt("--rate", values.rate, 1000);
  const lifetime_s = values["lifetime-s"] === undefined ? undefined : nonNegativeInt("--lifetime-s", values["lifetime-s"], 0);
  if (lifetime_s === 0) usageError("--lifetime-s must be at least 1");
  const recordings = values.recordings;
  const generate = values.generate === true || values.symbols !== undefined || rate === "live";
  if (recordings !== undefined && generate) usageError("--recordings excludes --generate, --symbols and --rate live");
  const symbols = values.symbols === undefined ? undefined : nonNegativeInt("--symbols", values.symbols, 0);
  if (symbols === 0) usageError("--symbols must be at least 1");
  const source = (): RecordingSource =>
    recordings !== undefined ? recordingsSource(recordings) : generate ? generatorSource(symbols) : replaySource(null, false);
  return { port, rate, lifetime_ms: lifetime_s === undefined ? undefined : lifetime_s * 1000, source };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(helpText(SIMULATE_HELP));
    return;
  }
  const args = parse(argv);
  let sim: Simulator;
  try {
    sim = await startSimulator({
      source: args.source(),
      host: "127.0.0.1",
      port: args.port,
      rate: args.rate,
      ...(args.lifetime_ms === undefined ? {} : { lifetime_ms: args.lifetime_ms }),
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { venues } = replayVenueOverrides(sim);
  const urls = Object.fromEntries(VENUE_KEYS.map((v) => [v, { ws_url: venues[v].ws_url, rest_url: venues[v].rest_url }]));
  process.stdout.write(`${JSON.stringify({ url: sim.url, source: sim.source, venues: urls, symbols: sim.symbols })}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void sim.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

await main();
