/**
 * Routing of records to batch workers: batch index = hash(symbol) % N(type), so one symbol's
 * records of one type always travel through the same ring and stay in order.
 */

/** FNV-1a 32-bit over the UTF-16 code units of `symbol`. */
export function symbolHash(symbol: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < symbol.length; i++) {
    h ^= symbol.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function batchIndexFor(symbol: string, workers: number): number {
  return symbolHash(symbol) % workers;
}
