import { type JetStreamClient, type JetStreamManager, jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";

/** The presence bucket and the JetStream handles the store writes and watches it through. */
export interface PresenceBucket {
  readonly kv: KV;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** The stream behind the bucket: KV_<bucket>. */
  readonly stream: string;
  /** Subjects of the bucket's keys are `<prefix><key>`. */
  readonly prefix: string;
  /** Replicas the bucket's stream has (which may differ from those asked for: see openBucket). */
  readonly replicas: number;
}

/**
 * How long JetStream calls may take before the store reports NATS as unreachable. On a cluster a
 * stream whose leader died answers nothing until its replicas elect another (2–5 s); a call
 * waiting that long would hold the client, so it fails (UNAVAILABLE) and the client retries.
 */
const REQUEST_TIMEOUT_MS = 2000;

/**
 * Opens the bucket, creating it when missing: history 1 (only the current entry matters),
 * `replicas` copies, per-message TTL allowed, and delete markers on expiry (kept `markerTtlMs`)
 * so that watchers see workers expire. A bucket created without TTL support (by hand, or by an
 * older tool) is switched on: JetStream allows enabling it on an existing stream. An existing
 * bucket with another replica count is left as it is (changing it moves data between servers:
 * an operator's decision), and a warning says so.
 */
export async function openBucket(
  nc: NatsConnection,
  name: string,
  options: { readonly markerTtlMs: number; readonly replicas: number; readonly log: Logger },
): Promise<PresenceBucket> {
  const { markerTtlMs, replicas, log } = options;
  const js = jetstream(nc, { timeout: REQUEST_TIMEOUT_MS });
  const jsm = await js.jetstreamManager();
  const kv = await new Kvm(js).create(name, { history: 1, markerTTL: markerTtlMs, replicas });
  const stream = `KV_${name}`;
  const info = await jsm.streams.info(stream);
  const has = info.config.num_replicas;
  if (has !== replicas) {
    log.warn(
      { bucket: name, replicas: has, asked: replicas },
      `presence: KV bucket ${name} exists with ${has} replica(s), not the ${replicas} asked for; left unchanged (change it with \`nats stream edit ${stream} --replicas ${replicas}\`)`,
    );
  }
  if (info.config.allow_msg_ttl !== true || !info.config.subject_delete_marker_ttl) {
    await jsm.streams.update(stream, {
      allow_msg_ttl: true,
      subject_delete_marker_ttl: markerTtlMs * 1_000_000,
    });
  }
  return { kv, js, jsm, stream, prefix: `$KV.${name}.`, replicas: has };
}
