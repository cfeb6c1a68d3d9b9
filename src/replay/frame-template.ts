/**
 * A recorded message text cut around the numbers that must move from loop to loop (times,
 * update ids, trade ids), so each loop's text is a handful of string concatenations instead of
 * a JSON parse + stringify (which would also reformat Deribit's `0.0` into `0`). Everything
 * else stays byte for byte as recorded.
 */

/** What a shifted number is: an event time, a book update id or a trade id. */
export type ShiftKind = "time" | "update" | "trade";

export interface Shifts {
  readonly time: number;
  readonly update: number;
  readonly trade: number;
}

export class FrameTemplate {
  private constructor(
    private readonly parts: readonly string[],
    private readonly kinds: readonly ShiftKind[],
    private readonly values: readonly number[],
  ) {}

  /**
   * Cuts `raw` at every match of `pattern`, whose first group is the key and second the
   * digits; `kindOf(key)` classifies the key or returns undefined to leave it unshifted.
   */
  static parse(raw: string, pattern: RegExp, kindOf: (key: string) => ShiftKind | undefined): FrameTemplate {
    const parts: string[] = [];
    const kinds: ShiftKind[] = [];
    const values: number[] = [];
    let last = 0;
    for (const match of raw.matchAll(pattern)) {
      const key = match[1];
      const digits = match[2];
      if (key === undefined || digits === undefined || match.index === undefined) continue;
      const kind = kindOf(key);
      if (kind === undefined) continue;
      const start = match.index + match[0].length - digits.length - (match[0].endsWith('"') ? 1 : 0);
      parts.push(raw.slice(last, start));
      kinds.push(kind);
      values.push(Number(digits));
      last = start + digits.length;
    }
    parts.push(raw.slice(last));
    return new FrameTemplate(parts, kinds, values);
  }

  /** The recorded value of the first number of `kind`, or undefined. */
  first(kind: ShiftKind): number | undefined {
    const i = this.kinds.indexOf(kind);
    return i < 0 ? undefined : this.values[i];
  }

  /** The recorded values of every number of `kind`, in order. */
  all(kind: ShiftKind): number[] {
    return this.values.filter((_, i) => this.kinds[i] === kind);
  }

  render(shifts: Shifts): string {
    if (this.kinds.length === 0) return this.parts[0] ?? "";
    let out = this.parts[0] ?? "";
    for (let i = 0; i < this.kinds.length; i++) {
      out += String((this.values[i] ?? 0) + shifts[this.kinds[i] ?? "time"]) + (this.parts[i + 1] ?? "");
    }
    return out;
  }
}
