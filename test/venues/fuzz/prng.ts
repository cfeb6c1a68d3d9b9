import { SeededRandom } from "../../../src/replay/generated-book.ts";

/**
 * A seeded pseudo-random source for the fuzz run (the generator's mulberry32): the same seed gives the same
 * frames on every machine, so a failure is reproduced by its seed and frame index.
 */
export class Prng {
  private readonly random: SeededRandom;

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.random.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}
