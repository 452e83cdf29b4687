import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearml } from "../support/clearml.js";
import { startTestServer, type TestServer } from "../support/server.js";

interface Case {
  readonly name: string;
  readonly path: string;
  readonly body: unknown;
  readonly method?: string;
  readonly status: number;
  readonly subcode: number;
  readonly mentions: string;
}

const now = Math.floor(Date.now() / 1000);
const stats = { from_date: now - 3600, to_date: now, interval: 60, items: [{ key: "cpu_usage" }] };

const CASES: readonly Case[] = [
  {
    name: "missing worker",
    path: "/workers.register",
    body: { timeout: 10 },
    status: 400,
    subcode: 12,
    mentions: "worker",
  },
  {
    name: "worker of the wrong type",
    path: "/workers.register",
    body: { worker: 123 },
    status: 400,
    subcode: 12,
    mentions: "worker",
  },
  {
    name: "worker as an object",
    path: "/workers.status_report",
    body: { worker: { id: 1 }, timestamp: Date.now() },
    status: 400,
    subcode: 12,
    mentions: "worker",
  },
  {
    name: "negative timeout",
    path: "/workers.register",
    body: { worker: "w", timeout: -5 },
    status: 400,
    subcode: 1002,
    mentions: "timeout",
  },
  {
    name: "fractional timeout",
    path: "/workers.register",
    body: { worker: "w", timeout: 1.5 },
    status: 400,
    subcode: 12,
    mentions: "timeout",
  },
  {
    name: "tags not a list",
    path: "/workers.register",
    body: { worker: "w", tags: "a" },
    status: 400,
    subcode: 12,
    mentions: "tags",
  },
  {
    name: "a tag not a string",
    path: "/workers.register",
    body: { worker: "w", tags: ["a", 1] },
    status: 400,
    subcode: 12,
    mentions: "tags[1]",
  },
  {
    name: "timestamp missing",
    path: "/workers.status_report",
    body: { worker: "w" },
    status: 400,
    subcode: 12,
    mentions: "timestamp",
  },
  {
    name: "timestamp as text",
    path: "/workers.status_report",
    body: { worker: "w", timestamp: "now" },
    status: 400,
    subcode: 12,
    mentions: "timestamp",
  },
  {
    name: "machine stats of the wrong type",
    path: "/workers.status_report",
    body: { worker: "w", timestamp: Date.now(), machine_stats: { cpu_usage: ["hot"] } },
    status: 400,
    subcode: 12,
    mentions: "machine_stats.cpu_usage[0]",
  },
  {
    name: "interval 0",
    path: "/workers.get_stats",
    body: { ...stats, interval: 0 },
    status: 400,
    subcode: 12,
    mentions: "interval",
  },
  {
    name: "items empty",
    path: "/workers.get_stats",
    body: { ...stats, items: [] },
    status: 400,
    subcode: 12,
    mentions: "items",
  },
  {
    name: "unknown aggregation",
    path: "/workers.get_stats",
    body: { ...stats, items: [{ key: "cpu_usage", aggregation: "median" }] },
    status: 400,
    subcode: 12,
    mentions: "items[0].aggregation",
  },
  {
    name: "unknown category alias",
    path: "/workers.get_stats",
    body: { ...stats, items: [{ key: "cpu_usage", category: "p99" }] },
    status: 400,
    subcode: 12,
    mentions: "items[0].category",
  },
  {
    name: "unknown metric key",
    path: "/workers.get_stats",
    body: { ...stats, items: [{ key: "cpu_use" }] },
    status: 400,
    subcode: 12,
    mentions: "items[0].key",
  },
  {
    name: "from_date equal to to_date",
    path: "/workers.get_stats",
    body: { ...stats, to_date: stats.from_date },
    status: 400,
    subcode: 16,
    mentions: "from_date must be less than to_date",
  },
  {
    name: "from_date after to_date",
    path: "/workers.get_activity_report",
    body: { from_date: now, to_date: now - 60, interval: 60 },
    status: 400,
    subcode: 16,
    mentions: "from_date must be less than to_date",
  },
  {
    name: "missing from_date",
    path: "/workers.get_activity_report",
    body: { to_date: now, interval: 60 },
    status: 400,
    subcode: 12,
    mentions: "from_date",
  },
  {
    name: "bucket count over the limit",
    path: "/workers.get_stats",
    body: { ...stats, from_date: now - 10_001, interval: 1 },
    status: 400,
    subcode: 12,
    mentions: "limit of 10000",
  },
  {
    name: "negative last_seen",
    path: "/workers.get_all",
    body: { last_seen: -1 },
    status: 400,
    subcode: 12,
    mentions: "last_seen",
  },
  {
    name: "malformed JSON",
    path: "/workers.register",
    body: '{"worker": "w",',
    status: 400,
    subcode: 0,
    mentions: "malformed JSON",
  },
  {
    name: "a body that is a list",
    path: "/workers.register",
    body: "[1, 2]",
    status: 400,
    subcode: 12,
    mentions: "JSON object",
  },
  {
    name: "a body that is a string",
    path: "/workers.register",
    body: '"worker"',
    status: 400,
    subcode: 12,
    mentions: "JSON object",
  },
  {
    name: "a body that is null",
    path: "/workers.register",
    body: "null",
    status: 400,
    subcode: 12,
    mentions: "JSON object",
  },
  {
    name: "an unknown endpoint",
    path: "/workers.get_everything",
    body: {},
    status: 404,
    subcode: 0,
    mentions: "workers.get_everything",
  },
  {
    name: "an unknown service",
    path: "/v2.23/tasks.get_all",
    body: {},
    status: 404,
    subcode: 0,
    mentions: "tasks.get_all",
  },
  {
    name: "an unsupported version prefix",
    path: "/v3.0/workers.register",
    body: { worker: "w" },
    status: 400,
    subcode: 0,
    mentions: "version 3.0",
  },
  {
    name: "an old major version",
    path: "/v1.5/workers.get_all",
    body: {},
    status: 400,
    subcode: 0,
    mentions: "version 1.5",
  },
  {
    name: "an unsupported method",
    path: "/workers.register",
    body: { worker: "w" },
    method: "PUT",
    status: 405,
    subcode: 0,
    mentions: "PUT",
  },
];

describe("bad input through the ClearML layer", () => {
  let muster: TestServer;
  beforeAll(async () => {
    muster = await startTestServer();
  });
  afterAll(async () => {
    await muster.close();
  });

  it.each(CASES)("$name: $status/$subcode naming the field, nothing stored", async (c) => {
    const res = await clearml(muster.url, c.path, c.body, c.method ? { method: c.method } : {});
    expect(res.status).toBe(c.status);
    expect(res.body.meta.result_code).toBe(c.status);
    expect(res.body.meta.result_subcode).toBe(c.subcode);
    expect(res.body.meta.result_msg).toContain(c.mentions);
    expect(res.body.data).toEqual({});
    const count = await clearml(muster.url, "/workers.get_count", {});
    expect(count.body.data).toEqual({ count: 0 });
    const activity = await clearml(muster.url, "/workers.get_activity_report", {
      from_date: now - 7200,
      to_date: now + 60,
      interval: 3600,
    });
    expect((activity.body.data.total as { counts: number[] }).counts.every((n) => n === 0)).toBe(
      true,
    );
  });

  it("refuses a body over 4 MiB with 413", async () => {
    const res = await clearml(muster.url, "/workers.register", {
      worker: "w",
      pad: "x".repeat(5 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(res.body.meta.result_code).toBe(413);
  });
});
