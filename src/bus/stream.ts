import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { Config } from "../config/schema.ts";
import { subjectFilterFor } from "../records/subjects.ts";
import { RECORD_TYPES } from "../records/types.ts";

/**
 * The stream definitions (SPEC section 4, MarketPrism failure 10): stream `MARKET_DATA` binds
 * `<type>.>` for the eight data types and `gap.>`; the dead-letter stream binds the consumers'
 * dead-letter subject, so a poison message taken out of MARKET_DATA is kept, not published to
 * whoever happens to listen. The engine creates each when missing and updates it in place
 * otherwise; it never deletes or recreates a stream, so stored messages survive every start.
 */

export type StreamSettings = Config["nats"]["stream"];
type DeadLetterSettings = Pick<Config["nats"]["consumer"], "dead_letter_subject" | "dead_letter_stream" | "dead_letter_max_age_s">;

/** Every subject filter the stream binds, in RECORD_TYPES order. */
export const STREAM_SUBJECTS: readonly string[] = RECORD_TYPES.map(subjectFilterFor);

/** The existing stream differs in a setting the server cannot change in place. */
export class StreamConfigError extends Error {
  override readonly name = "StreamConfigError";
}

/** The settings Spectra owns; anything else on an existing stream is left as it is. */
export type OwnedStreamConfig = Pick<
  StreamConfig,
  "name" | "subjects" | "retention" | "storage" | "max_age" | "max_bytes" | "max_msgs" | "duplicate_window" | "num_replicas"
>;

export function streamConfigFor(settings: StreamSettings): OwnedStreamConfig {
  return {
    name: settings.name,
    subjects: [...STREAM_SUBJECTS],
    retention: settings.retention,
    storage: settings.storage,
    max_age: nanos(settings.max_age_s * 1000),
    max_bytes: settings.max_bytes,
    max_msgs: settings.max_msgs,
    duplicate_window: nanos(settings.duplicate_window_s * 1000),
    num_replicas: settings.replicas,
  };
}

/**
 * The dead-letter stream: the one subject, limits retention, kept `dead_letter_max_age_s`;
 * storage and replicas as the data stream's. Poison messages are rare, so it has no size limit.
 */
function deadLetterStreamConfig(dead: DeadLetterSettings, data: StreamSettings): OwnedStreamConfig {
  return {
    name: dead.dead_letter_stream,
    subjects: [dead.dead_letter_subject],
    retention: "limits",
    storage: data.storage,
    max_age: nanos(dead.dead_letter_max_age_s * 1000),
    max_bytes: -1,
    max_msgs: -1,
    duplicate_window: nanos(data.duplicate_window_s * 1000),
    num_replicas: data.replicas,
  };
}

export interface EnsureStreamResult {
  readonly action: "created" | "updated" | "unchanged";
  readonly info: StreamInfo;
}

/** Settings a JetStream server refuses to change on an existing stream. */
const FIXED_SETTINGS = ["storage", "retention"] as const;

function differs(existing: StreamConfig, wanted: OwnedStreamConfig): boolean {
  const sorted = (s: readonly string[] | undefined): string => [...(s ?? [])].sort().join(",");
  return (
    sorted(existing.subjects) !== sorted(wanted.subjects) ||
    existing.retention !== wanted.retention ||
    existing.storage !== wanted.storage ||
    existing.max_age !== wanted.max_age ||
    existing.max_bytes !== wanted.max_bytes ||
    existing.max_msgs !== wanted.max_msgs ||
    existing.duplicate_window !== wanted.duplicate_window ||
    existing.num_replicas !== wanted.num_replicas
  );
}

async function existingStream(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
    throw err;
  }
}

/** Creates stream `settings.name` or updates it in place; never deletes stored messages. */
export function ensureStream(jsm: JetStreamManager, settings: StreamSettings): Promise<EnsureStreamResult> {
  return ensureOwnedStream(jsm, streamConfigFor(settings));
}

/** Creates or updates the dead-letter stream; never deletes stored messages. */
export async function ensureDeadLetterStream(jsm: JetStreamManager, nats: Pick<Config["nats"], "stream" | "consumer">): Promise<EnsureStreamResult> {
  if (nats.consumer.dead_letter_stream === nats.stream.name) {
    throw new StreamConfigError(`nats.consumer.dead_letter_stream '${nats.consumer.dead_letter_stream}' is the data stream's name; choose another`);
  }
  return ensureOwnedStream(jsm, deadLetterStreamConfig(nats.consumer, nats.stream));
}

async function ensureOwnedStream(jsm: JetStreamManager, wanted: OwnedStreamConfig): Promise<EnsureStreamResult> {
  const existing = await existingStream(jsm, wanted.name);
  if (existing === null) {
    try {
      return { action: "created", info: await jsm.streams.add(wanted) };
    } catch (cause) {
      throw new StreamConfigError(`cannot create stream ${wanted.name}: ${(cause as Error).message}`, { cause });
    }
  }
  for (const key of FIXED_SETTINGS) {
    if (existing.config[key] !== wanted[key]) {
      throw new StreamConfigError(
        `stream ${wanted.name} exists with ${key} '${existing.config[key]}' but nats.stream.${key} is '${wanted[key]}'; ` +
          `JetStream cannot change ${key} in place and Spectra never deletes a stream holding data. ` +
          `Set nats.stream.${key} to '${existing.config[key]}', or migrate the stream by hand (it holds ${existing.state.messages} messages).`,
      );
    }
  }
  if (!differs(existing.config, wanted)) return { action: "unchanged", info: existing };
  try {
    return { action: "updated", info: await jsm.streams.update(wanted.name, { ...existing.config, ...wanted }) };
  } catch (cause) {
    throw new StreamConfigError(
      `cannot update stream ${wanted.name} in place (it holds ${existing.state.messages} messages and is left unchanged): ${(cause as Error).message}`,
      { cause },
    );
  }
}
