import { RecordCodec, type DecodeResult } from "../codec/record-codec.ts";
import type { StorageRecord } from "../codec/storage-record.ts";
import type { MarketRecord, RecordType } from "../records/types.ts";

/**
 * Message bodies on JetStream: frames are RecordCodec frames (a self-describing msgpack array of
 * records of one subject, SPEC section 4); the JSON mode carries one JSON record per message.
 */

export const MSGPACK_CONTENT_TYPE = "application/msgpack";
export const JSON_CONTENT_TYPE = "application/json";

const codec = new RecordCodec();

export function encodeFrame(records: readonly MarketRecord[]): Uint8Array {
  return codec.encodeFrame(records);
}

/**
 * Decodes and structurally validates a frame of `type` records from untrusted bytes for the
 * storage path (RecordCodec.tryDecodeFrameForStorage); never throws.
 */
export function decodeFrameForStorage(body: Uint8Array, type: RecordType): DecodeResult<StorageRecord[]> {
  return codec.tryDecodeFrameForStorage(body, type);
}
