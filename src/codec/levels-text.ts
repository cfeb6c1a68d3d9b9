/**
 * A book side read for storage: where its levels lie in the msgpack bytes of a frame (`count`
 * pairs of strings from `start`), written out on demand as the JSON string literal of its stored
 * text `[["price","qty"],…]`, exactly the ASCII of `JSON.stringify(JSON.stringify(levels))`.
 * `readBookFrame` (book-frame-reader.ts) builds them after checking every price and quantity as
 * plain decimal text that fits Decimal(38,18). Only the storage path reads them: the record
 * checks and the columnar batch accept one wherever they take a level list.
 *
 * It points into the frame: the frame's bytes must stay unchanged while it lives, as a JetStream
 * message's data does while the consumer holds the message.
 *
 * Why a range, not the text: a 100-level side's literal is ~2.9 KB, and making it when the frame
 * is read (as a string, or as bytes in buffers of its own) cost more in allocation and garbage
 * collection than the copy itself. The storing worker writes it once, straight into the insert
 * document (bench/book-store.bench.ts).
 */
export class LevelsText {
  constructor(
    readonly source: Uint8Array,
    readonly start: number,
    readonly count: number,
    /** Bytes of the literal. */
    readonly byteLength: number,
  ) {}

  /** Writes the literal at `out[at]` (byteLength bytes); returns where it ends. */
  writeTo(out: Uint8Array, at: number): number {
    const d = this.source;
    let p = this.start;
    out[at++] = 0x22;
    out[at++] = 0x5b;
    for (let i = 0; i < this.count; i++) {
      if (i > 0) out[at++] = 0x2c;
      out[at++] = 0x5b;
      // The pair's array header (0x92), then its two strings.
      p++;
      for (let j = 0; j < 2; j++) {
        if (j > 0) out[at++] = 0x2c;
        const b = d[p] as number;
        let length: number;
        if (b <= 0xbf) {
          length = b & 0x1f;
          p += 1;
        } else if (b === 0xd9) {
          length = d[p + 1] as number;
          p += 2;
        } else {
          length = ((d[p + 1] as number) << 8) | (d[p + 2] as number);
          p += 3;
        }
        out[at++] = 0x5c;
        out[at++] = 0x22;
        for (let k = 0; k < length; k++) out[at++] = d[p + k] as number;
        p += length;
        out[at++] = 0x5c;
        out[at++] = 0x22;
      }
      out[at++] = 0x5d;
    }
    out[at++] = 0x5d;
    out[at++] = 0x22;
    return at;
  }

  /** The literal as a string (tests, logs). */
  get literal(): string {
    const bytes = Buffer.alloc(this.byteLength);
    this.writeTo(bytes, 0);
    return bytes.toString("latin1");
  }

  /**
   * The levels themselves, so a record holding one serializes as the record it was: the
   * storage consumer dead-letters the rejected records of a frame as JSON, and logs show them.
   */
  toJSON(): [string, string][] {
    return JSON.parse(JSON.parse(this.literal) as string) as [string, string][];
  }
}
