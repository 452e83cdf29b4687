import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearml } from "../support/clearml.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** Finds every null in a JSON value: ClearML clients expect unset fields to be left out. */
function nullPaths(value: unknown, path = "$"): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nullPaths(v, `${path}[${i}]`));
  if (typeof value === "object") {
    return Object.entries(value as object).flatMap(([k, v]) => nullPaths(v, `${path}.${k}`));
  }
  return [];
}

describe("ClearML HTTP/JSON layer, end to end", () => {
  let muster: TestServer;
  beforeAll(async () => {
    muster = await startTestServer();
  });
  afterAll(async () => {
    await muster.close();
  });

  it("serves an agent's session: register, reports, get_all, stats, activity, unregister", async () => {
    const worker = "gpu-node-7:gpu0,1";
    const now = Date.now();
    const start = now - 120_000;

    const registered = await clearml(muster.url, "/v2.23/workers.register", {
      worker,
      timeout: 600,
      queues: ["default"],
      tags: ["a100"],
      is_daemon: true,
    });
    expect(registered.status).toBe(200);
    expect(registered.body.data).toEqual({});
    expect(registered.body.meta.endpoint).toEqual({
      name: "workers.register",
      requested_version: "2.23",
      actual_version: "2.4",
    });

    const report = (timestamp: number, extra: object) =>
      clearml(muster.url, "/v2.23/workers.status_report", { worker, timestamp, ...extra });
    // Task start: no machine stats at all, as the agent sends it.
    expect(
      (await report(start, { task: "task-1", queue: "default", machine_stats: null })).status,
    ).toBe(200);
    for (const [i, t] of [start + 1000, start + 61_000].entries()) {
      const res = await report(t, {
        task: "task-1",
        queue: "default",
        machine_stats: {
          cpu_usage: [10 + i],
          gpu_usage: [50, 70],
          memory_used: 1024,
          memory_free: 0,
          gpu_fraction: 1,
        },
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({});
    }

    const all = await clearml(muster.url, "/workers.get_all", {}, { method: "POST" });
    expect(all.status).toBe(200);
    expect(all.body.meta.endpoint.requested_version).toBe("2.31");
    const workers = all.body.data.workers as Record<string, unknown>[];
    expect(workers).toHaveLength(1);
    const entry = workers[0] as Record<string, unknown>;
    expect(entry.id).toBe(worker);
    expect(entry.register_timeout).toBe(600);
    expect(entry.ip).toBe("127.0.0.1");
    expect(entry.task).toMatchObject({ id: "task-1" });
    expect(typeof (entry.task as { running_time: unknown }).running_time).toBe("number");
    expect(entry.queue).toEqual({ id: "default" });
    expect(entry.queues).toEqual([{ id: "default" }]);
    expect(entry.tags).toEqual(["a100"]);
    expect(entry.system_tags).toEqual([]);
    expect(entry.register_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(entry.last_report_time).toMatch(/Z$/);
    expect(entry).not.toHaveProperty("project");
    expect(nullPaths(all.body)).toEqual([]);

    const count = await clearml(muster.url, "/v2.23/workers.get_count", { last_seen: 0 });
    expect(count.body.data).toEqual({ count: 1 });

    const keys = await clearml(muster.url, "/v2.23/workers.get_metric_keys", {
      worker_ids: [worker],
    });
    expect(keys.body.data).toEqual({
      categories: [
        { name: "cpu", metric_keys: ["cpu_usage"] },
        { name: "gpu", metric_keys: ["gpu_usage"] },
        { name: "memory", metric_keys: ["memory_free", "memory_used"] },
      ],
    });

    const from = Math.floor(start / 1000) - 60;
    const to = Math.floor(now / 1000);
    const stats = await clearml(muster.url, "/v2.23/workers.get_stats", {
      worker_ids: [worker],
      from_date: from,
      to_date: to,
      interval: 60,
      items: [
        { key: "gpu_usage", category: "max" },
        { key: "gpu_usage", aggregation: "min" },
        { key: "memory_free" },
      ],
      split_by_variant: false,
    });
    expect(stats.status).toBe(200);
    const [workerStats] = stats.body.data.workers as {
      worker: string;
      metrics: {
        metric: string;
        dates: unknown[];
        stats: { aggregation: string; values: number[] }[];
      }[];
    }[];
    expect(workerStats?.worker).toBe(worker);
    const gpu = workerStats?.metrics[0];
    expect(gpu?.metric).toBe("gpu_usage");
    expect(gpu).not.toHaveProperty("variant");
    expect(gpu?.dates.every((d) => typeof d === "number" && d % 60_000 === 0)).toBe(true);
    expect(gpu?.stats.map((s) => s.aggregation)).toEqual(["max", "min"]);
    expect(gpu?.stats[0]?.values.every((v) => v === 70)).toBe(true);
    expect(gpu?.stats[1]?.values.every((v) => v === 50)).toBe(true);
    expect(workerStats?.metrics[1]?.stats[0]).toMatchObject({ aggregation: "avg" });
    expect(workerStats?.metrics[1]?.stats[0]?.values.every((v) => v === 0)).toBe(true);

    const activity = await clearml(muster.url, "/v2.23/workers.get_activity_report", {
      from_date: from,
      to_date: to,
      interval: 60,
    });
    expect(activity.status).toBe(200);
    const total = activity.body.data.total as { dates: number[]; counts: number[] };
    const active = activity.body.data.active as { dates: number[]; counts: number[] };
    expect(total.dates).toEqual(active.dates);
    expect(total.dates.length).toBe(Math.floor(to / 60) - Math.floor(from / 60) + 1);
    expect(total.counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
    expect(active.counts).toEqual(total.counts);

    const gone = await clearml(muster.url, "/v2.23/workers.unregister", { worker });
    expect(gone.status).toBe(200);
    const after = await clearml(muster.url, "/v2.23/workers.get_count", {});
    expect(after.body.data).toEqual({ count: 0 });
  });

  it("echoes the transaction header, accepts a trailing slash and POST, answers the envelope", async () => {
    const res = await clearml(
      muster.url,
      "/v2.20/workers.get_count/",
      {},
      {
        method: "POST",
        headers: { "X-ClearML-Trx": "trx-42" },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.meta).toMatchObject({
      trx: "trx-42",
      result_code: 200,
      result_subcode: 0,
      result_msg: "OK",
      error_stack: "",
      error_data: {},
    });
    expect(res.body.meta.id).toMatch(/^[0-9a-f]{32}$/);
    const old = await clearml(
      muster.url,
      "/workers.get_count",
      {},
      { headers: { "X-Trains-Trx": "old" } },
    );
    expect(old.body.meta.trx).toBe("old");
    const plain = await clearml(muster.url, "/workers.get_count", "");
    expect(plain.body.meta.trx).toBe(plain.body.meta.id);
    expect(plain.body.data).toEqual({ count: 0 });
  });

  it("reads the client IP from X-Forwarded-For, then X-Real-IP", async () => {
    await clearml(
      muster.url,
      "/workers.register",
      { worker: "fwd" },
      {
        headers: { "X-Forwarded-For": "203.0.113.5, 10.1.1.1", "X-Real-IP": "198.51.100.1" },
      },
    );
    await clearml(
      muster.url,
      "/workers.register",
      { worker: "real" },
      { headers: { "X-Real-IP": "198.51.100.1" } },
    );
    const all = await clearml(muster.url, "/workers.get_all", { worker_pattern: "*" });
    const ips = Object.fromEntries(
      (all.body.data.workers as { id: string; ip: string }[]).map((w) => [w.id, w.ip]),
    );
    expect(ips).toEqual({ fwd: "203.0.113.5", real: "198.51.100.1" });
    await clearml(muster.url, "/workers.unregister", { worker: "fwd" });
    await clearml(muster.url, "/workers.unregister", { worker: "real" });
  });
});
