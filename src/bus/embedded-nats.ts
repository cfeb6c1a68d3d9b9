import { existsSync, mkdirSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import type { Subprocess } from "bun";

/**
 * The embedded `nats-server` child process (SPEC section 4): JetStream on, store under the
 * engine's data directory. Port 0 is passed to nats-server as `-p -1` (its own random port),
 * and the chosen port is read back from its "Listening for client connections on" log line,
 * so there is no window between picking a free port and binding it.
 */

export interface EmbeddedNatsOptions {
  /** Binary name (looked up on PATH) or path. */
  readonly binary: string;
  readonly host: string;
  /** TCP port; 0 lets nats-server pick a free one. */
  readonly port: number;
  /** JetStream store directory; created when missing. */
  readonly store_dir: string;
  /** Receives every log line nats-server writes. */
  readonly log?: (line: string) => void;
  /** Milliseconds to wait for the server to accept connections. Default 10000. */
  readonly start_timeout_ms?: number;
  /** More nats-server arguments, e.g. a cluster's `--cluster`, `--routes` and `--server_name`. */
  readonly extra_args?: readonly string[];
  /** Cores the server's Go runtime runs on at once (its GOMAXPROCS); 0 or absent: what the environment says, else every core. */
  readonly max_procs?: number;
}

export interface EmbeddedNats {
  /** `nats://host:port` for clients. */
  readonly url: string;
  readonly host: string;
  /** The port actually bound (never 0). */
  readonly port: number;
  readonly store_dir: string;
  readonly pid: number;
  /** Sends SIGTERM and resolves once the process has exited (SIGKILL after `deadline_ms`). */
  stop(deadline_ms?: number): Promise<void>;
  /** Resolves with the exit code when the process exits for any reason (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** The signal that ended the process (`SIGKILL`, …), null while it runs or after a normal exit. */
  readonly signal: string | null;
}

const INSTALL_HINT =
  "install it with `apt-get update && apt-get install -y nats-server`, or point nats.servers at an external server";

/** The nats-server binary cannot be found or executed. */
export class NatsBinaryMissingError extends Error {
  override readonly name = "NatsBinaryMissingError";
}

/** The requested host:port is already bound by another process. */
export class NatsPortInUseError extends Error {
  override readonly name = "NatsPortInUseError";
}

/** nats-server exited or did not accept connections before the deadline. */
export class NatsStartError extends Error {
  override readonly name = "NatsStartError";
}

const LISTEN_LINE = /Listening for client connections on \S*?:(\d+)/;
const PORT_IN_USE = /address already in use/i;
const DEFAULT_START_TIMEOUT_MS = 10_000;
const DEFAULT_STOP_DEADLINE_MS = 10_000;
const TAIL_LINES = 20;

function resolveBinary(binary: string): string {
  const found = binary.includes("/") ? (existsSync(binary) ? binary : null) : Bun.which(binary);
  if (found === null) throw new NatsBinaryMissingError(`nats-server binary '${binary}' not found: ${INSTALL_HINT}`);
  return found;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Children still running, killed if the parent exits without stopping them. */
const running = new Set<Subprocess>();
let exitHookInstalled = false;
function trackChild(proc: Subprocess): void {
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

/** Splits a byte stream into lines and hands each one to `onLine` until the stream ends. */
async function pumpLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf("\n");
    }
  }
  if (pending !== "") onLine(pending);
}

/** Starts nats-server with JetStream and resolves once it accepts TCP connections. */
export async function startEmbeddedNats(options: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  const binary = resolveBinary(options.binary);
  mkdirSync(options.store_dir, { recursive: true });
  const portArg = options.port === 0 ? "-1" : String(options.port);
  let proc: Subprocess<"ignore", "pipe", "pipe">;
  try {
    // Its own session (setsid): a terminal's Ctrl-C goes to the engine's process group only, so
    // nats-server keeps running while the engine flushes, and the engine stops it last.
    const setsid = Bun.which("setsid");
    const argv = [binary, "-js", "-a", options.host, "-p", portArg, "-sd", options.store_dir, ...(options.extra_args ?? [])];
    const max_procs = options.max_procs ?? 0;
    proc = Bun.spawn(setsid === null ? argv : [setsid, ...argv], {
      env: max_procs > 0 ? { ...process.env, GOMAXPROCS: String(max_procs) } : process.env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (cause) {
    throw new NatsBinaryMissingError(`nats-server binary '${binary}' cannot be started: ${INSTALL_HINT}`, { cause });
  }
  trackChild(proc);

  const tail: string[] = [];
  // Only our own process's listen line counts: a connect check alone would succeed against
  // whatever else already holds a fixed port.
  let boundPort = 0;
  let portInUse = false;
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    const listen = LISTEN_LINE.exec(line);
    if (listen?.[1] !== undefined) boundPort = Number(listen[1]);
    if (PORT_IN_USE.test(line)) portInUse = true;
    options.log?.(line);
  };
  const logsDone = Promise.all([pumpLines(proc.stderr, onLine), pumpLines(proc.stdout, onLine)]);
  let exitCode: number | null | undefined;
  const exited = proc.exited.then(async (code) => {
    exitCode = code;
    await logsDone;
    return code;
  });

  const where = `${options.host}:${options.port === 0 ? "(any)" : options.port}`;
  const deadline = Date.now() + (options.start_timeout_ms ?? DEFAULT_START_TIMEOUT_MS);
  for (;;) {
    if (exitCode !== undefined) {
      await exited;
      if (portInUse) {
        throw new NatsPortInUseError(
          `nats-server cannot listen on ${where}: address already in use (another nats-server or process holds it; choose nats.embedded.port or stop it)`,
        );
      }
      throw new NatsStartError(`nats-server on ${where} exited with code ${exitCode} before accepting connections:\n${tail.join("\n")}`);
    }
    if (boundPort !== 0 && (await canConnect(options.host, boundPort))) break;
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      await exited;
      throw new NatsStartError(`nats-server on ${where} did not accept connections in time:\n${tail.join("\n")}`);
    }
    await Bun.sleep(10);
  }

  const port = boundPort;
  return {
    url: `nats://${options.host}:${port}`,
    host: options.host,
    port,
    store_dir: options.store_dir,
    pid: proc.pid,
    exited,
    get signal(): string | null {
      return proc.signalCode === null ? null : String(proc.signalCode);
    },
    async stop(deadline_ms = DEFAULT_STOP_DEADLINE_MS): Promise<void> {
      if (exitCode !== undefined) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), deadline_ms);
      await exited;
      clearTimeout(timer);
    },
  };
}
