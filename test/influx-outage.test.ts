import { Code } from "@connectrpc/connect";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { bucketRange } from "../src/core/buckets.js";
import { ApiError } from "../src/core/errors.js";
import type { CallContext } from "../src/core/identity.js";
import type { Report, StatsStore } from "../src/core/stats-store.js";
import { Aggregation } from "../src/gen/muster/workers/v1/types_pb.js";
import { MemoryPresenceStore } from "../src/presence/memory/memory-presence-store.js";
import { startMuster } from "../src/start.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";
import { WorkersServiceImpl } from "../src/workers/service.js";
import { type InfluxdHandle, startInfluxd } from "./harness/influxd.js";
import { ManualClock } from "./support/clock.js";
import { influxTools } from "./support/influx.js";
import { collect, sortedRows } from "./support/rows.js";
import { client } from "./support/service.js";

// InfluxDB going away and coming back. These tests stop and restart influxd, so the file runs a
// server of its own and no other file's tests can be caught by the outage.

const HOUR = 3_600_000;

let influxd: InfluxdHandle;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.close();
});

const { nextBucket, openStore, bucketOf, dropBucket, rows, dropStore } = influxTools(() => influxd);

describe("InfluxDB stats store outage (Flux)", () => {
  it("answers UNAVAILABLE while influxd is down and keeps every acknowledged sample", async () => {
    // Few, quick retries: a report waits at most about a second before it is refused.
    const store = await openStore("flux", undefined, { writeRetries: 2, writeRetryTimeMs: 1000 });
    const t0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const clock = new ManualClock(t0);
    const presence = new MemoryPresenceStore(clock);
    const ctx: CallContext = { identity: { company: "default", user: "default" } };
    const api = client(new WorkersServiceImpl({ presence, stats: store, clock }), ctx);
    let acknowledged = 0;
    let reports = 0;
    const report = async (i: number) => {
      clock.set(t0 + i * 1000);
      await api.statusReport({
        worker: `w-${i % 3}`,
        timestamp: BigInt(t0 + i * 1000),
        machineStats: { cpuUsage: [i], gpuUsage: [1, 2], memoryUsed: i },
      });
      acknowledged += 4;
      reports++;
    };
    for (let i = 0; i < 10; i++) await report(i);

    await influxd.stop();
    const failures = await Promise.all(
      Array.from({ length: 5 }, (_, k) =>
        report(10 + k).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const error of failures) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe(Code.Unavailable);
      expect((error as ApiError).message).toContain("stats store unreachable");
    }
    // Presence still took the report: the worker is alive, and the client's retry will replace
    // the samples at the same time.
    const { workers } = await api.getAll({ lastSeen: 0 });
    expect(workers.find((w) => w.id === "w-1")?.lastReportTime).toBeDefined();
    await expect(
      api.getStats({
        fromDate: t0 / 1000,
        toDate: t0 / 1000 + 60,
        interval: 60,
        items: [{ key: "cpu_usage" }],
      }),
    ).rejects.toMatchObject({ code: Code.Unavailable });

    await influxd.start();
    for (let i = 15; i < 25; i++) await report(i);
    expect(acknowledged).toBe(80);
    const where = `WHERE "company" = 'default'`;
    // One worker_stats point per report, a field per sample: count(*) counts each field.
    const [counts = []] = await rows(
      `SELECT count(*) FROM "worker_stats" ${where}`,
      bucketOf(store),
    );
    expect(counts.slice(1).reduce((sum: number, n) => sum + Number(n), 0)).toBe(acknowledged);
    expect(await rows(`SELECT count("active") FROM "activity" ${where}`, bucketOf(store))).toEqual([
      [0, reports],
    ]);
    // And the Flux path reads every acknowledged report back.
    const activity = await api.getActivityReport({
      fromDate: t0 / 1000,
      toDate: t0 / 1000 + 30,
      interval: 60,
    });
    expect(activity.total?.counts).toEqual([3]);
    await dropStore(store);
  });

  it("writes a worker's hourly rollup once an hour and once more for a task, again after a failed write", async () => {
    const store = await openStore("flux", undefined, { writeRetries: 1, writeRetryTimeMs: 500 });
    const written: number[] = [];
    store.useMetrics({
      casRetry: () => undefined,
      reconnected: () => undefined,
      samplesDropped: () => undefined,
      writeBatch: (lines, _seconds, failed) => {
        if (!failed) written.push(lines);
      },
    });
    const t0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    const memory = new MemoryStatsStore(new ManualClock(t0 + 3 * HOUR));
    const reportOf = (worker: string, timeMs: number, task?: string): Report => ({
      company: "default",
      worker,
      task,
      timeMs,
      samples: [{ category: "cpu", metric: "cpu_usage", variant: "0", value: 1 }],
    });
    const record = async (worker: string, timeMs: number, task?: string) => {
      const report = reportOf(worker, timeMs, task);
      await store.record(report);
      await memory.record(report);
      return written.pop();
    };
    // Three lines carry the rollup (activity, rollup, samples); two do not.
    expect(await record("w", t0 + 60_000)).toBe(3);
    expect(await record("w", t0 + 120_000)).toBe(2);
    expect(await record("w", t0 + 180_000, "t")).toBe(3); // the first report running a task
    expect(await record("w", t0 + 240_000, "t")).toBe(2);
    expect(await record("w", t0 + 300_000)).toBe(2);
    expect(await record("w", t0 + HOUR + 60_000)).toBe(3); // a new hour
    expect(await record("w", t0 + HOUR + 120_000)).toBe(2);

    // A report whose write failed taught the store nothing: the next one carries the rollup.
    await influxd.stop();
    await expect(store.record(reportOf("x", t0 + 2 * HOUR + 60_000, "t"))).rejects.toThrow(
      "stats store unreachable",
    );
    await influxd.start();
    expect(await record("x", t0 + 2 * HOUR + 120_000, "t")).toBe(3);
    expect(await record("x", t0 + 2 * HOUR + 180_000)).toBe(2);

    const range = bucketRange(t0 / 1000, (t0 + 3 * HOUR) / 1000 - 1, 3600, 100);
    const activityOf = async (from: StatsStore) =>
      (await collect(from.activity({ company: "default", range }))).sort(
        (a, b) => a.bucketMs - b.bucketMs,
      );
    const activity = await activityOf(store);
    expect(activity.map((row) => [row.total, row.active])).toEqual([
      [1, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(activity).toEqual(await activityOf(memory));
    await dropStore(store);
  });

  it("reads the same answers after influxd restarts, from a store opened again", async () => {
    const bucket = nextBucket();
    const t0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const query = {
      company: "default",
      workers: [],
      range: bucketRange(t0 / 1000, t0 / 1000 + 3599, 600, 100),
      metrics: [{ metric: "cpu_usage", aggregations: [Aggregation.AVG, Aggregation.MAX] }],
      splitByVariant: false,
    };
    const first = await openStore("flux", bucket);
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        first.record({
          company: "default",
          worker: `w-${i % 4}`,
          task: i % 2 === 0 ? "t" : undefined,
          timeMs: t0 + i * 60_000,
          samples: [{ category: "cpu", metric: "cpu_usage", variant: "0", value: i }],
        }),
      ),
    );
    const before = sortedRows(await collect(first.stats(query)));
    const activityBefore = await collect(
      first.activity({ company: "default", range: query.range }),
    );
    expect(before).toHaveLength(4 * 6 * 2);
    await first.close();
    await influxd.stop();
    await influxd.start();
    const second = await openStore("flux", bucket);
    expect(sortedRows(await collect(second.stats(query)))).toEqual(before);
    expect(await collect(second.activity({ company: "default", range: query.range }))).toEqual(
      activityBefore,
    );
    await dropStore(second);
  });
});

describe("InfluxDB outage over the ClearML HTTP path (Flux)", () => {
  it("answers 503 with the envelope while influxd is down, 200 again once it is back, and 400 for absurd timestamps", async () => {
    const args = ["--listen", "127.0.0.1:0", "--stats", "influx", "--influx-url", influxd.url];
    const bucket = nextBucket();
    const config = loadConfig([...args, "--influx-org", influxd.org, "--influx-bucket", bucket], {
      INFLUX_TOKEN: influxd.token,
    });
    if (config === "help") throw new Error("unexpected help");
    const muster = await startMuster(config, pino({ level: "silent" }));
    const statusReport = async (body: object) => {
      const response = await fetch(`${muster.server.url}/v2.23/workers.status_report`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const envelope = (await response.json()) as {
        meta: { result_code: number; result_msg: string };
      };
      expect(envelope.meta.result_code).toBe(response.status);
      return envelope.meta;
    };
    const now = Date.now();
    const report = { worker: "http-1", timestamp: now, machine_stats: { cpu_usage: [12] } };
    try {
      expect((await statusReport(report)).result_code).toBe(200);
      await influxd.stop();
      const down = await statusReport({ ...report, timestamp: now + 1000 });
      expect(down.result_code).toBe(503);
      expect(down.result_msg).toContain("stats store unreachable");
      await influxd.start();
      expect((await statusReport({ ...report, timestamp: now + 1000 })).result_code).toBe(200);
      for (const timestamp of [946_684_799, now + 25 * HOUR]) {
        const refused = await statusReport({ ...report, timestamp });
        expect([refused.result_code, refused.result_msg]).toEqual([
          400,
          expect.stringContaining("timestamp"),
        ]);
      }
      expect(await rows(`SELECT count("cpu_usage.0") FROM "worker_stats"`, bucket)).toEqual([
        [0, 2],
      ]);
    } finally {
      await muster.close();
      await dropBucket(bucket);
    }
  });
});
