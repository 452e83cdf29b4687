import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import pino, { type Logger } from "pino";
import type { Clock } from "../../core/clock.js";
import { ApiError, unavailable } from "../../core/errors.js";
import {
  deadlineMs,
  type LeftReason,
  type PresenceEvent,
  type PresenceRecord,
  type PresenceStore,
  type PresenceWatch,
  type WorkerKey,
} from "../../core/presence-store.js";
import { READY, type Readiness, type StoreMetrics } from "../../core/store-health.js";
import { PresenceRecordSchema } from "../../gen/muster/presence/v1/record_pb.js";
import { Listeners } from "../listeners.js";
import { KeyedLock } from "./keyed-lock.js";
import { openBucket, type PresenceBucket } from "./nats-bucket.js";
import { connectNats, messageOf } from "./nats-connect.js";
import { type Feed, type FeedEntry, startFeed } from "./nats-feed.js";
import { companyToken, encodeKey } from "./nats-keys.js";
import { companyOf, PresenceView, type Slot } from "./nats-view.js";
import { TurnBatch } from "./turn-batch.js";

export interface NatsPresenceOptions {
  /** NATS server URL, e.g. nats://127.0.0.1:4222, or a cluster's seed servers. */
  readonly url: string | readonly string[];
  /** KV bucket name; created when missing. */
  readonly bucket: string;
  /** Replicas of the bucket when it is created (1 unless on a cluster). */
  readonly replicas?: number;
  readonly clock: Clock;
  readonly log?: Logger;
  /** How long expiry and removal markers stay in the bucket. */
  readonly markerTtlMs?: number;
  /** How long opening (and a resync after a reconnect) may take to load the bucket. */
  readonly loadTimeoutMs?: number;
}

/** Long enough for every watcher to see a removal; short enough that tombstones do not pile up. */
const DEFAULT_MARKER_TTL_MS = 60_000;
const DEFAULT_LOAD_TIMEOUT_MS = 30_000;
/** Revision conflicts come from other instances writing the same worker; a few retries settle it. */
const MAX_ATTEMPTS = 20;
/** How long a read waits for the view to resync after a reconnect before it reports unavailable. */
const RESYNC_WAIT_MS = 3000;

/**
 * Connects, checks the server version, opens (or creates) the bucket and loads it into the view.
 * Resolves when the store is ready to serve; throws an ApiError (UNAVAILABLE) when NATS cannot
 * be reached, and an Error when the server is too old.
 */
export async function openNatsPresenceStore(
  options: NatsPresenceOptions,
): Promise<NatsPresenceStore> {
  const servers = typeof options.url === "string" ? [options.url] : options.url;
  const nc = await connectNats(servers);
  const name = options.bucket;
  try {
    const bucket = await openBucket(nc, name, {
      markerTtlMs: options.markerTtlMs ?? DEFAULT_MARKER_TTL_MS,
      replicas: options.replicas ?? 1,
      log: options.log ?? pino({ level: "silent" }),
    });
    const store = new NatsPresenceStore(nc, bucket, options);
    await store.load();
    return store;
  } catch (error) {
    await nc.close().catch(() => undefined);
    if (error instanceof ApiError) throw error;
    throw unavailable(
      `presence store unavailable: cannot open KV bucket ${name} on NATS at ${servers.join(",")}: ${messageOf(error)}`,
    );
  }
}

/**
 * Presence in a JetStream KV bucket, one entry per worker, each written with a per-message TTL
 * equal to the worker's remaining time so NATS itself expires it. Reads are answered from a view
 * fed by a watch on the bucket; writes are revision-checked so instances sharing the bucket never
 * overwrite each other's updates.
 */
export class NatsPresenceStore implements PresenceStore {
  readonly backend = "nats";
  private readonly clock: Clock;
  private metrics: StoreMetrics | undefined;
  private readonly log: Logger;
  private readonly url: string;
  private readonly markerTtl: string;
  private readonly loadTimeoutMs: number;
  private readonly locks = new KeyedLock();
  /** Publishes of one event-loop turn share a socket write (turn-batch.ts). */
  private readonly publishes = new TurnBatch();
  /** Watchers by company token, told of every change to the current view. */
  private readonly listeners = new Listeners();
  private view = new PresenceView();
  /** The view a resync is building, which local writes must reach too. */
  private loading: PresenceView | undefined;
  private feed: Feed | undefined;
  private resync: Promise<void> | undefined;
  /** Bumped by every (re)load, so a stale one never installs its view. */
  private generation = 0;
  private connected = true;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly bucket: PresenceBucket,
    options: NatsPresenceOptions,
  ) {
    this.clock = options.clock;
    this.log = options.log ?? pino({ level: "silent" });
    this.url = typeof options.url === "string" ? options.url : options.url.join(",");
    this.markerTtl = `${Math.max(1, Math.ceil((options.markerTtlMs ?? DEFAULT_MARKER_TTL_MS) / 1000))}s`;
    this.loadTimeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  }

  /** Loads the bucket into a fresh view, then follows connection changes. */
  async load(): Promise<void> {
    await this.reload();
    void this.followStatus();
  }

  async update(
    key: WorkerKey,
    change: (current: PresenceRecord | undefined) => PresenceRecord,
  ): Promise<PresenceRecord> {
    this.checkConnected();
    const id = encodeKey(key);
    return this.locks.run(id, async () => {
      // Optimistic: the view usually knows the latest revision; a conflict means it did not.
      let known: Slot | undefined = this.view.slot(id);
      for (let attempt = 1; ; attempt++) {
        const now = this.clock.now();
        const live = known?.record !== undefined && deadlineMs(known.record) > now;
        const next = change(live ? known?.record : undefined);
        try {
          const revision = known?.revision ?? 0;
          const ack = await this.publishes.run(() =>
            this.bucket.js.publish(this.bucket.prefix + id, toBinary(PresenceRecordSchema, next), {
              expect: { lastSubjectSequence: revision },
              ttl: `${Math.max(1, Math.ceil((deadlineMs(next) - now) / 1000))}s`,
            }),
          );
          this.applyLocal(id, ack.seq, next, "unregistered");
          return next;
        } catch (error) {
          if (!isRevisionConflict(error)) throw this.storeError(error);
          this.metrics?.casRetry();
          if (attempt >= MAX_ATTEMPTS) {
            throw unavailable(
              `presence store busy: worker ${JSON.stringify(key.worker)} changed ${attempt} times while being updated; retry`,
            );
          }
        }
        known = await this.fetch(id);
      }
    });
  }

  async remove(key: WorkerKey): Promise<void> {
    this.checkConnected();
    const id = encodeKey(key);
    await this.locks.run(id, async () => {
      // A purge marker (rollup) drops the entry; its own TTL keeps the bucket free of tombstones.
      const h = headers();
      h.set("KV-Operation", "PURGE");
      h.set("Nats-Rollup", "sub");
      try {
        const ack = await this.publishes.run(() =>
          this.bucket.js.publish(this.bucket.prefix + id, undefined, {
            headers: h,
            ttl: this.markerTtl,
          }),
        );
        this.applyLocal(id, ack.seq, undefined, "unregistered");
      } catch (error) {
        throw this.storeError(error);
      }
    });
  }

  async list(company: string): Promise<PresenceRecord[]> {
    this.checkConnected();
    if (this.resync !== undefined) await this.waitForResync(this.resync);
    return this.view.list(companyToken(company), this.clock.now());
  }

  async count(company: string): Promise<number> {
    this.checkConnected();
    if (this.resync !== undefined) await this.waitForResync(this.resync);
    return this.view.count(companyToken(company), this.clock.now());
  }

  async watch(company: string, listener: (event: PresenceEvent) => void): Promise<PresenceWatch> {
    this.checkConnected();
    if (this.resync !== undefined) await this.waitForResync(this.resync);
    // No await between the snapshot and adding the listener: no change can fall in between.
    const token = companyToken(company);
    const snapshot = this.view.list(token, this.clock.now());
    return { snapshot, stop: this.listeners.add(token, listener) };
  }

  /** Ready while connected with the view loaded (not resyncing after a reconnect). */
  async ready(): Promise<Readiness> {
    if (this.closed) return { ready: false, reason: "presence store closed" };
    if (!this.connected || this.nc.isClosed()) {
      return { ready: false, reason: `no connection to NATS at ${this.url}` };
    }
    if (this.resync !== undefined) {
      return { ready: false, reason: "resyncing the presence view after a reconnect" };
    }
    return READY;
  }

  liveCount(): number {
    return this.view.liveCount(this.clock.now());
  }

  useMetrics(metrics: StoreMetrics): void {
    this.metrics = metrics;
  }

  /** Replicas of the bucket's stream. */
  get replicas(): number {
    return this.bucket.replicas;
  }

  /** Watches not yet stopped; lets tests check that a client going away ends its watch. */
  get watchers(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    // Deleting the consumer needs the server; without a connection, closing is enough.
    const stopping = this.feed?.stop();
    if (this.connected) await stopping;
    await this.nc.close().catch(() => undefined);
  }

  /** Keys held by the view, live or not yet removed by their expiry marker. */
  get size(): number {
    return this.view.size;
  }

  /** Builds a new view from a new watch and swaps it in once it has loaded the whole bucket. */
  private async reload(): Promise<void> {
    const generation = ++this.generation;
    const next = new PresenceView();
    const first = this.feed === undefined;
    if (!first) this.loading = next;
    const feed = await startFeed(this.bucket, (entry) => this.fromWatch(next, entry), this.log);
    try {
      await withTimeout(feed.ready, this.loadTimeoutMs, "loading the presence bucket");
    } catch (error) {
      await feed.stop();
      throw error;
    }
    if (generation !== this.generation) {
      await feed.stop();
      return;
    }
    const previous = this.feed;
    const changes = this.view.changesTo(next, this.clock.now());
    this.view = next;
    this.feed = feed;
    for (const [key, event] of changes) this.listeners.emit(companyOf(key), event);
    this.loading = undefined;
    await previous?.stop();
  }

  private fromWatch(view: PresenceView, entry: FeedEntry): void {
    const { key, revision, data, reason } = entry;
    // This instance's own writes come back through the watch after applyLocal put them in the
    // view: a put the view already holds (or has newer) changes nothing, so it is not decoded.
    const known = view.slot(key);
    if (data !== undefined && known !== undefined && known.revision >= revision) return;
    const record = data === undefined ? undefined : fromBinary(PresenceRecordSchema, data);
    const event = view.apply(key, revision, record, reason, true, this.clock.now());
    // A view still loading is not what watchers see yet: the swap reports its differences.
    if (event !== undefined && view === this.view) this.listeners.emit(companyOf(key), event);
  }

  private applyLocal(
    id: string,
    revision: number,
    record: PresenceRecord | undefined,
    reason: LeftReason,
  ): void {
    const now = this.clock.now();
    const event = this.view.apply(id, revision, record, reason, false, now);
    this.loading?.apply(id, revision, record, reason, false, now);
    if (event !== undefined) this.listeners.emit(companyOf(id), event);
  }

  /** The key's current state in the bucket, read directly: the view was behind. */
  private async fetch(id: string): Promise<Slot | undefined> {
    let entry: Awaited<ReturnType<PresenceBucket["kv"]["get"]>>;
    try {
      entry = await this.bucket.kv.get(id);
    } catch (error) {
      throw this.storeError(error);
    }
    if (entry === null) return undefined;
    const record =
      entry.operation === "PUT" ? fromBinary(PresenceRecordSchema, entry.value) : undefined;
    return { revision: entry.revision, record };
  }

  /** Tracks the connection: reads and writes fail fast while it is down, and the view resyncs. */
  private async followStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (this.closed) return;
      switch (status.type) {
        case "disconnect":
          this.connected = false;
          this.log.warn({ url: this.url }, "presence: lost the connection to NATS; reconnecting");
          break;
        case "reconnect":
          this.connected = true;
          this.metrics?.reconnected();
          this.log.info({ url: this.url }, "presence: reconnected to NATS; resyncing");
          this.startResync();
          break;
        default:
          break;
      }
    }
  }

  private startResync(): void {
    const resync = (async () => {
      // Retry until it works, or until the connection drops again (the next reconnect retries).
      while (!this.closed && this.connected) {
        try {
          await this.reload();
          this.log.info("presence: view resynced");
          return;
        } catch (error) {
          this.log.warn({ err: error }, "presence: resync failed; retrying");
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    })();
    this.resync = resync;
    void resync.finally(() => {
      if (this.resync === resync) this.resync = undefined;
    });
  }

  private async waitForResync(resync: Promise<void>): Promise<void> {
    try {
      await withTimeout(resync, RESYNC_WAIT_MS, "resyncing the presence view");
    } catch {
      throw unavailable(`presence store unreachable: still resyncing with NATS at ${this.url}`);
    }
    this.checkConnected();
  }

  private checkConnected(): void {
    if (this.closed) throw unavailable("presence store closed");
    if (!this.connected || this.nc.isClosed()) {
      throw unavailable(`presence store unreachable: no connection to NATS at ${this.url}`);
    }
  }

  private storeError(error: unknown): ApiError {
    if (error instanceof ApiError) return error;
    if (error instanceof JetStreamApiError) {
      return unavailable(`presence store failed: ${error.message}`);
    }
    return unavailable(`presence store unreachable: NATS at ${this.url}: ${messageOf(error)}`);
  }
}

function isRevisionConflict(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
