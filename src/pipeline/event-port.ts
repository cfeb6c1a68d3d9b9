import type { MessagePort, Worker } from "node:worker_threads";

/** The EventTarget-style port that storage's PortSink / serveInserts speak. */
export interface EventPort<Out> {
  postMessage(message: Out, transfer?: ArrayBuffer[]): void;
  addEventListener(type: "message", listener: (e: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (e: MessageEvent) => void): void;
}

/**
 * Adapts a node:worker_threads MessagePort or Worker (EventEmitters) to an EventPort, so the
 * same insert protocol runs over a worker's parentPort and the supervisor's Worker handle.
 */
export function eventPort<Out>(target: MessagePort | Worker): EventPort<Out> {
  const wrapped = new Map<(e: MessageEvent) => void, (data: unknown) => void>();
  return {
    postMessage: (message, transfer) => target.postMessage(message, transfer ?? []),
    addEventListener: (_type, listener) => {
      const handler = (data: unknown) => listener({ data } as MessageEvent);
      wrapped.set(listener, handler);
      target.on("message", handler);
    },
    removeEventListener: (_type, listener) => {
      const handler = wrapped.get(listener);
      if (handler !== undefined) target.removeListener("message", handler);
      wrapped.delete(listener);
    },
  };
}
