/**
 * /metrics and the request log on a real muster after a known sequence of calls over ClearML
 * JSON, Connect, gRPC and gRPC-Web: every counter moved by exactly what was sent, one log line
 * per call with its fields, and no credential in any line.
 */
import { Writable } from "node:stream";
import { ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import parsePrometheusTextFormat, { type Family } from "parse-prometheus-text-format";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { createMuster, type Muster } from "../../src/muster.js";
import type { OpsOptions } from "../../src/ops/ops.js";
import { MemoryPresenceStore } from "../../src/presence/memory/memory-presence-store.js";
import { MemoryStatsStore } from "../../src/stats/memory/memory-stats-store.js";

const SECRET = "Bearer s3cr3t-token-never-logged";
const SERVICE = WorkersService.typeName;

/** A muster whose log lines are kept, parsed, in `lines`. */
async function startLogged(
  ops: OpsOptions,
): Promise<{ muster: Muster; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() !== "") lines.push(JSON.parse(line));
      }
      done();
    },
  });
  const muster = await createMuster({
    presence: new MemoryPresenceStore(systemClock),
    stats: new MemoryStatsStore(systemClock),
    clock: systemClock,
    log: pino({ level: "info" }, sink),
    ops,
  });
  return { muster, lines };
}

async function clearml(url: string, endpoint: string, body: unknown, trx?: string) {
  const response = await fetch(`${url}/${endpoint}`, {
    method: "POST",
    headers: { authorization: SECRET, ...(trx === undefined ? {} : { "x-clearml-trx": trx }) },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

async function scrape(url: string): Promise<Family[]> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  // The parser folds a histogram's series into one when they carry labels; read as untyped, each
  // of name_bucket, name_count and name_sum keeps its labels.
  return parsePrometheusTextFormat(
    (await response.text()).replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped"),
  );
}

/** The value of the sample whose labels include `labels`; 0 when absent. */
function sampleValue(
  families: Family[],
  name: string,
  labels: Record<string, string> = {},
): number {
  // A histogram read as untyped comes back as one family per run of lines with the same name.
  const samples = families.filter((f) => f.name === name).flatMap((f) => f.metrics);
  const sample = samples.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(sample?.value ?? 0);
}

describe("metrics and request log after a known sequence of calls", () => {
  let muster: Muster;
  let lines: Record<string, unknown>[];
  let before: Family[];
  let after: Family[];
  beforeAll(async () => {
    ({ muster, lines } = await startLogged({ logRequests: "all" }));
    const { url } = muster.server;
    before = await scrape(url);
    const headers = { authorization: SECRET };
    const connect = createClient(
      WorkersService,
      createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
    );
    const grpc = createClient(WorkersService, createGrpcTransport({ baseUrl: url }));
    const grpcWeb = createClient(
      WorkersService,
      createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
    );

    expect(await clearml(url, "workers.register", { worker: "m-1" }, "trx-1")).toBe(200);
    expect(await clearml(url, "v2.23/workers.register", { worker: "m-2" })).toBe(200);
    expect(
      await clearml(url, "workers.status_report", {
        worker: "m-1",
        timestamp: Date.now(),
        machine_stats: { cpu_usage: [10] },
      }),
    ).toBe(200);
    expect(await clearml(url, "workers.get_all", { last_seen: -1 }, "trx-bad")).toBe(400);
    expect(await clearml(url, "workers.no_such_thing", {})).toBe(404);
    await connect.getCount({}, { headers });
    await grpc.register({ worker: "m-3" }, { headers });
    await grpc.getAll({}, { headers });
    await grpcWeb.unregister({ worker: "m-2" }, { headers });
    await expect(grpc.register({ worker: "" }, { headers })).rejects.toBeInstanceOf(ConnectError);
    after = await scrape(url);
  });
  afterAll(async () => {
    await muster.close();
  });

  const moved = (labels: Record<string, string>, name = "muster_requests_total") =>
    sampleValue(after, name, labels) - sampleValue(before, name, labels);

  it("counts calls by protocol, method and code, exactly as sent", () => {
    expect(moved({ protocol: "clearml", method: "workers.register", code: "200" })).toBe(2);
    expect(moved({ protocol: "clearml", method: "workers.status_report", code: "200" })).toBe(1);
    expect(moved({ protocol: "clearml", method: "workers.get_all", code: "400" })).toBe(1);
    expect(moved({ protocol: "clearml", method: "unknown", code: "404" })).toBe(1);
    expect(moved({ protocol: "connect", method: `${SERVICE}/GetCount`, code: "OK" })).toBe(1);
    expect(moved({ protocol: "grpc", method: `${SERVICE}/Register`, code: "OK" })).toBe(1);
    expect(moved({ protocol: "grpc", method: `${SERVICE}/GetAll`, code: "OK" })).toBe(1);
    expect(moved({ protocol: "grpc-web", method: `${SERVICE}/Unregister`, code: "OK" })).toBe(1);
    expect(
      moved({ protocol: "grpc", method: `${SERVICE}/Register`, code: "INVALID_ARGUMENT" }),
    ).toBe(1);
    const total = after
      .find((f) => f.name === "muster_requests_total")
      ?.metrics.reduce((sum, m) => sum + Number(m.value), 0);
    expect(total).toBe(10);
    // Latency histograms count the same calls.
    expect(
      moved(
        { protocol: "clearml", method: "workers.register" },
        "muster_request_duration_seconds_count",
      ),
    ).toBe(2);
  });

  it("times store operations per backend, and counts the live workers", () => {
    const store = "muster_store_operation_duration_seconds_count";
    // register ×3 and status_report: presence updates; unregister: a removal.
    expect(moved({ store: "presence", backend: "memory", operation: "update" }, store)).toBe(4);
    expect(moved({ store: "presence", backend: "memory", operation: "remove" }, store)).toBe(1);
    expect(moved({ store: "stats", backend: "memory", operation: "record" }, store)).toBe(1);
    expect(sampleValue(after, "muster_store_errors_total")).toBe(0);
    expect(sampleValue(after, "muster_workers_registered")).toBe(2); // m-1, m-3
    expect(sampleValue(after, "muster_ready")).toBe(1);
    // collectDefaultMetrics: process and Node runtime.
    expect(sampleValue(after, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(after.some((f) => f.name === "nodejs_eventloop_lag_seconds")).toBe(true);
  });

  it("logs one line per call with its fields, and no credential", () => {
    const calls = lines.filter((l) => typeof l.protocol === "string");
    expect(calls).toHaveLength(10);
    expect(calls[0]).toMatchObject({
      level: 30,
      protocol: "clearml",
      method: "workers.register",
      code: "200",
      subcode: 0,
      company: "default",
      worker: "m-1",
      clientIp: "127.0.0.1",
      trx: "trx-1",
    });
    expect(calls[0]?.durationMs).toEqual(expect.any(Number));
    expect(calls[3]).toMatchObject({
      method: "workers.get_all",
      code: "400",
      subcode: 12,
      trx: "trx-bad",
    });
    expect(calls.find((l) => l.protocol === "grpc-web")).toMatchObject({
      method: `${SERVICE}/Unregister`,
      code: "OK",
      worker: "m-2",
    });
    expect(calls.at(-1)).toMatchObject({
      protocol: "grpc",
      method: `${SERVICE}/Register`,
      code: "INVALID_ARGUMENT",
      subcode: 12,
    });
    for (const line of lines) {
      const text = JSON.stringify(line);
      expect(text).not.toContain("s3cr3t");
      expect(text.toLowerCase()).not.toContain("authorization");
    }
  });
});

describe("request log modes and a separate metrics port", () => {
  it("logs only failed calls by default, none with none", async () => {
    for (const [mode, expected] of [
      [undefined, 1],
      ["none", 0],
    ] as const) {
      const { muster, lines } = await startLogged(mode === undefined ? {} : { logRequests: mode });
      try {
        const { url } = muster.server;
        expect(await clearml(url, "workers.get_count", {})).toBe(200);
        expect(await clearml(url, "workers.get_all", { last_seen: -1 })).toBe(400);
        const calls = lines.filter((l) => typeof l.protocol === "string");
        expect(calls).toHaveLength(expected);
        if (expected === 1) expect(calls[0]).toMatchObject({ code: "400" });
      } finally {
        await muster.close();
      }
    }
  });

  it("serves /metrics on --metrics-listen's port instead of the main one", async () => {
    const { muster } = await startLogged({ metricsListen: { host: "127.0.0.1", port: 0 } });
    try {
      const metricsUrl = muster.ops.metricsUrl;
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(sampleValue(await scrape(metricsUrl ?? ""), "muster_ready")).toBe(1);
      const main = await fetch(`${muster.server.url}/metrics`);
      expect(main.status).toBe(404);
      await main.arrayBuffer();
      expect((await fetch(`${muster.server.url}/healthz`)).status).toBe(200);
    } finally {
      await muster.close();
    }
  });
});
