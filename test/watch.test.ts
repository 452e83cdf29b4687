import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../src/core/clock.js";
import {
  LeftReason,
  type WatchWorkersResponse,
  WorkersService,
} from "../src/gen/muster/workers/v1/workers_pb.js";
import { createMuster } from "../src/muster.js";
import { MemoryPresenceStore } from "../src/presence/memory/memory-presence-store.js";
import {
  type NatsPresenceStore,
  openNatsPresenceStore,
} from "../src/presence/nats/nats-presence-store.js";
import type { RunningServer } from "../src/server.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";
import { type NatsServerHandle, startNatsServer } from "./harness/nats-server.js";

let nats: NatsServerHandle;
let admin: NatsConnection;
let buckets = 0;

beforeAll(async () => {
  nats = await startNatsServer();
  admin = await connect({ servers: nats.url });
});

afterAll(async () => {
  await admin?.close();
  await nats?.close();
});

type Store = MemoryPresenceStore | NatsPresenceStore;

interface Muster {
  readonly store: Store;
  readonly server: RunningServer;
  close(): Promise<void>;
}

const running: Muster[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.close()));
});

async function startMuster(store: Store): Promise<Muster> {
  const { server, close } = await createMuster({
    presence: store,
    stats: new MemoryStatsStore(systemClock),
    clock: systemClock,
    log: pino({ level: "silent" }),
  });
  const muster = { store, server, close };
  running.push(muster);
  return muster;
}

const stores: Array<[string, (bucket: string) => Promise<Store>]> = [
  ["memory", async () => new MemoryPresenceStore(systemClock)],
  ["NATS", (bucket) => openNatsPresenceStore({ url: nats.url, bucket, clock: systemClock })],
];

const protocols: Array<[string, (url: string) => Transport]> = [
  ["gRPC", (baseUrl) => createGrpcTransport({ baseUrl })],
  ["Connect", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" })],
];

/** Reads a server stream one message at a time, failing when none comes in time. */
function reader(stream: AsyncIterable<WatchWorkersResponse>) {
  const iterator = stream[Symbol.asyncIterator]();
  return async (timeoutMs = 2000): Promise<WatchWorkersResponse> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done === true) throw new Error("the stream ended");
      return next.value;
    } finally {
      clearTimeout(timer);
    }
  };
}

const summary = (message: WatchWorkersResponse) => {
  const { event } = message;
  switch (event.case) {
    case "snapshot":
      return ["snapshot", event.value.workers.map((w) => w.id)];
    case "left":
      return ["left", event.value.worker?.id, LeftReason[event.value.reason]];
    case "joined":
    case "updated":
      return [event.case, event.value.id];
    default:
      return ["none"];
  }
};

async function within(ms: number, check: () => boolean): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const [storeName, openStore] of stores) {
  for (const [protocol, transport] of protocols) {
    describe(`WatchWorkers on the ${storeName} store over ${protocol}`, () => {
      it("streams a snapshot, then joined, updated and left (unregistered, expired), and ends when the client goes away", async () => {
        buckets += 1;
        const bucket = `watch${process.pid}_${buckets}`;
        const muster = await startMuster(await openStore(bucket));
        const client = createClient(WorkersService, transport(muster.server.url));
        await client.register({ worker: "before", tags: ["x"] });

        const abort = new AbortController();
        const next = reader(client.watchWorkers({}, { signal: abort.signal }));
        expect(summary(await next())).toEqual(["snapshot", ["before"]]);

        await client.register({ worker: "w1" });
        expect(summary(await next())).toEqual(["joined", "w1"]);
        await client.statusReport({ worker: "w1", timestamp: BigInt(Date.now()), task: "t1" });
        const updated = await next();
        expect(summary(updated)).toEqual(["updated", "w1"]);
        expect(updated.event.case === "updated" && updated.event.value.task?.id).toBe("t1");
        await client.unregister({ worker: "w1" });
        expect(summary(await next())).toEqual(["left", "w1", "UNREGISTERED"]);

        const registered = Date.now();
        await client.register({ worker: "short", timeout: 1 });
        expect(summary(await next())).toEqual(["joined", "short"]);
        expect(summary(await next(3000))).toEqual(["left", "short", "EXPIRED"]);
        const after = Date.now() - registered;
        expect(after).toBeGreaterThanOrEqual(1000);
        expect(after).toBeLessThanOrEqual(2200);

        expect(muster.store.watchers).toBe(1);
        abort.abort();
        await within(2000, () => muster.store.watchers === 0);
        if (storeName === "NATS") {
          const jsm = await jetstreamManager(admin);
          await jsm.streams.delete(`KV_${bucket}`);
        }
      });
    });
  }
}

describe("WatchWorkers across two muster instances on one NATS bucket", () => {
  it("tells a watcher on A of workers registered and unregistered through B", async () => {
    buckets += 1;
    const bucket = `watch${process.pid}_${buckets}`;
    const open = () => openNatsPresenceStore({ url: nats.url, bucket, clock: systemClock });
    const [a, b] = [await startMuster(await open()), await startMuster(await open())];
    const watcher = createClient(WorkersService, createGrpcTransport({ baseUrl: a.server.url }));
    const other = createClient(WorkersService, createGrpcTransport({ baseUrl: b.server.url }));
    const abort = new AbortController();
    const next = reader(watcher.watchWorkers({}, { signal: abort.signal }));
    expect(summary(await next())).toEqual(["snapshot", []]);
    await other.register({ worker: "via-b" });
    expect(summary(await next(500))).toEqual(["joined", "via-b"]);
    await other.unregister({ worker: "via-b" });
    expect(summary(await next(500))).toEqual(["left", "via-b", "UNREGISTERED"]);
    abort.abort();
    await within(2000, () => a.store.watchers === 0);
  });
});
