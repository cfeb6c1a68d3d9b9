import type { VenueKey } from "../src/config/venue-keys.ts";
import type { SimThreadReply, SimThreadRequest } from "./sim-thread.worker.ts";

/**
 * The venue simulator's generator at live rates on a worker thread of this process, at a nice
 * value of its own (bench/sim-thread.worker.ts). The scale bench runs it at the engine's
 * `ingest_nice`: the simulator stands in for venues that run on other machines, so on the
 * 2-core box it should take the CPU the engine leaves, as the engine's own intake does, not
 * share it evenly with the threads that store.
 */
export class SimulatorThread {
  private readonly waiting = new Map<SimThreadReply["kind"], { resolve: (reply: SimThreadReply) => void; reject: (error: Error) => void }>();

  private constructor(
    private readonly worker: Worker,
    readonly url: string,
    readonly symbols: Record<VenueKey, string[]>,
    readonly description: string,
  ) {}

  /** Starts the generator with `symbols` per venue on a thread at `nice`. */
  static async start(symbols: number, nice: number): Promise<SimulatorThread> {
    const worker = new Worker(new URL("./sim-thread.worker.ts", import.meta.url));
    const ready = await new Promise<SimThreadReply>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<SimThreadReply>) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(`simulator thread: ${event.message}`));
      worker.postMessage({ kind: "start", symbols, nice } satisfies SimThreadRequest);
    });
    if (ready.kind !== "ready") {
      worker.terminate();
      throw new Error(`simulator thread did not start: ${ready.kind === "error" ? ready.message : ready.kind}`);
    }
    const thread = new SimulatorThread(worker, ready.url, ready.symbols, ready.description);
    worker.onmessage = (event: MessageEvent<SimThreadReply>) => thread.settle(event.data);
    return thread;
  }

  /** Withholds the next `n` frames of `venue` (sockets stay open), as `Simulator.skip`. */
  skip(venue: VenueKey, n: number): void {
    this.worker.postMessage({ kind: "skip", venue, n } satisfies SimThreadRequest);
  }

  /** Venue rules clients broke so far: in all, per venue and rule, and what each breach broke where the rule names it (a REST limit's bucket). */
  async violations(): Promise<{ total: number; venues: Record<string, Record<string, number>>; details: Record<string, Record<string, number>> }> {
    const reply = await this.ask({ kind: "violations" }, "violations");
    if (reply.kind !== "violations") throw new Error(`simulator thread answered ${reply.kind}`);
    return { total: reply.total, venues: reply.venues, details: reply.details };
  }

  /** Stops the simulator and ends its thread. */
  async stop(): Promise<void> {
    try {
      await this.ask({ kind: "stop" }, "stopped");
    } finally {
      this.worker.terminate();
    }
  }

  private ask(request: SimThreadRequest, answer: SimThreadReply["kind"]): Promise<SimThreadReply> {
    return new Promise((resolve, reject) => {
      this.waiting.set(answer, { resolve, reject });
      this.worker.postMessage(request);
    });
  }

  private settle(reply: SimThreadReply): void {
    if (reply.kind === "error") {
      for (const { reject } of this.waiting.values()) reject(new Error(`simulator thread: ${reply.message}`));
      this.waiting.clear();
      return;
    }
    const waiter = this.waiting.get(reply.kind);
    this.waiting.delete(reply.kind);
    waiter?.resolve(reply);
  }
}
