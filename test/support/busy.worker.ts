/** A worker that keeps running JavaScript until it is terminated (test/storage/signal-handlers.test.ts). */
let spin = 0;
const burn = (): void => {
  for (let i = 0; i < 1_000_000; i++) spin += i & 7;
  setImmediate(burn);
};
burn();
postMessage("running");
