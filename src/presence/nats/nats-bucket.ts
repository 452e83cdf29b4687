import { type JetStreamClient, type JetStreamManager, jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";

/** The presence bucket and the JetStream handles the store writes and watches it through. */
export interface PresenceBucket {
  readonly kv: KV;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** The stream behind the bucket: KV_<bucket>. */
  readonly stream: string;
  /** Subjects of the bucket's keys are `<prefix><key>`. */
  readonly prefix: string;
}

/** How long JetStream calls may take before the store reports NATS as unreachable. */
const REQUEST_TIMEOUT_MS = 2000;

/**
 * Opens the bucket, creating it when missing: history 1 (only the current entry matters),
 * per-message TTL allowed, and delete markers on expiry (kept `markerTtlMs`) so that watchers
 * see workers expire. A bucket created without TTL support (by hand, or by an older tool) is
 * switched on: JetStream allows enabling it on an existing stream.
 */
export async function openBucket(
  nc: NatsConnection,
  name: string,
  markerTtlMs: number,
): Promise<PresenceBucket> {
  const js = jetstream(nc, { timeout: REQUEST_TIMEOUT_MS });
  const jsm = await js.jetstreamManager();
  const kv = await new Kvm(js).create(name, { history: 1, markerTTL: markerTtlMs });
  const stream = `KV_${name}`;
  const info = await jsm.streams.info(stream);
  if (info.config.allow_msg_ttl !== true || !info.config.subject_delete_marker_ttl) {
    await jsm.streams.update(stream, {
      allow_msg_ttl: true,
      subject_delete_marker_ttl: markerTtlMs * 1_000_000,
    });
  }
  return { kv, js, jsm, stream, prefix: `$KV.${name}.` };
}
