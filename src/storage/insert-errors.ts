
/**
 * Whether a failed insert may succeed if tried again (the consumer leaves the batch unacked
 * and JetStream redelivers it) or never will (the consumer dead-letters it).
 */
export type InsertErrorClass = "retryable" | "permanent";

/** A batch refused before it reached ClickHouse: a record does not fit its columns. */
export class InvalidRecordError extends Error {
  override readonly name = "InvalidRecordError";
  /** Position of the first bad record in the batch. */
  readonly index: number;
  constructor(index: number, problem: string) {
    super(`record ${index}: ${problem}`);
    this.index = index;
  }
}

/** Failed after reaching the insert path; `cause` is the client's error. */
export class InsertError extends Error {
  override readonly name = "InsertError";
  readonly kind: InsertErrorClass;
  constructor(message: string, kind: InsertErrorClass, cause: unknown) {
    super(message, { cause });
    this.kind = kind;
  }
}

/**
 * ClickHouse error codes that describe load or availability, not the batch
 * (src/Common/ErrorCodes.cpp): the same insert can succeed later.
 */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "159", // TIMEOUT_EXCEEDED
  "164", // READONLY: a server in read-only mode (e.g. disk full) recovers
  "202", // TOO_MANY_SIMULTANEOUS_QUERIES
  "209", // SOCKET_TIMEOUT
  "210", // NETWORK_ERROR
  "241", // MEMORY_LIMIT_EXCEEDED
  "242", // TABLE_IS_READ_ONLY
  "252", // TOO_MANY_PARTS
  "279", // ALL_CONNECTION_TRIES_FAILED
  "319", // UNKNOWN_STATUS_OF_INSERT
  "425", // SYSTEM_ERROR
  "999", // KEEPER_EXCEPTION
]);

export interface ClickHouseErrorInfo {
  /** ClickHouse error code (src/Common/ErrorCodes.cpp), e.g. 62. */
  readonly code: number;
  /** Its name, e.g. SYNTAX_ERROR. */
  readonly type: string;
  readonly message: string;
}

/**
 * The ClickHouse error inside `err`, if it is one. Checked by shape, not `instanceof`: chdb's
 * connection throws `ClickHouseError` from its own copy of `@clickhouse/client-common`, a
 * different class from the one `@clickhouse/client` exports. Node/Bun socket errors also carry
 * a string `code`, but never a numeric one. chdb's own insert errors (its raw insert,
 * client.ts) carry the ClickHouse code as a number in `clickhouseCode`.
 */
export function clickHouseErrorOf(err: unknown): ClickHouseErrorInfo | undefined {
  if (!(err instanceof Error)) return undefined;
  const fields = err as unknown as Record<string, unknown>;
  const code = typeof fields.clickhouseCode === "number" ? String(fields.clickhouseCode) : fields.code;
  if (typeof code !== "string" || !/^\d+$/.test(code)) return undefined;
  const type = typeof fields.type === "string" ? fields.type : "UNKNOWN";
  return { code: Number(code), type, message: err.message };
}

/**
 * retryable: connection refused/reset, timeouts, 5xx without a ClickHouse error, and the
 * ClickHouse load/availability codes above (TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, …).
 * permanent: an invalid record, and every other ClickHouse error (type mismatch, parse error,
 * unknown table or column, authentication), which would fail identically on every retry.
 */
export function classifyInsertError(err: unknown): InsertErrorClass {
  if (err instanceof InvalidRecordError) return "permanent";
  if (err instanceof InsertError) return err.kind;
  const ch = clickHouseErrorOf(err);
  if (ch !== undefined) return RETRYABLE_CODES.has(String(ch.code)) ? "retryable" : "permanent";
  // Anything else is transport trouble (connection refused or reset, a client timeout, a 5xx
  // page from a proxy): ClickHouse never judged the batch, so trying again is the safe answer
  // (redelivery is bounded by the consumer's max_deliver).
  return "retryable";
}
