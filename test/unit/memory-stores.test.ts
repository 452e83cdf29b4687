import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { bucketRange } from "../../src/core/buckets.js";
import { DEFAULT_IDENTITY } from "../../src/core/identity.js";
import { PresenceRecordSchema } from "../../src/gen/muster/presence/v1/record_pb.js";
import { Aggregation } from "../../src/gen/muster/workers/v1/types_pb.js";
import { MemoryPresenceStore } from "../../src/presence/memory/memory-presence-store.js";
import { MemoryStatsStore } from "../../src/stats/memory/memory-stats-store.js";
import { WorkersServiceImpl } from "../../src/workers/service.js";
import { ManualClock } from "../support/clock.js";
import { collect } from "../support/rows.js";
import { client } from "../support/service.js";

const record = (id: string, atMs: number, timeoutSeconds: number) =>
  create(PresenceRecordSchema, {
    worker: { id, lastActivityTime: timestampFromMs(atMs), registerTimeout: timeoutSeconds },
  });

describe("memory presence store", () => {
  it("frees expired entries without being asked for them", async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryPresenceStore(clock);
    try {
      for (let i = 0; i < 1000; i++) {
        const key = { company: "c", user: "u", worker: `w${i}` };
        await store.update(key, () => record(`w${i}`, clock.now(), 10));
      }
      expect(store.size).toBe(1000);
      clock.advance(10_000);
      // A write to another company pops every passed deadline on its way.
      await store.update({ company: "other", user: "u", worker: "x" }, () =>
        record("x", clock.now(), 10),
      );
      expect(store.size).toBe(1);
      expect(await store.list("c")).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("applies updates of one key in order", async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryPresenceStore(clock);
    try {
      const key = { company: "c", user: "u", worker: "w" };
      await Promise.all(
        Array.from({ length: 50 }, () =>
          store.update(key, (current) => {
            const next = record("w", clock.now(), 60);
            next.worker?.tags.push(...(current?.worker?.tags ?? []), "x");
            return next;
          }),
        ),
      );
      const [only] = await store.list("c");
      expect(only?.worker?.tags).toHaveLength(50);
    } finally {
      await store.close();
    }
  });
});

describe("memory stats store limits", () => {
  const sample = { category: "cpu", metric: "cpu_usage", variant: "0" };

  it("keeps at most maxSamples, dropping the oldest first", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = new MemoryStatsStore(clock, { retentionMs: 1e12, maxSamples: 100 });
    for (let i = 0; i < 80; i++) {
      await store.record({
        company: "c",
        worker: "w",
        task: undefined,
        timeMs: clock.now() - 80_000 + i * 1000,
        samples: [{ ...sample, value: i }],
      });
    }
    // Each report is one activity point plus one sample.
    expect(store.sampleCount).toBe(100);
    const range = bucketRange(clock.now() / 1000 - 100, clock.now() / 1000, 1000, 10);
    const rows = await collect(
      store.stats({
        company: "c",
        workers: [],
        range,
        metrics: [{ metric: "cpu_usage", aggregations: [Aggregation.MIN] }],
        splitByVariant: false,
      }),
    );
    // 160 points were written, 100 kept: the 30 oldest reports lost both their points.
    expect(rows.map((r) => r.value)).toEqual([30]);
  });

  it("drops samples older than the retention window as new ones arrive", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = new MemoryStatsStore(clock, { retentionMs: 60_000, maxSamples: 1000 });
    const report = (timeMs: number) =>
      store.record({
        company: "c",
        worker: "w",
        task: "t",
        timeMs,
        samples: [{ ...sample, value: 1 }],
      });
    await report(clock.now() - 120_000);
    await report(clock.now() - 90_000);
    expect(store.sampleCount).toBe(0);
    await report(clock.now() - 30_000);
    expect(store.sampleCount).toBe(2);
    clock.advance(31_000);
    await report(clock.now());
    expect(store.sampleCount).toBe(2);
  });
});

describe("status reports and stored records", () => {
  it("leave a record a reader already holds unchanged", async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 12));
    const presence = new MemoryPresenceStore(clock);
    const service = new WorkersServiceImpl({ presence, stats: new MemoryStatsStore(clock), clock });
    try {
      const api = client(service, { identity: DEFAULT_IDENTITY });
      await api.statusReport({
        worker: "w",
        timestamp: BigInt(clock.now()),
        task: "t1",
        queue: "q",
      });
      const [held] = await presence.list(DEFAULT_IDENTITY.company);
      await api.statusReport({ worker: "w", timestamp: BigInt(clock.now()), tags: ["new"] });
      expect(held?.worker?.task?.id).toBe("t1");
      expect(held?.worker?.queue?.id).toBe("q");
      expect(held?.worker?.tags).toEqual([]);
      const [now] = (await api.getAll()).workers;
      expect([now?.task, now?.queue, now?.tags]).toEqual([undefined, undefined, ["new"]]);
    } finally {
      await presence.close();
    }
  });
});
