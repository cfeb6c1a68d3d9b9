import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pino from "pino";
import { validateConfig } from "../src/config/load.ts";
import { Engine } from "../src/supervisor/engine.ts";

/**
 * The engine side of the end-to-end bench, in its own process so that its RSS and per-thread
 * CPU are the engine's alone (the simulator runs in the bench process), and so that its chDB
 * data path is the only one this process ever opens.
 *
 *   bun bench/e2e-engine.ts CONFIG.json READY.json FINAL.json
 *
 * Writes READY.json (`{http, pid}`) once started; on SIGTERM stops gracefully (intake, rings,
 * publishes, storage) and writes FINAL.json with the counters read after the stop, then exits 0.
 * On SIGUSR2 it kills the worker named in KILL-WORKER (beside READY.json) without a graceful
 * stop, as a crash would, and the supervisor restarts it: the soak bench's worker fault.
 */

const [configPath, readyPath, finalPath] = process.argv.slice(2);
if (configPath === undefined || readyPath === undefined || finalPath === undefined) {
  process.stderr.write("usage: bun bench/e2e-engine.ts CONFIG.json READY.json FINAL.json\n");
  process.exit(2);
}

const config = validateConfig(JSON.parse(readFileSync(configPath, "utf8")));
// Logs go to stderr so the bench's stdout stays its own.
const log = pino({ level: config.log.level, base: { pid: process.pid, component: "supervisor" } }, pino.destination(2));
const engine = new Engine(config, { log });
await engine.start();
writeFileSync(readyPath, JSON.stringify({ http: engine.httpUrl, pid: process.pid }));

process.on("SIGUSR2", () => {
  const order = join(dirname(readyPath), "KILL-WORKER");
  const id = existsSync(order) ? readFileSync(order, "utf8").trim() : "";
  const victim = engine.workers.find((w) => w.id === id);
  if (victim === undefined) {
    log.error({ worker: id }, "bench: SIGUSR2 names no worker of this engine");
    return;
  }
  log.warn({ worker: id }, "bench: killing a worker (crash drill)");
  void victim.kill();
});

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  const started = performance.now();
  engine
    .stop()
    .then(() => {
      writeFileSync(finalPath, JSON.stringify({ stop_ms: Math.round(performance.now() - started), stats: engine.stats() }));
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(`e2e engine: stop failed: ${(error as Error).message}\n`);
      process.exit(1);
    });
});
