import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../src/core/clock.js";
import { ApiError } from "../src/core/errors.js";
import { type CallContext, DEFAULT_IDENTITY } from "../src/core/identity.js";
import type { PresenceEvent, PresenceRecord, WorkerKey } from "../src/core/presence-store.js";
import { PresenceRecordSchema } from "../src/gen/muster/presence/v1/record_pb.js";
import { IdNameEntrySchema, WorkerSchema } from "../src/gen/muster/workers/v1/types_pb.js";
import {
  NatsPresenceStore,
  openNatsPresenceStore,
} from "../src/presence/nats/nats-presence-store.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";
import { WorkersServiceImpl } from "../src/workers/service.js";
import { serviceContract } from "./contract/service.contract.js";
import { type NatsServerHandle, startNatsServer } from "./harness/nats-server.js";
import { HOSTILE_IDS } from "./support/hostile-ids.js";
import { client } from "./support/service.js";

let server: NatsServerHandle;
let admin: NatsConnection;
let buckets = 0;
const opened: NatsPresenceStore[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  admin = await connect({ servers: server.url });
});

afterAll(async () => {
  await admin?.close();
  await server?.close();
});

/** A bucket name no other test uses, so each test starts empty. */
function freshBucket(): string {
  buckets += 1;
  return `t${process.pid}_${buckets}`;
}

async function deleteBucket(bucket: string): Promise<void> {
  const jsm = await jetstreamManager(admin);
  await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
}

async function openStore(bucket: string, clock: Clock = systemClock, url = server.url) {
  const store = await openNatsPresenceStore({ url, bucket, clock });
  opened.push(store);
  return store;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

serviceContract("NATS presence + memory stats", async (clock) => {
  const bucket = freshBucket();
  const presence = await openNatsPresenceStore({ url: server.url, bucket, clock });
  const stats = new MemoryStatsStore(clock);
  return {
    presence,
    stats,
    async close() {
      await Promise.all([presence.close(), stats.close()]);
      await deleteBucket(bucket);
    },
  };
});

const ctx: CallContext = { identity: DEFAULT_IDENTITY };
const key = (worker: string): WorkerKey => ({ ...DEFAULT_IDENTITY, worker });

function serviceOn(store: NatsPresenceStore, clock: Clock = systemClock) {
  const service = new WorkersServiceImpl({
    presence: store,
    stats: new MemoryStatsStore(clock),
    clock,
  });
  return client(service, ctx);
}

function record(worker: string, tags: string[] = [], timeoutSeconds = 600): PresenceRecord {
  const now = timestampFromMs(Date.now());
  return create(PresenceRecordSchema, {
    worker: create(WorkerSchema, {
      id: worker,
      user: create(IdNameEntrySchema, { id: "default" }),
      company: create(IdNameEntrySchema, { id: "default" }),
      registerTime: now,
      lastActivityTime: now,
      registerTimeout: timeoutSeconds,
      tags,
    }),
  });
}

const workerIds = async (store: NatsPresenceStore) =>
  (await store.list("default")).map((r) => r.worker?.id ?? "").sort();

/** Polls until `check` holds; fails after `ms`. */
async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("NATS presence store", () => {
  it("accepts the test server", async () => {
    const bucket = freshBucket();
    await expect(openStore(bucket)).resolves.toBeInstanceOf(NatsPresenceStore);
    await deleteBucket(bucket);
  });

  it("round-trips hostile worker ids through two instances", async () => {
    const bucket = freshBucket();
    const [a, b] = [await openStore(bucket), await openStore(bucket)];
    const apiA = serviceOn(a);
    for (const worker of HOSTILE_IDS.filter((id) => id !== "")) await apiA.register({ worker });
    const expected = HOSTILE_IDS.filter((id) => id !== "").sort();
    await within(1000, async () => (await workerIds(b)).length === expected.length);
    expect(await workerIds(b)).toEqual(expected);
    const apiB = serviceOn(b);
    for (const worker of expected) await apiB.unregister({ worker });
    await within(1000, async () => (await workerIds(a)).length === 0);
    await deleteBucket(bucket);
  });

  it("loads what is already in the bucket before it is ready", async () => {
    const bucket = freshBucket();
    const a = await openStore(bucket);
    for (let i = 0; i < 50; i++) await a.update(key(`w${i}`), () => record(`w${i}`));
    const b = await openStore(bucket);
    expect(await workerIds(b)).toHaveLength(50);
    await deleteBucket(bucket);
  });

  it("loads every worker before it is ready while another instance keeps writing", async () => {
    const bucket = freshBucket();
    const a = await openStore(bucket);
    const workers = Array.from({ length: 300 }, (_, i) => `w${i}`);
    await Promise.all(workers.map((w) => a.update(key(w), () => record(w))));
    // Writers updating every worker as fast as they can while B opens: keys written between B
    // reading the stream's state and its watch starting must not be missed by the initial load.
    let writing = true;
    const writers = Array.from({ length: 20 }, async (_, n) => {
      for (let i = n; writing; i = (i + 20) % workers.length) {
        const w = workers[i] as string;
        await a.update(key(w), () => record(w, [`n${i}`]));
      }
    });
    try {
      for (let round = 0; round < 30; round++) {
        const b = await openNatsPresenceStore({ url: server.url, bucket, clock: systemClock });
        const seen = (await b.list("default")).length;
        await b.close();
        expect(seen, `round ${round}`).toBe(workers.length);
      }
    } finally {
      writing = false;
      await Promise.all(writers);
    }
    await deleteBucket(bucket);
  });

  it("expires a worker in real time through NATS TTL, seen by both instances", async () => {
    const bucket = freshBucket();
    const [a, b] = [await openStore(bucket), await openStore(bucket)];
    const registered = Date.now();
    await serviceOn(a).register({ worker: "short", timeout: 2 });
    await serviceOn(a).register({ worker: "long", timeout: 60 });
    await within(100, async () => (await workerIds(b)).length === 2);

    await sleep(1500 - (Date.now() - registered));
    expect(await workerIds(a)).toEqual(["long", "short"]);
    expect(await workerIds(b)).toEqual(["long", "short"]);

    // Gone by the deadline + 1 s from every instance's answers...
    await sleep(3000 - (Date.now() - registered));
    expect(await workerIds(a)).toEqual(["long"]);
    expect(await workerIds(b)).toEqual(["long"]);
    // ...because NATS expired the entry: its marker reached both views and the key is gone.
    await within(1000, async () => a.size === 1 && b.size === 1);
    await deleteBucket(bucket);
  });

  it("loses no update when two instances read-modify-write the same worker at once", async () => {
    const bucket = freshBucket();
    const [a, b] = [await openStore(bucket), await openStore(bucket)];
    await a.update(key("busy"), () => record("busy"));
    const addTag = (tag: string) => (current: PresenceRecord | undefined) => {
      const next = create(PresenceRecordSchema, current ?? record("busy"));
      const worker = create(WorkerSchema, next.worker);
      worker.tags = [...worker.tags, tag];
      next.worker = worker;
      return next;
    };
    const writes = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? a : b).update(key("busy"), addTag(`t${i}`)),
    );
    await Promise.all(writes);
    const expected = Array.from({ length: 40 }, (_, i) => `t${i}`).sort();
    await within(1000, async () => {
      const [fromA, fromB] = [await a.list("default"), await b.list("default")];
      return [fromA, fromB].every((list) => list[0]?.worker?.tags.length === 40);
    });
    for (const store of [a, b]) {
      const [busy] = await store.list("default");
      expect([...(busy?.worker?.tags ?? [])].sort()).toEqual(expected);
    }
    await deleteBucket(bucket);
  });

  it("serves two instances as one: registered via A is listed by B within 100 ms, and back", async () => {
    const bucket = freshBucket();
    const [a, b] = [await openStore(bucket), await openStore(bucket)];
    const [apiA, apiB] = [serviceOn(a), serviceOn(b)];
    for (let i = 0; i < 5; i++) {
      await apiA.register({ worker: `node-${i}` });
      await within(100, async () =>
        (await apiB.getAll()).workers.some((w) => w.id === `node-${i}`),
      );
      await apiB.unregister({ worker: `node-${i}` });
      await within(100, async () => (await apiA.getCount()).count === 0);
    }
    await deleteBucket(bucket);
  });

  it("fails fast while NATS is down, then serves again and resyncs within 5 s", async () => {
    const own = await startNatsServer();
    try {
      const bucket = "muster_workers";
      const [a, b] = [
        await openStore(bucket, systemClock, own.url),
        await openStore(bucket, systemClock, own.url),
      ];
      const apiA = serviceOn(a);
      await apiA.register({ worker: "before-outage" });
      const fleetingAt = Date.now();
      await apiA.register({ worker: "fleeting", timeout: 1 });
      const events: PresenceEvent[] = [];
      const watch = await a.watch("default", (event) => events.push(event));
      await own.stop();

      // The clients notice the closed socket at once; from then on calls fail without waiting.
      await within(2000, async () => (await failure(a.list("default"))) !== undefined);
      for (const call of [
        () => a.list("default"),
        () => a.update(key("x"), () => record("x")),
        () => a.remove(key("x")),
        () => apiA.statusReport({ worker: "x", timestamp: BigInt(Date.now()) }),
      ]) {
        const started = Date.now();
        const error = await failure(call());
        expect(Date.now() - started).toBeLessThan(200);
        expect(error).toBeInstanceOf(ApiError);
        expect(error?.code).toBe(Code.Unavailable);
        expect(error?.message).toMatch(/presence store unreachable/);
      }

      // "fleeting" expires while NATS is down: no marker can reach A then.
      await sleep(1200 - (Date.now() - fleetingAt));
      expect(events).toEqual([]);
      await own.start();
      await within(5000, async () => (await failure(a.list("default"))) === undefined);
      // Nothing acknowledged before the outage is lost, and both instances follow the bucket again.
      expect(await workerIds(a)).toEqual(["before-outage"]);
      await within(5000, async () => (await failure(b.list("default"))) === undefined);
      await serviceOn(b).register({ worker: "after-outage" });
      await within(500, async () => (await workerIds(a)).length === 2);
      expect(await workerIds(a)).toEqual(["after-outage", "before-outage"]);
      // A's watcher is told what it missed (by the resync, or by the server's expiry marker once
      // the restarted server gets to it), and the watch kept going.
      const seen = () =>
        events.map((e) => [e.kind, e.record.worker?.id, e.kind === "left" && e.reason]).sort();
      await within(3000, async () => seen().length >= 2);
      expect(seen()).toEqual([
        ["joined", "after-outage", false],
        ["left", "fleeting", "expired"],
      ]);
      watch.stop();
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await own.close();
    }
  });

  it("refuses to start when NATS is unreachable, with a clear message", async () => {
    const own = await startNatsServer();
    const url = own.url;
    await own.close();
    const error = await failure(
      openNatsPresenceStore({ url, bucket: "muster_workers", clock: systemClock }),
    );
    expect(error?.code).toBe(Code.Unavailable);
    expect(error?.message).toMatch(
      /^presence store unreachable: cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/,
    );
  });
});

async function failure(call: Promise<unknown>): Promise<ApiError | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
}
