import { type ConsumerMessages, DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { LeftReason } from "../../core/presence-store.js";
import type { PresenceBucket } from "./nats-bucket.js";

/** One message of the bucket as the view needs it. */
export interface FeedEntry {
  readonly key: string;
  readonly revision: number;
  /**
   * The stored record's encoding, or undefined when the message removes the key. Decoding is the
   * receiver's: most messages echo its own writes, which it already holds.
   */
  readonly data: Uint8Array | undefined;
  readonly reason: LeftReason;
}

export interface Feed {
  /** Settles once the last message of every key that existed at the start has been handed over. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** Pull batch size: big enough that loading 100,000 entries is a few hundred round trips. */
const BATCH = 1000;
/**
 * How long each pull lasts. The server heartbeats at half of it, and the consumer is recreated
 * after two missed heartbeats: on a cluster whose node holding the consumer died, the watch
 * resumes after about this long (nats.js's default, 30 s, left views stale that long).
 */
const PULL_EXPIRES_MS = 5000;

/**
 * Watches the bucket: first the last message of every key, then every new message, handed to
 * `onEntry` in stream order. `ready` says when that first part is delivered: a caller that waits
 * for it has a complete view.
 */
export async function startFeed(
  bucket: PresenceBucket,
  onEntry: (entry: FeedEntry) => void,
  log: Logger,
): Promise<Feed> {
  const { js, jsm, stream, prefix } = bucket;
  const consumer = await js.consumers.get(stream, {
    filter_subjects: [`${prefix}>`],
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  const { num_pending: initial } = await consumer.info(true);
  // Read only once the consumer exists: its initial load is the last message of each key as of
  // its creation, delivered in sequence order, so a message at or past this sequence means that
  // load is over. Read before, a key written in between (its last message after this sequence)
  // could still be pending when an earlier key's message said ready. Over is not complete,
  // though: a key rewritten after this read loses its old message (one per key) before the load
  // reaches it, and its new one comes later still. So ready also waits until nothing is pending:
  // then every key's current message has been handed over.
  const { state } = await jsm.streams.info(stream);
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  if (initial === 0) markReady();

  const messages: ConsumerMessages = await consumer.consume({
    max_messages: BATCH,
    expires: PULL_EXPIRES_MS,
    callback: (msg) => {
      try {
        const entry = entryOf(msg, prefix);
        if (entry !== undefined) onEntry(entry);
      } catch (error) {
        log.warn({ err: error, subject: msg.subject }, "presence: skipped an unreadable entry");
      }
      if (msg.info.pending === 0 && msg.seq >= state.last_seq) markReady();
    },
  });
  return {
    ready,
    async stop() {
      messages.stop();
      // Best effort: the server drops an idle ordered consumer by itself after a while anyway.
      await consumer.delete().catch(() => undefined);
    },
  };
}

/** Reads a stream message: a put, a client's delete/purge, or the server's expiry marker. */
function entryOf(msg: JsMsg, prefix: string): FeedEntry | undefined {
  if (!msg.subject.startsWith(prefix)) return undefined;
  const key = msg.subject.slice(prefix.length);
  const marker = msg.headers?.get("Nats-Marker-Reason") ?? "";
  if (marker !== "") {
    // MaxAge: the entry's TTL ran out. Other reasons mean an operator removed it.
    const reason = marker === "MaxAge" ? "expired" : "unregistered";
    return { key, revision: msg.seq, data: undefined, reason };
  }
  const operation = msg.headers?.get("KV-Operation") ?? "";
  if (operation === "DEL" || operation === "PURGE") {
    return { key, revision: msg.seq, data: undefined, reason: "unregistered" };
  }
  return { key, revision: msg.seq, data: msg.data, reason: "unregistered" };
}
