import { Packr } from "msgpackr";
import type { MarketRecord } from "../records/types.ts";

/**
 * Frame bodies on JetStream: a msgpack array of records (SPEC section 4). Plain msgpack maps
 * (no msgpackr record extension), so every frame decodes on its own and any msgpack client
 * can read the stream.
 */

export const MSGPACK_CONTENT_TYPE = "application/msgpack";
export const JSON_CONTENT_TYPE = "application/json";

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function encodeFrame(records: readonly MarketRecord[]): Uint8Array {
  return packr.pack(records);
}

/** Decodes a frame body; the result is unvalidated and must be narrowed by the caller. */
export function decodeFrame(body: Uint8Array): unknown {
  return packr.unpack(body);
}
