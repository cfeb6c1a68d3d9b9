/**
 * A book side as the JSON string literal of its stored text `[["price","qty"],…]`: exactly
 * `JSON.stringify(JSON.stringify(levels))`, ready to go into a JSONColumns document as it is.
 * `readBookFrame` (book-frame-reader.ts) builds them from bytes whose every price and quantity
 * it checked as plain decimal text that fits Decimal(38,18); anything else that builds one
 * vouches for the same check. Only the storage path reads them: the record checks and the
 * columnar batch accept one wherever they take a level list.
 */
export class LevelsText {
  constructor(readonly literal: string) {}

  /**
   * The levels themselves, so a record holding one serializes as the record it was: the
   * storage consumer dead-letters the rejected records of a frame as JSON, and logs show them.
   */
  toJSON(): [string, string][] {
    return JSON.parse(JSON.parse(this.literal) as string) as [string, string][];
  }
}
