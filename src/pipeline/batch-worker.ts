import { connectNats } from "../bus/nats-connect.ts";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { MessagePort } from "node:worker_threads";
import type { Logger } from "../log/logger.ts";
import { Counters } from "../stats/counters.ts";
import { counterNames } from "../stats/layout.ts";
import type { BatchInit } from "../supervisor/messages.ts";
import { PortSink } from "../storage/port-sink.ts";
import { CommitLatencySink } from "../storage/commit-latency-sink.ts";
import type { StorageSink } from "../storage/types.ts";
import { eventPort } from "./event-port.ts";
import { BatchLane, type LaneContext } from "./batch-lane.ts";

/**
 * A batch worker thread: one NATS connection and one insert channel to the supervisor, shared
 * by its lanes (src/pipeline/batch-lane.ts), one lane per record-type share it runs.
 */
export class BatchWorker {
  private readonly counters: Counters;
  private nc: NatsConnection | null = null;
  private sink: StorageSink | null = null;
  private lanes: BatchLane[] = [];

  constructor(
    private readonly init: BatchInit,
    private readonly port: MessagePort,
    private readonly log: Logger,
  ) {
    this.counters = new Counters(counterNames(), init.counters);
  }

  async start(): Promise<void> {
    const cfg = this.init.config;
    // The supervisor runs the INSERTs: a worker that dies holding a chDB session would hang
    // every later query of the process, and batch workers are restarted after crashes.
    if (this.init.store) this.sink = new CommitLatencySink(new PortSink(eventPort(this.port)), this.counters);
    let nats: LaneContext["nats"] = null;
    if (this.init.nats_servers !== null) {
      // noAsyncTraces: every JetStream publish is a request, and by default each one captures a
      // stack trace for an error it may never have; without it a publish took ~22 instead of
      // ~28 µs of client CPU (4 KB bodies, medians of six alternated runs). Errors keep their
      // messages; the workers log them with their own context.
      this.nc = await connectNats(cfg.nats, this.init.nats_servers, this.init.id, { noAsyncTraces: true });
      nats = { nc: this.nc, js: jetstream(this.nc), jsm: await jetstreamManager(this.nc) };
    }
    const ctx: LaneContext = { config: cfg, counters: this.counters, log: this.log, nats, sink: this.sink, publish: this.init.publish };
    this.lanes = this.init.lanes.map((lane) => new BatchLane(lane, { ...ctx, log: this.log.child({ type: lane.type, index: lane.index }) }));
    await Promise.all(this.lanes.map((lane) => lane.start()));
  }

  /** Drains every lane's rings (ingest has closed them), flushes publishes and storage, closes clients. */
  async stop(deadline_ms: number): Promise<void> {
    const until = Date.now() + deadline_ms;
    await Promise.all(this.lanes.map((lane) => lane.stop(until)));
    await this.nc?.drain();
    await this.sink?.close();
  }
}
