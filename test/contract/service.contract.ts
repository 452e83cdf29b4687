import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Subcode } from "../../src/core/errors.js";
import { type CallContext, DEFAULT_IDENTITY } from "../../src/core/identity.js";
import { Aggregation, type Worker } from "../../src/gen/muster/workers/v1/types_pb.js";
import {
  LeftReason,
  WatchWorkersRequestSchema,
  type WatchWorkersResponse,
} from "../../src/gen/muster/workers/v1/workers_pb.js";
import { type ServiceOptions, WorkersServiceImpl } from "../../src/workers/service.js";
import { ManualClock } from "../support/clock.js";
import { client, expectApiError } from "../support/service.js";
import type { StoreFactory, StoreFixture } from "./fixture.js";

const HOUR = 3_600_000;
const ctx: CallContext = { identity: DEFAULT_IDENTITY, clientIp: "192.0.2.10" };
const otherCompany: CallContext = { identity: { company: "acme", user: "ops" } };

/**
 * Every behaviour of the workers service (docs/clearml-compatibility.md) against one pair of
 * stores. The clock starts on an hour boundary a few hours back, so bucket edges are known and all
 * data is recent.
 */
export function serviceContract(name: string, factory: StoreFactory): void {
  describe(`workers service on ${name}`, () => {
    let clock: ManualClock;
    let fixture: StoreFixture;
    let service: WorkersServiceImpl;
    let api: ReturnType<typeof client>;
    let t0: number;

    const start = async (options: Partial<ServiceOptions> = {}) => {
      service = new WorkersServiceImpl({
        presence: fixture.presence,
        stats: fixture.stats,
        clock,
        options,
      });
      api = client(service, ctx);
    };

    beforeEach(async () => {
      t0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
      clock = new ManualClock(t0);
      fixture = await factory(clock);
      await start();
    });

    afterEach(async () => {
      await fixture.close();
    });

    const ids = (workers: readonly Worker[]) => workers.map((w) => w.id);
    const only = async (): Promise<Worker> => {
      const { workers } = await api.getAll({ lastSeen: 0 });
      expect(workers).toHaveLength(1);
      return workers[0] as Worker;
    };

    describe("register", () => {
      it("creates an entry with the defaults, the caller's identity and IP", async () => {
        await api.register({ worker: "node-1", queues: ["q1"], tags: ["a"], systemTags: ["s"] });
        const worker = await only();
        expect(worker.id).toBe("node-1");
        expect(worker.registerTimeout).toBe(600);
        expect(worker.ip).toBe("192.0.2.10");
        expect(worker.company?.id).toBe("default");
        expect(worker.user?.id).toBe("default");
        expect(worker.queues.map((q) => q.id)).toEqual(["q1"]);
        expect(worker.tags).toEqual(["a"]);
        expect(worker.systemTags).toEqual(["s"]);
        expect(timestampMs(worker.registerTime ?? ({ seconds: 0n, nanos: 0 } as never))).toBe(t0);
        expect(worker.lastReportTime).toBeUndefined();
        expect(worker.task).toBeUndefined();
      });

      it("overwrites an existing entry", async () => {
        await api.register({ worker: "node-1", tags: ["a"], timeout: 60 });
        clock.advance(5000);
        await api.register({ worker: "node-1", tags: ["b"] });
        const worker = await only();
        expect(worker.tags).toEqual(["b"]);
        expect(worker.registerTimeout).toBe(600);
        expect(timestampMs(worker.registerTime as never)).toBe(t0 + 5000);
      });

      it("treats timeout 0 as the default", async () => {
        await api.register({ worker: "node-1", timeout: 0 });
        expect((await only()).registerTimeout).toBe(600);
      });

      it("rejects a negative timeout with 1002 and stores nothing", async () => {
        await expectApiError(api.register({ worker: "node-1", timeout: -1 }), {
          subcode: Subcode.invalidTimeout,
          mentions: "timeout",
        });
        expect((await api.getAll({ lastSeen: 0 })).workers).toEqual([]);
      });

      it("rejects a missing worker id, naming the field", async () => {
        await expectApiError(api.register({}), { subcode: Subcode.validation, mentions: "worker" });
        expect((await api.getCount()).count).toBe(0);
      });

      it("keeps hostile worker ids exactly as sent", async () => {
        const hostile = [
          "host:gpu0,1",
          "with space",
          "ünïcødé-工作者",
          "dots.and*stars>",
          'quote"back\\slash',
          "slash/and=equals",
        ];
        for (const worker of hostile) await api.register({ worker });
        const { workers } = await api.getAll({ lastSeen: 0 });
        expect(ids(workers)).toEqual([...hostile].sort());
      });
    });

    describe("watch_workers", () => {
      it("streams a snapshot, then joined, updated and left for the caller's company only", async () => {
        await api.register({ worker: "before" });
        const abort = new AbortController();
        const stream = service.watchWorkers(create(WatchWorkersRequestSchema), ctx, abort.signal);
        const next = async () => {
          const { value, done } = await stream.next();
          expect(done).toBe(false);
          const event = (value as WatchWorkersResponse).event;
          if (event.case === "snapshot") return ["snapshot", ids(event.value.workers)];
          if (event.case === "left") {
            return ["left", event.value.worker?.id, LeftReason[event.value.reason]];
          }
          return [event.case, event.value?.id];
        };
        expect(await next()).toEqual(["snapshot", ["before"]]);
        await client(service, otherCompany).register({ worker: "elsewhere" });
        await api.register({ worker: "node-1" });
        expect(await next()).toEqual(["joined", "node-1"]);
        await api.statusReport({ worker: "node-1", timestamp: BigInt(clock.now()) });
        expect(await next()).toEqual(["updated", "node-1"]);
        await api.unregister({ worker: "node-1" });
        expect(await next()).toEqual(["left", "node-1", "UNREGISTERED"]);
        abort.abort();
        expect((await stream.next()).done).toBe(true);
      });
    });

    describe("unregister", () => {
      it("removes the entry", async () => {
        await api.register({ worker: "node-1" });
        await api.register({ worker: "node-2" });
        await api.unregister({ worker: "node-1" });
        expect(ids((await api.getAll()).workers)).toEqual(["node-2"]);
      });

      it("accepts an unknown worker", async () => {
        await expect(api.unregister({ worker: "nobody" })).resolves.toBeDefined();
      });
    });

    describe("status_report", () => {
      it("registers an unknown worker on the fly with the defaults", async () => {
        await api.statusReport({ worker: "node-1", timestamp: BigInt(t0) });
        const worker = await only();
        expect(worker.registerTimeout).toBe(600);
        expect(timestampMs(worker.lastReportTime as never)).toBe(t0);
      });

      it("refuses an unknown worker with 1001 when auto-register is off", async () => {
        await start({ autoRegister: false });
        await expectApiError(api.statusReport({ worker: "node-1", timestamp: BigInt(t0) }), {
          subcode: Subcode.unknownWorker,
          mentions: "node-1",
        });
        expect((await api.getCount()).count).toBe(0);
      });

      it("clears task and queue when absent, keeps queues and tags when absent", async () => {
        await api.register({
          worker: "node-1",
          queues: ["q1", "q2"],
          tags: ["a"],
          systemTags: ["s"],
        });
        await api.statusReport({
          worker: "node-1",
          timestamp: BigInt(t0),
          task: "t1",
          queue: "q1",
        });
        let worker = await only();
        expect(worker.task?.id).toBe("t1");
        expect(worker.queue?.id).toBe("q1");
        await api.statusReport({ worker: "node-1", timestamp: BigInt(t0 + 1000) });
        worker = await only();
        expect(worker.task).toBeUndefined();
        expect(worker.queue).toBeUndefined();
        expect(worker.queues.map((q) => q.id)).toEqual(["q1", "q2"]);
        expect(worker.tags).toEqual(["a"]);
        expect(worker.systemTags).toEqual(["s"]);
      });

      it("replaces queues and tags when present", async () => {
        await api.register({ worker: "node-1", queues: ["q1"], tags: ["a"] });
        await api.statusReport({
          worker: "node-1",
          timestamp: BigInt(t0),
          queues: ["q9"],
          tags: ["b", "c"],
          systemTags: ["x"],
        });
        const worker = await only();
        expect(worker.queues.map((q) => q.id)).toEqual(["q9"]);
        expect(worker.tags).toEqual(["b", "c"]);
        expect(worker.systemTags).toEqual(["x"]);
      });

      it("keeps the registration's timeout and refreshes the expiry", async () => {
        await api.register({ worker: "node-1", timeout: 100 });
        clock.advance(90_000);
        await api.statusReport({ worker: "node-1", timestamp: BigInt(clock.now()) });
        clock.advance(90_000);
        const worker = await only();
        expect(worker.registerTimeout).toBe(100);
        clock.advance(10_000);
        expect((await api.getAll({ lastSeen: 0 })).workers).toEqual([]);
      });

      it("reports the task's running time since it was first reported", async () => {
        await api.statusReport({ worker: "node-1", timestamp: BigInt(t0), task: "t1" });
        clock.advance(30_000);
        await api.statusReport({ worker: "node-1", timestamp: BigInt(clock.now()), task: "t1" });
        clock.advance(15_000);
        expect((await only()).task?.runningTime).toBe(45n);
        await api.statusReport({ worker: "node-1", timestamp: BigInt(clock.now()), task: "t2" });
        clock.advance(5_000);
        expect((await only()).task?.runningTime).toBe(5n);
      });

      it("rejects timestamps before 2000 or over a day ahead", async () => {
        await expectApiError(api.statusReport({ worker: "node-1", timestamp: 946_684_799n }), {
          subcode: Subcode.validation,
          mentions: "timestamp",
        });
        const tooLate = BigInt(clock.now() + 25 * HOUR);
        await expectApiError(api.statusReport({ worker: "node-1", timestamp: tooLate }), {
          subcode: Subcode.validation,
          mentions: "timestamp",
        });
        expect((await api.getCount()).count).toBe(0);
      });

      it("rejects a missing timestamp, naming the field", async () => {
        await expectApiError(api.statusReport({ worker: "node-1" }), {
          subcode: Subcode.validation,
          mentions: "timestamp",
        });
      });
    });

    describe("expiry", () => {
      it("drops a worker exactly at its deadline", async () => {
        await api.register({ worker: "short", timeout: 10 });
        await api.register({ worker: "long", timeout: 20 });
        clock.advance(9_999);
        expect(ids((await api.getAll({ lastSeen: 0 })).workers)).toEqual(["long", "short"]);
        clock.advance(1);
        expect(ids((await api.getAll({ lastSeen: 0 })).workers)).toEqual(["long"]);
        expect((await api.getCount()).count).toBe(1);
        clock.advance(10_000);
        expect((await api.getCount()).count).toBe(0);
      });

      it("starts an expired worker afresh on its next report", async () => {
        await api.register({ worker: "node-1", timeout: 10, tags: ["old"] });
        clock.advance(10_000);
        await api.statusReport({ worker: "node-1", timestamp: BigInt(clock.now()) });
        const worker = await only();
        expect(worker.tags).toEqual([]);
        expect(worker.registerTimeout).toBe(600);
      });
    });

    describe("get_all and get_count", () => {
      beforeEach(async () => {
        await api.register({
          worker: "gpu-1",
          tags: ["a", "b"],
          systemTags: ["prod"],
          timeout: 20_000,
        });
        await api.register({ worker: "gpu-2", tags: ["a"], timeout: 20_000 });
        await api.register({ worker: "cpu-1", tags: ["b"], systemTags: ["prod"], timeout: 20_000 });
        await api.register({ worker: "gpu-10", timeout: 20_000 });
      });

      it("lists every worker in worker-id order", async () => {
        expect(ids((await api.getAll()).workers)).toEqual(["cpu-1", "gpu-1", "gpu-10", "gpu-2"]);
        expect((await api.getCount()).count).toBe(4);
      });

      it("filters by last activity: 3600 s by default for get_all, off by default for get_count", async () => {
        clock.advance(3000_000);
        await api.statusReport({ worker: "gpu-2", timestamp: BigInt(clock.now()) });
        clock.advance(601_000);
        expect(ids((await api.getAll()).workers)).toEqual(["gpu-2"]);
        expect(ids((await api.getAll({ lastSeen: 0 })).workers)).toHaveLength(4);
        expect(ids((await api.getAll({ lastSeen: 10_000 })).workers)).toHaveLength(4);
        expect((await api.getCount()).count).toBe(4);
        expect((await api.getCount({ lastSeen: 3600 })).count).toBe(1);
      });

      it("requires every listed tag and excludes -tags", async () => {
        expect(ids((await api.getAll({ tags: ["a"] })).workers)).toEqual(["gpu-1", "gpu-2"]);
        expect(ids((await api.getAll({ tags: ["a", "b"] })).workers)).toEqual(["gpu-1"]);
        expect(ids((await api.getAll({ tags: ["-b"] })).workers)).toEqual(["gpu-10", "gpu-2"]);
        expect(ids((await api.getAll({ tags: ["a", "-b"] })).workers)).toEqual(["gpu-2"]);
        expect(ids((await api.getAll({ systemTags: ["prod"] })).workers)).toEqual([
          "cpu-1",
          "gpu-1",
        ]);
        expect((await api.getCount({ tags: ["b"], systemTags: ["-prod"] })).count).toBe(0);
      });

      it("matches worker_pattern as a glob on the whole id", async () => {
        expect(ids((await api.getAll({ workerPattern: "gpu-*" })).workers)).toEqual([
          "gpu-1",
          "gpu-10",
          "gpu-2",
        ]);
        expect(ids((await api.getAll({ workerPattern: "gpu-?" })).workers)).toEqual([
          "gpu-1",
          "gpu-2",
        ]);
        expect(ids((await api.getAll({ workerPattern: "gpu" })).workers)).toEqual([]);
        expect(ids((await api.getAll({ workerPattern: "*-1*" })).workers)).toEqual([
          "cpu-1",
          "gpu-1",
          "gpu-10",
        ]);
        expect((await api.getCount({ workerPattern: "[a-z]*" })).count).toBe(0);
      });

      it("shows a company only its own workers", async () => {
        const other = client(service, otherCompany);
        await other.register({ worker: "gpu-1" });
        expect(ids((await other.getAll()).workers)).toEqual(["gpu-1"]);
        expect((await other.getCount()).count).toBe(1);
        expect((await api.getCount()).count).toBe(4);
      });

      it("rejects a negative last_seen", async () => {
        await expectApiError(api.getAll({ lastSeen: -1 }), {
          subcode: Subcode.validation,
          mentions: "last_seen",
        });
      });
    });

    describe("get_all paging (AIP-158, Protobuf API)", () => {
      const fleet = ["a-1", "a-2", "b-1", "b-2", "c-1", "c-2", "c-3"];
      beforeEach(async () => {
        for (const worker of fleet) {
          await api.register({ worker, tags: worker.endsWith("1") ? ["one"] : [], timeout: 600 });
        }
      });

      /** Every page of the query, following next_page_token until it is empty. */
      const pages = async (init: { pageSize: number; tags?: string[] }) => {
        const out: string[][] = [];
        let pageToken = "";
        do {
          const page = await api.getAll({ lastSeen: 0, ...init, pageToken });
          out.push(ids(page.workers));
          pageToken = page.nextPageToken;
        } while (pageToken !== "" && out.length < 20);
        return out;
      };

      it("answers every worker at once without page_size, with no next_page_token", async () => {
        const all = await api.getAll({ lastSeen: 0 });
        expect(ids(all.workers)).toEqual(fleet);
        expect(all.nextPageToken).toBe("");
      });

      it("walks the workers in id order, page_size at a time, the last page without a token", async () => {
        expect(await pages({ pageSize: 3 })).toEqual([
          ["a-1", "a-2", "b-1"],
          ["b-2", "c-1", "c-2"],
          ["c-3"],
        ]);
        // A page that ends exactly at the last worker says so: no empty page follows.
        expect(await pages({ pageSize: 7 })).toEqual([fleet]);
        expect(await pages({ pageSize: 100 })).toEqual([fleet]);
      });

      it("pages through the filtered workers only", async () => {
        expect(await pages({ pageSize: 2, tags: ["one"] })).toEqual([["a-1", "b-1"], ["c-1"]]);
      });

      it("lets page_size change between pages", async () => {
        const first = await api.getAll({ lastSeen: 0, pageSize: 2 });
        const second = await api.getAll({
          lastSeen: 0,
          pageSize: 4,
          pageToken: first.nextPageToken,
        });
        expect(ids(second.workers)).toEqual(["b-1", "b-2", "c-1", "c-2"]);
      });

      it("resumes after the last worker shown, whatever joined or left in between", async () => {
        const first = await api.getAll({ lastSeen: 0, pageSize: 3 });
        expect(ids(first.workers)).toEqual(["a-1", "a-2", "b-1"]);
        await api.unregister({ worker: "a-2" });
        await api.unregister({ worker: "b-1" });
        await api.unregister({ worker: "c-1" });
        await api.register({ worker: "a-0" });
        await api.register({ worker: "b-3" });
        const second = await api.getAll({ lastSeen: 0, pageToken: first.nextPageToken });
        expect(ids(second.workers)).toEqual(["b-2", "b-3", "c-2", "c-3"]);
        expect(second.nextPageToken).toBe("");
      });

      it("leaves out workers whose deadline passed, on every page", async () => {
        await api.register({ worker: "b-0", timeout: 5 });
        clock.advance(6000);
        expect(await pages({ pageSize: 4 })).toEqual([
          ["a-1", "a-2", "b-1", "b-2"],
          ["c-1", "c-2", "c-3"],
        ]);
      });

      it("refuses a page_token of a request with other filters, or not from get_all", async () => {
        const first = await api.getAll({ lastSeen: 0, pageSize: 2 });
        await expectApiError(
          api.getAll({ lastSeen: 0, pageSize: 2, tags: ["one"], pageToken: first.nextPageToken }),
          { subcode: Subcode.validation, mentions: "page_token" },
        );
        await expectApiError(api.getAll({ lastSeen: 60, pageToken: first.nextPageToken }), {
          subcode: Subcode.validation,
          mentions: "page_token",
        });
        await expectApiError(api.getAll({ lastSeen: 0, pageToken: "not-a-token" }), {
          subcode: Subcode.validation,
          mentions: "page_token",
        });
        // Another company's token names a position in a list it cannot see.
        const other = client(service, otherCompany);
        await expectApiError(other.getAll({ lastSeen: 0, pageToken: first.nextPageToken }), {
          subcode: Subcode.validation,
          mentions: "page_token",
        });
      });

      it("rejects a negative page_size and an over-long page_token", async () => {
        await expectApiError(api.getAll({ pageSize: -1 }), {
          subcode: Subcode.validation,
          mentions: "page_size",
        });
        await expectApiError(api.getAll({ pageToken: "x".repeat(2049) }), {
          subcode: Subcode.validation,
          mentions: "page_token",
        });
      });
    });

    describe("golden scenario", () => {
      // Worker 1 reports cpu_usage [10,20] and memory_used 50 with a task, worker 2 cpu_usage [5]
      // and memory_used 30 without; each reports twice, 60 s apart, timestamps in ms.
      beforeEach(async () => {
        for (const [i, dt] of [0, 60_000].entries()) {
          clock.set(t0 + dt);
          await api.statusReport({
            worker: "worker-1",
            timestamp: BigInt(t0 + dt),
            task: "task-1",
            machineStats: { cpuUsage: [10 + i, 20 + i], memoryUsed: 50 },
          });
          await api.statusReport({
            worker: "worker-2",
            timestamp: BigInt(t0 + dt),
            machineStats: { cpuUsage: [5], memoryUsed: 30 },
          });
        }
      });

      it("lists the metric keys by category", async () => {
        const { categories } = await api.getMetricKeys();
        expect(categories.map((c) => [c.name, c.metricKeys])).toEqual([
          ["cpu", ["cpu_usage"]],
          ["memory", ["memory_used"]],
        ]);
        const one = await api.getMetricKeys({ workerIds: ["worker-2"] });
        expect(one.categories.map((c) => c.name)).toEqual(["cpu", "memory"]);
      });

      it("splits cpu_usage by variant", async () => {
        const { workers } = await api.getStats({
          workerIds: ["worker-1", "worker-2"],
          fromDate: t0 / 1000,
          toDate: t0 / 1000 + 120,
          interval: 60,
          items: [{ key: "cpu_usage", aggregation: Aggregation.AVG }],
          splitByVariant: true,
        });
        expect(workers.map((w) => w.worker)).toEqual(["worker-1", "worker-2"]);
        const [w1, w2] = workers;
        expect(w1?.metrics.map((m) => [m.metric, m.variant])).toEqual([
          ["cpu_usage", "0"],
          ["cpu_usage", "1"],
        ]);
        expect(w1?.metrics[0]?.dates).toEqual([BigInt(t0), BigInt(t0 + 60_000)]);
        expect(w1?.metrics[0]?.stats[0]?.values).toEqual([10, 11]);
        expect(w1?.metrics[1]?.stats[0]?.values).toEqual([20, 21]);
        expect(w2?.metrics.map((m) => m.variant)).toEqual(["0"]);
        expect(w2?.metrics[0]?.stats[0]?.values).toEqual([5, 5]);
      });

      it("counts total and active workers per bucket", async () => {
        const report = await api.getActivityReport({
          fromDate: t0 / 1000 - 60,
          toDate: t0 / 1000 + 120,
          interval: 60,
        });
        const dates = [t0 - 60_000, t0, t0 + 60_000, t0 + 120_000].map(BigInt);
        expect(report.total?.dates).toEqual(dates);
        expect(report.total?.counts).toEqual([0, 2, 2, 0]);
        expect(report.active?.dates).toEqual(dates);
        expect(report.active?.counts).toEqual([0, 1, 1, 0]);
      });

      it("answers 1005 for the metric keys of an unknown worker", async () => {
        await expectApiError(api.getMetricKeys({ workerIds: ["nobody"] }), {
          subcode: Subcode.statsNotFound,
          mentions: "nobody",
        });
      });

      it("answers no workers for the stats of an unknown worker", async () => {
        const { workers } = await api.getStats({
          workerIds: ["nobody"],
          fromDate: t0 / 1000,
          toDate: t0 / 1000 + 120,
          interval: 60,
          items: [{ key: "cpu_usage" }],
        });
        expect(workers).toEqual([]);
      });
    });

    describe("get_stats", () => {
      const report = (worker: string, atMs: number, machineStats: object, task?: string) =>
        api.statusReport({
          worker,
          timestamp: BigInt(atMs),
          ...(task === undefined ? {} : { task }),
          machineStats,
        });
      const range = (fromMs: number, toMs: number) => ({
        fromDate: fromMs / 1000,
        toDate: toMs / 1000,
      });

      it("aligns buckets to the epoch, keeps the partial last bucket, leaves empty buckets out", async () => {
        await report("n", t0 + 10_000, { gpuUsage: [10] });
        await report("n", t0 + 50_000, { gpuUsage: [30] });
        await report("n", t0 + 70_000, { gpuUsage: [50] });
        await report("n", t0 + 250_000, { gpuUsage: [70] });
        const { workers } = await api.getStats({
          ...range(t0 + 5_000, t0 + 251_000),
          interval: 60,
          items: [
            { key: "gpu_usage", aggregation: Aggregation.AVG },
            { key: "gpu_usage", aggregation: Aggregation.MAX },
            { key: "gpu_usage", aggregation: Aggregation.MIN },
          ],
        });
        const metric = workers[0]?.metrics[0];
        expect(metric?.metric).toBe("gpu_usage");
        expect(metric?.variant).toBeUndefined();
        expect(metric?.dates).toEqual([t0, t0 + 60_000, t0 + 240_000].map(BigInt));
        expect(metric?.stats.map((s) => [s.aggregation, s.values])).toEqual([
          [Aggregation.AVG, [20, 50, 70]],
          [Aggregation.MAX, [30, 50, 70]],
          [Aggregation.MIN, [10, 50, 70]],
        ]);
      });

      it("keeps samples on both sides of a bucket edge apart", async () => {
        await report("n", t0 + 59_999, { memoryUsed: 1 });
        await report("n", t0 + 60_000, { memoryUsed: 3 });
        const { workers } = await api.getStats({
          ...range(t0, t0 + 119_000),
          interval: 60,
          items: [{ key: "memory_used" }],
        });
        expect(workers[0]?.metrics[0]?.dates).toEqual([BigInt(t0), BigInt(t0 + 60_000)]);
        expect(workers[0]?.metrics[0]?.stats[0]?.values).toEqual([1, 3]);
      });

      it("stores zeros and aggregates variants together unless split", async () => {
        await report("n", t0, { cpuUsage: [0, 40], diskFreeHome: 0 });
        const { workers } = await api.getStats({
          ...range(t0, t0 + 1000),
          interval: 10,
          items: [{ key: "cpu_usage", aggregation: Aggregation.MIN }, { key: "disk_free_home" }],
        });
        expect(workers[0]?.metrics.map((m) => [m.metric, m.stats[0]?.values])).toEqual([
          ["cpu_usage", [0]],
          ["disk_free_home", [0]],
        ]);
        const avg = await api.getStats({
          ...range(t0, t0 + 1000),
          interval: 10,
          items: [{ key: "cpu_usage" }],
        });
        expect(avg.workers[0]?.metrics[0]?.stats[0]?.values).toEqual([20]);
      });

      it("reads the aggregation from `category` too, and `aggregation` wins", async () => {
        await report("n", t0, { cpuUsage: [10, 30] });
        const { workers } = await api.getStats({
          ...range(t0, t0 + 1000),
          interval: 10,
          items: [
            { key: "cpu_usage", category: Aggregation.MAX },
            { key: "cpu_usage", aggregation: Aggregation.MIN, category: Aggregation.MAX },
          ],
        });
        expect(workers[0]?.metrics).toHaveLength(1);
        expect(workers[0]?.metrics[0]?.stats.map((s) => [s.aggregation, s.values])).toEqual([
          [Aggregation.MAX, [30]],
          [Aggregation.MIN, [10]],
        ]);
      });

      it("answers every worker of the company in id order when none are named, in request order", async () => {
        for (let i = 12; i >= 0; i--)
          await report(`w${String(i).padStart(2, "0")}`, t0, { memoryFree: i, cpuUsage: [i] });
        const { workers } = await api.getStats({
          ...range(t0, t0 + 1000),
          interval: 10,
          items: [{ key: "memory_free" }, { key: "cpu_usage" }, { key: "gpu_usage" }],
        });
        expect(workers.map((w) => w.worker)).toEqual(
          Array.from({ length: 13 }, (_, i) => `w${String(i).padStart(2, "0")}`),
        );
        expect(workers[12]?.metrics.map((m) => m.metric)).toEqual(["memory_free", "cpu_usage"]);
        expect(workers[12]?.metrics[0]?.stats[0]?.values).toEqual([12]);
      });

      it("orders variants numerically with 10 or more GPUs", async () => {
        await report("n", t0, { gpuUsage: Array.from({ length: 12 }, (_, i) => i) });
        const { workers } = await api.getStats({
          ...range(t0, t0 + 1000),
          interval: 10,
          items: [{ key: "gpu_usage" }],
          splitByVariant: true,
        });
        expect(workers[0]?.metrics.map((m) => m.variant)).toEqual(
          Array.from({ length: 12 }, (_, i) => String(i)),
        );
        expect(workers[0]?.metrics[11]?.stats[0]?.values).toEqual([11]);
      });

      it("replaces a retried report instead of counting it twice", async () => {
        await report("n", t0, { memoryUsed: 10 });
        await report("n", t0, { memoryUsed: 30 });
        const { workers } = await api.getStats({
          ...range(t0, t0 + 1000),
          interval: 10,
          items: [{ key: "memory_used" }],
        });
        expect(workers[0]?.metrics[0]?.stats[0]?.values).toEqual([30]);
        const activity = await api.getActivityReport({ ...range(t0, t0 + 1000), interval: 10 });
        expect(activity.total?.counts[0]).toBe(1);
      });

      it("reads a seconds timestamp as the same instant as milliseconds", async () => {
        await report("n", t0 + 1000, { memoryUsed: 10 });
        await api.statusReport({
          worker: "n",
          timestamp: BigInt((t0 + 2000) / 1000),
          machineStats: { memoryUsed: 20 },
        });
        const { workers } = await api.getStats({
          ...range(t0, t0 + 9000),
          interval: 10,
          items: [{ key: "memory_used", aggregation: Aggregation.MAX }],
        });
        expect(workers[0]?.metrics[0]?.dates).toEqual([BigInt(t0)]);
        expect(workers[0]?.metrics[0]?.stats[0]?.values).toEqual([20]);
      });

      it("keeps one company's stats from another", async () => {
        await report("n", t0, { memoryUsed: 10 });
        const other = client(service, otherCompany);
        const { workers } = await other.getStats({
          ...range(t0, t0 + 1000),
          interval: 10,
          items: [{ key: "memory_used" }],
        });
        expect(workers).toEqual([]);
        await expectApiError(other.getMetricKeys(), {
          subcode: Subcode.statsNotFound,
          mentions: "no statistics",
        });
      });

      it("rejects bad requests with the field named", async () => {
        const ok = { ...range(t0, t0 + 60_000), interval: 60, items: [{ key: "cpu_usage" }] };
        await expectApiError(api.getStats({ ...ok, interval: 0 }), {
          subcode: Subcode.validation,
          mentions: "interval",
        });
        await expectApiError(api.getStats({ ...ok, items: [] }), {
          subcode: Subcode.validation,
          mentions: "items",
        });
        await expectApiError(
          api.getStats({ ...ok, items: [{ key: "cpu_usage", aggregation: 9 as Aggregation }] }),
          {
            subcode: Subcode.validation,
            mentions: "items[0].aggregation",
          },
        );
        await expectApiError(api.getStats({ ...ok, items: [{ key: "cpu_usagee" }] }), {
          subcode: Subcode.validation,
          mentions: "items[0].key",
        });
        await expectApiError(api.getStats({ ...ok, toDate: ok.fromDate }), {
          subcode: Subcode.invalidDateRange,
          mentions: "from_date must be less than to_date",
        });
        await expectApiError(api.getStats({ interval: 60, items: [{ key: "cpu_usage" }] }), {
          subcode: Subcode.validation,
          mentions: "from_date",
        });
        await expectApiError(api.getStats({ ...ok, toDate: ok.fromDate + 10_001 * 60 }), {
          subcode: Subcode.validation,
          mentions: "10000",
        });
      });

      it("honours a configured bucket limit", async () => {
        await start({ maxBuckets: 5 });
        const five = { ...range(t0, t0 + 4 * 60_000), interval: 60 };
        await expect(api.getActivityReport(five)).resolves.toBeDefined();
        await expectApiError(api.getActivityReport({ ...five, toDate: five.toDate + 60 }), {
          subcode: Subcode.validation,
          mentions: "limit of 5",
        });
      });
    });

    describe("get_activity_report", () => {
      it("counts reports without machine_stats and zero-fills through the last bucket", async () => {
        await api.statusReport({ worker: "a", timestamp: BigInt(t0 + 1000), task: "t" });
        await api.statusReport({ worker: "a", timestamp: BigInt(t0 + 2000), task: "t" });
        await api.statusReport({ worker: "b", timestamp: BigInt(t0 + 3000) });
        await api.statusReport({
          worker: "b",
          timestamp: BigInt(t0 + 3 * 60_000 + 5000),
          task: "t2",
        });
        const report = await api.getActivityReport({
          fromDate: t0 / 1000,
          toDate: t0 / 1000 + 3 * 60 + 10,
          interval: 60,
        });
        expect(report.total?.dates).toEqual([0, 1, 2, 3].map((i) => BigInt(t0 + i * 60_000)));
        expect(report.total?.counts).toEqual([2, 0, 0, 1]);
        expect(report.active?.counts).toEqual([1, 0, 0, 1]);
      });

      it("counts only the caller's company", async () => {
        await client(service, otherCompany).statusReport({ worker: "x", timestamp: BigInt(t0) });
        const report = await api.getActivityReport({
          fromDate: t0 / 1000,
          toDate: t0 / 1000 + 59,
          interval: 60,
        });
        expect(report.total?.counts).toEqual([0]);
      });

      it("rejects from_date >= to_date with 16", async () => {
        await expectApiError(
          api.getActivityReport({ fromDate: t0 / 1000, toDate: t0 / 1000 - 1, interval: 60 }),
          { code: Code.InvalidArgument, subcode: Subcode.invalidDateRange, mentions: "from_date" },
        );
      });
    });
  });
}
