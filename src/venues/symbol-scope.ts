import type { MarketType } from "../records/types.ts";
import type { Instrument, NormalizerOptions } from "./types.ts";

/**
 * Which instruments a normalizer keeps: those of its market type in the metadata, limited to
 * `options.symbols` unless that list is empty (= every instrument, for the normalize CLI).
 * Lookups are one Map hit per frame; the decision is cached per native id.
 */
export class SymbolScope {
  private readonly cache = new Map<string, Instrument | null>();
  private wanted: ReadonlySet<string> | undefined;

  constructor(
    private readonly options: NormalizerOptions,
    private readonly market_type: MarketType,
  ) {
    this.wanted = options.symbols.length === 0 ? undefined : new Set(options.symbols);
  }

  /**
   * Keeps exactly `symbols` from now on (instrument refresh): an empty list keeps none, since a
   * worker whose every symbol was delisted collects nothing until a listing comes to it.
   */
  setSymbols(symbols: readonly string[]): void {
    this.wanted = new Set(symbols);
    this.cache.clear();
  }

  /** The instrument for a native id, or undefined when this normalizer does not keep it. */
  get(native: string): Instrument | undefined {
    let hit = this.cache.get(native);
    if (hit === undefined) {
      const inst = this.options.instruments.get(native);
      // Ids the metadata does not know are not cached, so junk ids in bad frames cannot grow it.
      if (inst === undefined) return undefined;
      const kept = inst.market_type === this.market_type && (this.wanted?.has(native) ?? true);
      hit = kept ? inst : null;
      this.cache.set(native, hit);
    }
    return hit ?? undefined;
  }
}
