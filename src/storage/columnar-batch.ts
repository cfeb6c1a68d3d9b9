import { LevelsText } from "../codec/levels-text.ts";
import type { RecordType } from "../records/types.ts";
import type { StorageRecord } from "../codec/storage-record.ts";
import { InvalidRecordError } from "./insert-errors.ts";
import { insertedColumns, type ColumnKind } from "./schema.ts";
import { validateRecord } from "./validate-record.ts";

/**
 * A batch of one record type held as column arrays (one JS array per ClickHouse column), not
 * row objects, encoded for insert as `JSONColumns` (a single JSON object `{"col":[…],…}`), or
 * for order books as `JSONCompactEachRow` (`format` says why).
 *
 * Why JSONColumns (bench/clickhouse.bench.ts measures it against the alternatives): it is one
 * `JSON.stringify` over a handful of flat arrays instead of one per row, decimals travel as
 * JSON strings (ClickHouse parses them into Decimal exactly, never through a double), and
 * integer ms go straight into DateTime64(3) as ticks (tested to the millisecond); rows keep
 * both. RowBinary, the fastest server-side format, is not an insert format `@clickhouse/client`
 * accepts, and chDB's raw byte insert takes text formats only. For 2,000 100-level order books
 * a batch, chDB parsed and stored JSONColumns in 75-76 µs a book against 79-89 µs for
 * TabSeparated and 83-91 µs for JSONCompactEachRow through that raw insert (scratch, separate
 * processes, two runs each, the documents made beforehand).
 *
 * Documents are built as bytes (`encodeBytes`, `encodeRows`): level lists read for storage
 * (LevelsText) are written into them straight from their frame's bytes, so a 100-level book's
 * ~5.8 KB of level text is never a JS string on this side, and the document moves to the
 * inserting thread by transfer.
 *
 * When a batch is flushed is the caller's policy (PendingBatch): this only holds and encodes.
 */

interface Column {
  readonly name: string;
  readonly field: string;
  readonly kind: ColumnKind;
  values: unknown[];
}

/** The formats a batch's insert document comes in. */
export type InsertFormat = "JSONColumns" | "JSONCompactEachRow";

export class ColumnarBatch {
  readonly type: RecordType;
  /**
   * JSONCompactEachRow for types with level lists (order books), JSONColumns for the rest. Rows
   * let embedded chDB take the document as bytes (client.ts RawInsert), where a JSONColumns
   * document goes in the statement's text: a JS string of ~12 MB per 2,000 books, whose decode,
   * copies and collections the JavaScript thread pays. bench/book-store.bench.ts, three
   * alternated runs: 46-52 µs of the JavaScript thread per book as rows against 82-93 as
   * columns, 138-171 µs of chDB's threads against 111-150 (chDB parses rows more slowly), so
   * 204 against 221 µs a book in all on average. Trades keep columns: a trade is ~100 bytes, and
   * one `JSON.stringify` per column beats one per value.
   */
  readonly format: InsertFormat;
  readonly #columns: Column[];
  #rows = 0;

  constructor(type: RecordType) {
    this.type = type;
    this.#columns = insertedColumns(type).map((c) => ({ name: c.name, field: c.field, kind: c.kind, values: [] }));
    this.format = this.#columns.some((c) => c.kind === "levels") ? "JSONCompactEachRow" : "JSONColumns";
  }

  get rows(): number {
    return this.#rows;
  }

  /** Column names in `encode()`'s order, for the INSERT column list. */
  columnNames(): string[] {
    return this.#columns.map((c) => c.name);
  }

  /** Appends one record of this batch's type; it must have passed `validateRecord`. */
  append(r: StorageRecord): void {
    const fields = r as unknown as Record<string, unknown>;
    for (const c of this.#columns) {
      const v = fields[c.field];
      c.values.push(c.kind === "levels" ? levelsLiteral(v) : v);
    }
    this.#rows += 1;
  }

  /**
   * The batch as a JSONColumns document in UTF-8 bytes, in an ArrayBuffer of its own (so it can
   * be transferred). Level columns go in as the JSON string literals of their text.
   */
  encodeBytes(): Uint8Array {
    const columns = this.#columns;
    // Everything but the level lists as text first: its size and theirs size the buffer.
    const texts: string[] = [];
    let size = 1;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i] as Column;
      const text = `${i === 0 ? "{" : ","}${JSON.stringify(c.name)}:${c.kind === "levels" ? "[" : JSON.stringify(c.values)}`;
      texts.push(text);
      size += Buffer.byteLength(text, "utf8");
      if (c.kind !== "levels") continue;
      // The literals, a comma between each two, the closing bracket.
      size += c.values.length;
      for (const v of c.values as Literal[]) size += v.byteLength;
    }
    const out = Buffer.from(new ArrayBuffer(size));
    let at = 0;
    for (let i = 0; i < columns.length; i++) {
      at += out.write(texts[i] as string, at, "utf8");
      const c = columns[i] as Column;
      if (c.kind !== "levels") continue;
      const values = c.values as Literal[];
      for (let j = 0; j < values.length; j++) {
        if (j > 0) out[at++] = 0x2c;
        at = writeLiteral(values[j] as Literal, out, at);
      }
      out[at++] = 0x5d;
    }
    out[at++] = 0x7d;
    return new Uint8Array(out.buffer, 0, at);
  }

  /**
   * The batch as JSONCompactEachRow in UTF-8 bytes (one `[v,…]` line per row, columns in
   * `columnNames()` order), in an ArrayBuffer of its own. Level columns go in as the JSON string
   * literals of their text, as in `encodeBytes`.
   */
  encodeRows(): Uint8Array {
    const columns = this.#columns;
    // Per row, the text around its level literals; their sizes and the literals' size the buffer.
    const texts: string[] = [];
    let size = 0;
    for (let r = 0; r < this.#rows; r++) {
      let text = "[";
      for (let i = 0; i < columns.length; i++) {
        const c = columns[i] as Column;
        if (i > 0) text += ",";
        if (c.kind !== "levels") {
          text += JSON.stringify(c.values[r]);
          continue;
        }
        texts.push(text);
        size += Buffer.byteLength(text, "utf8") + (c.values[r] as Literal).byteLength;
        text = "";
      }
      text += "]\n";
      texts.push(text);
      size += Buffer.byteLength(text, "utf8");
    }
    const out = Buffer.from(new ArrayBuffer(size));
    let at = 0;
    let t = 0;
    for (let r = 0; r < this.#rows; r++) {
      for (const c of columns) {
        if (c.kind !== "levels") continue;
        at += out.write(texts[t++] as string, at, "utf8");
        at = writeLiteral(c.values[r] as Literal, out, at);
      }
      at += out.write(texts[t++] as string, at, "utf8");
    }
    return new Uint8Array(out.buffer, 0, at);
  }

  /** The insert document in `format`. */
  document(): Uint8Array {
    return this.format === "JSONColumns" ? this.encodeBytes() : this.encodeRows();
  }

  /** `encodeBytes()` as a string. */
  encode(): string {
    const bytes = this.encodeBytes();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  }
}

/** A level list's stored JSON text as a JSON string literal: written from a frame's bytes, or these bytes. */
type Literal = LevelsText | Uint8Array;

function levelsLiteral(v: unknown): Literal {
  return v instanceof LevelsText ? v : Buffer.from(JSON.stringify(JSON.stringify(v)), "utf8");
}

function writeLiteral(v: Literal, out: Uint8Array, at: number): number {
  if (v instanceof LevelsText) return v.writeTo(out, at);
  out.set(v, at);
  return at + v.length;
}

/**
 * Validates every record and builds one batch of them. A bad record rejects the whole call
 * with `InvalidRecordError` (naming its index and field) before anything is sent. With
 * `validated`, the caller vouches that every record already passed `validateRecord` (the
 * storage consumer checks each one so it can dead-letter it alone), and the check is not run a
 * second time: ~9 µs per 100-level order book record.
 */
export function validatedBatch(type: RecordType, records: readonly StorageRecord[], validated = false): ColumnarBatch {
  const batch = new ColumnarBatch(type);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const problem = validated ? null : validateRecord(type, r);
    if (problem !== null || r === undefined) throw new InvalidRecordError(i, problem ?? "missing");
    batch.append(r);
  }
  return batch;
}
