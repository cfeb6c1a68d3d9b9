import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { Logger } from "../log/logger.ts";
import type { ConsumerCounts } from "./consumer-counts.ts";
import { JSON_CONTENT_TYPE } from "./frame-codec.ts";

/** Headers on a dead-lettered message. */
export const DEAD_LETTER_HEADERS = {
  subject: "Spectra-Original-Subject",
  reason: "Spectra-Dead-Letter-Reason",
  stream_seq: "Spectra-Stream-Seq",
  deliveries: "Spectra-Deliveries",
} as const;

export interface DeadLetterOptions {
  readonly js: JetStreamClient;
  readonly subject: string;
  readonly counts: ConsumerCounts;
  readonly log?: Logger;
  /** Delay of the nak when the dead-letter stream did not keep a message, ms. */
  readonly nak_delay_ms: number;
  /** Receives the text of each failure (the consumer's `last_error`). */
  readonly onError: (text: string) => void;
}

/**
 * Poison messages to the dead-letter subject. A dead letter is published through JetStream and
 * counts once the dead-letter stream (stream.ts) has stored it; the caller terminates the
 * original only then. Terminations carry no reason (the dead letter's headers do): nats-server
 * 2.9 (Debian's) does not parse `+TERM <reason>` and ignored it, so the message came back every
 * ack_wait and was dead-lettered again on each delivery.
 */
export class DeadLetters {
  constructor(private readonly options: DeadLetterOptions) {}

  /**
   * Publishes `body` with headers naming `m` and waits for the dead-letter stream to store it.
   * False when it did not: `m` is then nak'ed for a later delivery, not terminated, so nothing
   * leaves the data stream unkept (on its last allowed delivery it stays in the stream, unacked).
   */
  async send(m: JsMsg, body: Uint8Array, reason: string): Promise<boolean> {
    const h = natsHeaders();
    h.set(DEAD_LETTER_HEADERS.subject, m.subject);
    h.set(DEAD_LETTER_HEADERS.reason, reason.replace(/[\r\n]+/g, " "));
    h.set(DEAD_LETTER_HEADERS.stream_seq, String(m.seq));
    h.set(DEAD_LETTER_HEADERS.deliveries, String(m.info.deliveryCount));
    const contentType = m.headers?.get("Content-Type");
    if (contentType !== undefined && contentType !== "" && body === m.data) h.set("Content-Type", contentType);
    else h.set("Content-Type", JSON_CONTENT_TYPE);
    try {
      await this.options.js.publish(this.options.subject, body, { headers: h });
    } catch (err) {
      this.options.onError(`dead letter of ${m.subject} (stream seq ${m.seq}) not stored: ${(err as Error).message}`);
      this.options.log?.error({ err, subject: m.subject, stream_seq: m.seq, reason }, "dead-letter stream did not keep a poison message; it stays in the data stream, nak'ed for a later delivery");
      m.nak(this.options.nak_delay_ms);
      return false;
    }
    this.options.log?.warn({ subject: m.subject, stream_seq: m.seq, deliveries: m.info.deliveryCount, reason }, "message dead-lettered");
    this.options.counts.deadLettered();
    return true;
  }

  /** Dead-letters `m` whole and terminates it once kept. */
  async sendAndTerm(m: JsMsg, reason: string): Promise<boolean> {
    const kept = await this.send(m, m.data, reason);
    if (kept) m.term();
    return kept;
  }
}
