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
    const store = new MemoryStatsStore(clock, {
      retentionMs: 1e12,
      maxSamples: 100,
      maxSeries: 1000,
    });
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
    const store = new MemoryStatsStore(clock, {
      retentionMs: 60_000,
      maxSamples: 1000,
      maxSeries: 1000,
    });
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

/** A store that keeps a minute of samples, with no other bound. */
const minuteStore = (clock: ManualClock) =>
  new MemoryStatsStore(clock, { retentionMs: 60_000, maxSamples: 1e9, maxSeries: 1e9 });

/** A report of an activity point and three samples: four series of the worker. */
const report = (store: MemoryStatsStore, worker: string, timeMs: number, company = "c") =>
  store.record({
    company,
    worker,
    task: undefined,
    timeMs,
    samples: [
      { category: "cpu", metric: "cpu_usage", variant: "0", value: 1 },
      { category: "cpu", metric: "cpu_usage", variant: "1", value: 2 },
      { category: "memory", metric: "memory_used", variant: "total", value: 3 },
    ],
  });

describe("memory stats store forgets workers", () => {
  it("frees every worker and series once their samples pass the retention window", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = minuteStore(clock);
    try {
      for (let i = 0; i < 5000; i++) {
        await report(store, `worker-${i}`, clock.now(), i % 2 === 0 ? "a" : "b");
      }
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([
        5000, 20_000, 20_000,
      ]);
      clock.advance(60_001);
      // No report arrives: the periodic sweep (called here by hand) drops them.
      store.sweep();
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([0, 0, 0]);
      // Only the emptied series kept for reuse (at most 4,096) keep a slot number.
      expect(store.heldSlots).toBe(4096);
      // A reader sweeps too, and the store still works afterwards.
      await report(store, "again", clock.now());
      clock.advance(60_001);
      expect(await store.metricKeys("c", [])).toEqual([]);
      expect([store.workerCount, store.seriesCount]).toEqual([0, 0]);
    } finally {
      await store.close();
    }
  });

  it("frees workers whose samples the maxSamples bound pushed out", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = new MemoryStatsStore(clock, {
      retentionMs: 1e12,
      maxSamples: 400,
      maxSeries: 1e9,
    });
    try {
      // 10,000 distinct ids, each reporting once (4 samples): only the last 100 fit.
      for (let i = 0; i < 10_000; i++) await report(store, `worker-${i}`, clock.now() + i);
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([100, 400, 400]);
    } finally {
      await store.close();
    }
  });

  it("keeps at most maxSeries, dropping the oldest samples until a series empties", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = new MemoryStatsStore(clock, {
      retentionMs: 1e12,
      maxSamples: 1e9,
      maxSeries: 40,
    });
    try {
      for (let i = 0; i < 1000; i++) await report(store, `worker-${i}`, clock.now() + i);
      // Four series a worker: the ten latest workers are held, whole.
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([10, 40, 40]);
      const keys = await store.metricKeys("c", ["worker-999"]);
      expect(keys.flatMap((c) => c.metricKeys)).toEqual(["cpu_usage", "memory_used"]);
      expect(await store.metricKeys("c", ["worker-0"])).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("answers with exactly each held worker's samples after series were freed and made again", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = new MemoryStatsStore(clock, { retentionMs: 1e12, maxSamples: 1e9, maxSeries: 8 });
    try {
      // Each worker's report frees the oldest worker's series; the new ones are the freed ones,
      // made over, and must hold nothing of their past (values, times, owner, names).
      for (let i = 0; i < 50; i++) {
        await store.record({
          company: "c",
          worker: `w-${i}`,
          task: undefined,
          timeMs: clock.now() - 50_000 + i * 1000,
          samples: [
            { category: "cpu", metric: "cpu_usage", variant: "0", value: i },
            {
              category: "gpu",
              metric: i % 2 === 0 ? "gpu_usage" : "gpu_temperature",
              variant: "0",
              value: 100 + i,
            },
            { category: "memory", metric: "memory_used", variant: "total", value: 1000 + i },
          ],
        });
      }
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([2, 8, 8]);
      const range = bucketRange(clock.now() / 1000 - 100, clock.now() / 1000, 10, 100);
      const rows = await collect(
        store.stats({
          company: "c",
          workers: [],
          range,
          metrics: ["cpu_usage", "gpu_usage", "gpu_temperature", "memory_used"].map((metric) => ({
            metric,
            aggregations: [Aggregation.MAX],
          })),
          splitByVariant: true,
        }),
      );
      expect(rows.map((r) => [r.worker, r.metric, r.variant, r.value])).toEqual([
        ["w-48", "cpu_usage", "0", 48],
        ["w-48", "gpu_usage", "0", 148],
        ["w-48", "memory_used", "total", 1048],
        ["w-49", "cpu_usage", "0", 49],
        ["w-49", "gpu_temperature", "0", 149],
        ["w-49", "memory_used", "total", 1049],
      ]);
      expect((await store.metricKeys("c", ["w-49"])).flatMap((c) => c.metricKeys)).toEqual([
        "cpu_usage",
        "gpu_temperature",
        "memory_used",
      ]);
    } finally {
      await store.close();
    }
  });

  it("keeps samples and eviction apart when series let go give their numbers to new ones", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = minuteStore(clock);
    try {
      // 20,000 series freed at once: a few thousand are kept for reuse, the rest give back their
      // slot numbers, which the next series take while older series' samples are still queued.
      for (let i = 0; i < 5000; i++) await report(store, `old-${i}`, clock.now());
      clock.advance(30_000);
      for (let i = 0; i < 5000; i++) await report(store, `mid-${i}`, clock.now());
      clock.advance(30_001);
      store.sweep();
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([
        5000, 20_000, 20_000,
      ]);
      for (let i = 0; i < 5000; i++) {
        await store.record({
          company: "c",
          worker: `new-${i}`,
          task: undefined,
          timeMs: clock.now(),
          samples: [{ category: "cpu", metric: "cpu_usage", variant: "0", value: i }],
        });
      }
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([
        10_000, 30_000, 30_000,
      ]);
      // The "mid" workers' samples are now the oldest: exactly they go, and the new ones stay whole.
      clock.advance(30_000);
      store.sweep();
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([
        5000, 10_000, 10_000,
      ]);
      const range = bucketRange(clock.now() / 1000 - 100, clock.now() / 1000, 100, 100);
      const rows = await collect(
        store.stats({
          company: "c",
          workers: ["new-0", "new-2500", "new-4999", "mid-0"],
          range,
          metrics: [{ metric: "cpu_usage", aggregations: [Aggregation.MAX] }],
          splitByVariant: false,
        }),
      );
      expect(rows.map((r) => [r.worker, r.value])).toEqual([
        ["new-0", 0],
        ["new-2500", 2500],
        ["new-4999", 4999],
      ]);
      clock.advance(60_001);
      store.sweep();
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([0, 0, 0]);
    } finally {
      await store.close();
    }
  });

  it("files a freed worker's reused data under the next worker's company and id", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = new MemoryStatsStore(clock, {
      retentionMs: 60_000,
      maxSamples: 1e9,
      maxSeries: 8,
    });
    try {
      // Four series a worker, two workers held: each report frees the oldest worker, whose data
      // the next one (of the other company) takes over.
      for (let i = 0; i < 20; i++) {
        await report(store, `w-${i}`, clock.now() + i, i % 2 === 0 ? "even" : "odd");
      }
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([2, 8, 8]);
      const held = async (company: string, workers: string[]) =>
        (
          await collect(
            store.stats({
              company,
              workers,
              range: bucketRange(clock.now() / 1000 - 100, clock.now() / 1000 + 100, 100, 100),
              metrics: [{ metric: "memory_used", aggregations: [Aggregation.MAX] }],
              splitByVariant: false,
            }),
          )
        ).map((row) => row.worker);
      expect(await held("even", [])).toEqual(["w-18"]);
      expect(await held("odd", [])).toEqual(["w-19"]);
      // Ids a reused object used to have are nowhere.
      expect(await held("even", ["w-16", "w-17", "w-19"])).toEqual([]);
      expect(await held("odd", ["w-17", "w-18"])).toEqual([]);
      // Forgotten by their company's map too: both companies empty out at the retention window.
      clock.advance(60_100);
      store.sweep();
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([0, 0, 0]);
      await report(store, "w-late", clock.now(), "odd");
      expect(await held("odd", [])).toEqual(["w-late"]);
      expect(await held("even", [])).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("drops a new series' sample rather than a report's own, when one report exceeds maxSeries", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = new MemoryStatsStore(clock, { retentionMs: 1e12, maxSamples: 1e9, maxSeries: 2 });
    try {
      await report(store, "w", clock.now());
      // The activity point and the first cpu_usage variant fit; the rest of this report does not.
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([1, 2, 2]);
    } finally {
      await store.close();
    }
  });
});

describe("memory stats store counts what its bounds drop", () => {
  /** A StoreMetrics that keeps what the store reports, by reason. */
  function droppedCounter() {
    const dropped = new Map<string, number>();
    const metrics = {
      casRetry() {},
      reconnected() {},
      writeBatch() {},
      samplesDropped(reason: string, count: number) {
        dropped.set(reason, (dropped.get(reason) ?? 0) + count);
      },
    };
    return { dropped, metrics };
  }

  it("counts samples dropped by retention, the sample bound and the series bound apart", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = new MemoryStatsStore(clock, {
      retentionMs: 60_000,
      maxSamples: 20,
      maxSeries: 8,
    });
    const { dropped, metrics } = droppedCounter();
    store.useMetrics(metrics);
    try {
      // Four series a worker, a sample each: two workers fill maxSeries.
      await report(store, "a", clock.now());
      await report(store, "b", clock.now());
      expect([...dropped]).toEqual([]);
      // A third worker's four series push out the four oldest samples (all of a's).
      await report(store, "c", clock.now());
      expect(dropped.get("series")).toBe(4);
      // Five more reports from b and c: 8 + 40 samples, 20 kept.
      for (let i = 1; i <= 5; i++) {
        await report(store, "b", clock.now() + i);
        await report(store, "c", clock.now() + i);
      }
      expect(store.sampleCount).toBe(20);
      expect(dropped.get("samples")).toBe(28);
      // Past the retention window, the next report's arrival drops all that is held.
      clock.advance(120_000);
      await report(store, "b", clock.now());
      expect(dropped.get("retention")).toBe(20);
      expect(store.sampleCount).toBe(4);
    } finally {
      await store.close();
    }
  });
});

describe("status reports and stored records", () => {
  /** A service on memory stores at a hand-moved clock, closed after `run`. */
  async function withService(
    run: (s: {
      clock: ManualClock;
      presence: MemoryPresenceStore;
      api: ReturnType<typeof client>;
    }) => Promise<void>,
  ): Promise<void> {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 12));
    const presence = new MemoryPresenceStore(clock);
    const service = new WorkersServiceImpl({ presence, stats: new MemoryStatsStore(clock), clock });
    try {
      await run({ clock, presence, api: client(service, { identity: DEFAULT_IDENTITY }) });
    } finally {
      await presence.close();
    }
  }

  it("leave a record a reader already holds unchanged", () =>
    withService(async ({ clock, presence, api }) => {
      await api.statusReport({
        worker: "w",
        timestamp: BigInt(clock.now()),
        task: "t1",
        queue: "q",
      });
      const [held] = await presence.list(DEFAULT_IDENTITY.company);
      const heldActivity = held?.worker?.lastActivityTime;
      clock.advance(5_000);
      await api.statusReport({ worker: "w", timestamp: BigInt(clock.now()), tags: ["new"] });
      expect(held?.worker?.lastActivityTime).toBe(heldActivity);
      expect(held?.worker?.lastActivityTime?.seconds).toBe(
        BigInt(Date.UTC(2026, 10, 29, 12) / 1000),
      );
      expect(held?.worker?.task?.id).toBe("t1");
      expect(held?.worker?.queue?.id).toBe("q");
      expect(held?.worker?.tags).toEqual([]);
      const [now] = (await api.getAll()).workers;
      expect([now?.task, now?.queue, now?.tags]).toEqual([undefined, undefined, ["new"]]);
      expect(now?.lastActivityTime?.seconds).toBe(BigInt(Date.UTC(2026, 10, 29, 12) / 1000 + 5));
    }));

  it("share one user and one company entry between a user's workers", () =>
    withService(async ({ clock, api }) => {
      await api.register({ worker: "a" });
      await api.statusReport({ worker: "b", timestamp: BigInt(clock.now()) });
      await api.statusReport({ worker: "a", timestamp: BigInt(clock.now()) });
      const [a, b] = (await api.getAll()).workers;
      expect([a?.id, b?.id]).toEqual(["a", "b"]);
      expect(a?.user).toBe(b?.user);
      expect(a?.company).toBe(b?.company);
      expect(a?.user?.id).toBe(DEFAULT_IDENTITY.user);
    }));
});

describe("memory stats store, a worker with long lists", () => {
  it("keeps and answers thousands of series of one worker, and frees them all", async () => {
    const clock = new ManualClock(1_000_000_000);
    const store = minuteStore(clock);
    try {
      const lists = ["cpu_usage", "gpu_usage", "gpu_temperature"];
      for (const offset of [0, 1]) {
        await store.record({
          company: "c",
          worker: "big",
          task: undefined,
          timeMs: clock.now() - 10_000 + offset * 5_000,
          samples: lists.flatMap((metric) =>
            Array.from({ length: 1024 }, (_, i) => ({
              category: metric.split("_")[0] as string,
              metric,
              variant: String(i),
              value: i + offset,
            })),
          ),
        });
      }
      // Beside it, a worker of a few series: its lookups are unaffected by the other's.
      await report(store, "small", clock.now() - 1_000);
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([
        2,
        3 * 1024 + 1 + 4,
        2 * (3 * 1024 + 1) + 4,
      ]);
      const range = bucketRange(clock.now() / 1000 - 100, clock.now() / 1000, 100, 100);
      const rows = await collect(
        store.stats({
          company: "c",
          workers: ["big"],
          range,
          metrics: [{ metric: "gpu_usage", aggregations: [Aggregation.MAX] }],
          splitByVariant: true,
        }),
      );
      expect(rows).toHaveLength(1024);
      expect(rows.map((r) => [r.variant, r.value]).slice(1020)).toEqual([
        ["1020", 1021],
        ["1021", 1022],
        ["1022", 1023],
        ["1023", 1024],
      ]);
      expect((await store.metricKeys("c", ["big"])).flatMap((c) => c.metricKeys).sort()).toEqual(
        [...lists].sort(),
      );
      clock.advance(60_001);
      store.sweep();
      expect([store.workerCount, store.seriesCount, store.sampleCount]).toEqual([0, 0, 0]);
    } finally {
      await store.close();
    }
  });
});
