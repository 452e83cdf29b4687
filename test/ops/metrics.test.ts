/**
 * /metrics and the request log on a real muster after a known sequence of calls over ClearML
 * JSON, Connect, gRPC and gRPC-Web, with credentials: every counter moved by exactly what was
 * sent, refused calls included, one log line per call with its fields, and no credential in any
 * line.
 */
import { Writable } from "node:stream";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import parsePrometheusTextFormat, { type Family } from "parse-prometheus-text-format";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LiveCredentials } from "../../src/auth/live-credentials.js";
import { systemClock } from "../../src/core/clock.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { createMuster, type Muster } from "../../src/muster.js";
import type { OpsOptions } from "../../src/ops/ops.js";
import { MemoryPresenceStore } from "../../src/presence/memory/memory-presence-store.js";
import { MemoryStatsStore } from "../../src/stats/memory/memory-stats-store.js";
import { ALL_SECRETS, basic, credentialsFile, KEYS } from "../support/auth.js";

const SERVICE = WorkersService.typeName;
/** acme's user; its secret, and the header carrying it, must reach no log line. */
const AUTH = basic(KEYS.acmeUser);

/** A muster whose log lines are kept, parsed, in `lines`. */
async function startLogged(
  ops: OpsOptions,
  credentials?: LiveCredentials,
): Promise<{ muster: Muster; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
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
    ...(credentials === undefined ? {} : { credentials }),
  });
  return { muster, lines };
}

async function clearml(
  url: string,
  endpoint: string,
  body: unknown,
  options: { trx?: string; authorization?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.trx !== undefined) headers["x-clearml-trx"] = options.trx;
  const response = await fetch(`${url}/${endpoint}`, {
    method: "POST",
    headers,
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
function sampleValue(families: Family[], name: string, labels: Record<string, string> = {}) {
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
  let removeCredentials: () => Promise<void>;
  beforeAll(async () => {
    const file = await credentialsFile();
    removeCredentials = file.remove;
    ({ muster, lines } = await startLogged({ logRequests: "all" }, await file.load()));
    const { url } = muster.server;
    before = await scrape(url);
    const authorization = AUTH;
    const headers = { authorization };
    const connect = createClient(
      WorkersService,
      createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
    );
    const grpc = createClient(WorkersService, createGrpcTransport({ baseUrl: url }));
    const grpcWeb = createClient(
      WorkersService,
      createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
    );
    const health = createClient(Health, createGrpcTransport({ baseUrl: url }));

    const register = (worker: string, trx?: string) =>
      clearml(url, "workers.register", { worker }, { authorization, ...(trx && { trx }) });
    expect(await register("m-1", "trx-1")).toBe(200); // 0
    expect(await clearml(url, "v2.23/workers.register", { worker: "m-2" }, { authorization })).toBe(
      200,
    ); // 1
    const report = { worker: "m-1", timestamp: Date.now(), machine_stats: { cpu_usage: [10] } };
    expect(await clearml(url, "workers.status_report", report, { authorization })).toBe(200); // 2
    const badGetAll = { trx: "trx-bad", authorization };
    expect(await clearml(url, "workers.get_all", { last_seen: -1 }, badGetAll)).toBe(400); // 3
    expect(await clearml(url, "workers.no_such_thing", {}, { authorization })).toBe(404); // 4
    await connect.getCount({}, { headers }); // 5
    await grpc.register({ worker: "m-3" }, { headers }); // 6
    await grpc.getAll({}, { headers }); // 7
    await grpcWeb.unregister({ worker: "m-2" }, { headers }); // 8
    await expect(grpc.register({ worker: "" }, { headers })).rejects.toBeInstanceOf(ConnectError); // 9
    // Without credentials: refused, and counted.
    expect(await clearml(url, "workers.get_count", {})).toBe(401); // 10
    await expect(grpc.getCount({})).rejects.toMatchObject({ code: Code.Unauthenticated }); // 11
    // The health service needs none.
    expect((await health.check({})).status).toBe(Status.SERVING); // 12
    after = await scrape(url);
  });
  afterAll(async () => {
    await muster.close();
    await removeCredentials();
  });

  const moved = (labels: Record<string, string>, name = "muster_requests_total") =>
    sampleValue(after, name, labels) - sampleValue(before, name, labels);

  it("counts calls by protocol, method and code, exactly as sent", () => {
    expect(moved({ protocol: "clearml", method: "workers.register", code: "200" })).toBe(2);
    expect(moved({ protocol: "clearml", method: "workers.status_report", code: "200" })).toBe(1);
    expect(moved({ protocol: "clearml", method: "workers.get_all", code: "400" })).toBe(1);
    expect(moved({ protocol: "clearml", method: "unknown", code: "404" })).toBe(1);
    expect(moved({ protocol: "clearml", method: "workers.get_count", code: "401" })).toBe(1);
    expect(moved({ protocol: "connect", method: `${SERVICE}/GetCount`, code: "OK" })).toBe(1);
    expect(moved({ protocol: "grpc", method: `${SERVICE}/Register`, code: "OK" })).toBe(1);
    expect(moved({ protocol: "grpc", method: `${SERVICE}/GetAll`, code: "OK" })).toBe(1);
    expect(moved({ protocol: "grpc-web", method: `${SERVICE}/Unregister`, code: "OK" })).toBe(1);
    expect(
      moved({ protocol: "grpc", method: `${SERVICE}/Register`, code: "INVALID_ARGUMENT" }),
    ).toBe(1);
    expect(
      moved({ protocol: "grpc", method: `${SERVICE}/GetCount`, code: "UNAUTHENTICATED" }),
    ).toBe(1);
    expect(moved({ protocol: "grpc", method: "grpc.health.v1.Health/Check", code: "OK" })).toBe(1);
    const total = after
      .find((f) => f.name === "muster_requests_total")
      ?.metrics.reduce((sum, m) => sum + Number(m.value), 0);
    expect(total).toBe(13);
    // Latency histograms count the same calls.
    const latency = "muster_request_duration_seconds_count";
    expect(moved({ protocol: "clearml", method: "workers.register" }, latency)).toBe(2);
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
    expect(calls).toHaveLength(13);
    expect(calls[0]).toMatchObject({
      level: 30,
      protocol: "clearml",
      method: "workers.register",
      code: "200",
      subcode: 0,
      company: "acme",
      worker: "m-1",
      clientIp: "127.0.0.1",
      trx: "trx-1",
    });
    expect(calls[0]?.durationMs).toEqual(expect.any(Number));
    expect(calls[3]).toMatchObject({ method: "workers.get_all", code: "400", subcode: 12 });
    expect(calls[3]).toMatchObject({ trx: "trx-bad" });
    expect(calls[8]).toMatchObject({
      protocol: "grpc-web",
      method: `${SERVICE}/Unregister`,
      code: "OK",
      company: "acme",
      worker: "m-2",
    });
    expect(calls[9]).toMatchObject({
      protocol: "grpc",
      method: `${SERVICE}/Register`,
      code: "INVALID_ARGUMENT",
      subcode: 12,
    });
    // Refused calls are logged without a company: nobody was authenticated.
    expect(calls[10]).toMatchObject({ method: "workers.get_count", code: "401", subcode: 20 });
    expect(calls[11]).toMatchObject({ code: "UNAUTHENTICATED", subcode: 20 });
    for (const refused of [calls[10], calls[11]]) expect(refused).not.toHaveProperty("company");
    for (const line of lines) {
      const text = JSON.stringify(line);
      for (const secret of [...ALL_SECRETS, AUTH, AUTH.slice("Basic ".length)]) {
        expect(text).not.toContain(secret);
      }
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
        if (expected === 1) expect(calls[0]).toMatchObject({ code: "400", company: "default" });
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

describe("the memory stats store's bounds in /metrics", () => {
  it("counts the samples a bound dropped, by reason", async () => {
    // Room for one worker's series (activity, two CPU cores); a second worker's push it out.
    const stats = new MemoryStatsStore(systemClock, {
      retentionMs: 3_600_000,
      maxSamples: 1_000,
      maxSeries: 3,
    });
    const muster = await createMuster({
      presence: new MemoryPresenceStore(systemClock),
      stats,
      clock: systemClock,
      log: pino({ level: "silent" }),
    });
    try {
      const { url } = muster.server;
      const report = (worker: string) =>
        clearml(url, "workers.status_report", {
          worker,
          timestamp: Date.now(),
          machine_stats: { cpu_usage: [10, 20] },
        });
      expect(await report("first")).toBe(200);
      const before = await scrape(url);
      expect(
        sampleValue(before, "muster_memory_stats_dropped_samples_total", { reason: "series" }),
      ).toBe(0);
      expect(await report("second")).toBe(200);
      const after = await scrape(url);
      expect(
        sampleValue(after, "muster_memory_stats_dropped_samples_total", { reason: "series" }),
      ).toBe(3);
      expect(
        sampleValue(after, "muster_memory_stats_dropped_samples_total", { reason: "samples" }),
      ).toBe(0);
      expect(stats.seriesCount).toBe(3);
    } finally {
      await muster.close();
    }
  });
});
