/**
 * An engine on the synthetic trade source, run as a child process by tests that kill it:
 * `bun test/supervisor/synthetic-engine.ts CONFIG.yaml RECORDS RATE OFFSET`.
 * Prints one line `{"child":"started",...}` once running; SIGTERM stops it cleanly (exit 0);
 * a start failure exits 2 with the message on stderr.
 */
import { loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log/logger.ts";
import { Engine } from "../../src/supervisor/engine.ts";

const [file, records, rate, offset] = process.argv.slice(2);
if (file === undefined) throw new Error("usage: synthetic-engine.ts CONFIG RECORDS RATE OFFSET");
const config = loadConfig({ file });
const engine = new Engine(config, {
  log: createLogger(config.log.level, { component: "supervisor" }),
  synthetic: { records: Number(records), rate: Number(rate), offset: Number(offset) },
});
process.on("SIGTERM", () => {
  void engine.stop().then(() => process.exit(0));
});
try {
  await engine.start();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify({ child: "started", pid: process.pid, http: engine.httpUrl, clickhouse_http: engine.clickhouseHttpUrl, nats: engine.natsServerUrl, nats_pid: engine.natsServerPid })}\n`);
