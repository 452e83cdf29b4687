/**
 * Health over gRPC (grpc-js and grpcurl) and HTTP on a real muster: SERVING with stores that
 * answer, NOT_SERVING while nats-server or influxd is stopped and again SERVING once it is back,
 * and NOT_SERVING to watchers and /readyz while the server drains.
 */
import { execFile } from "node:child_process";
import * as http from "node:http";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import type { PresenceStore } from "../../src/core/presence-store.js";
import type { StatsStore } from "../../src/core/stats-store.js";
import {
  Health,
  type HealthCheckRequest,
  HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { createMuster, type Muster } from "../../src/muster.js";
import { MemoryPresenceStore } from "../../src/presence/memory/memory-presence-store.js";
import { openNatsPresenceStore } from "../../src/presence/nats/nats-presence-store.js";
import { InfluxStatsStore } from "../../src/stats/influx/influx-stats-store.js";
import { MemoryStatsStore } from "../../src/stats/memory/memory-stats-store.js";
import { grpcurlBinary } from "../harness/grpcurl.js";
import { startInfluxd } from "../harness/influxd.js";
import { startNatsServer } from "../harness/nats-server.js";
import { waitUntil } from "../harness/server-process.js";
import { grpcJsClient, unary } from "../support/grpc-js.js";

const run = promisify(execFile);

async function startMuster(presence?: PresenceStore, stats?: StatsStore): Promise<Muster> {
  return createMuster({
    presence: presence ?? new MemoryPresenceStore(systemClock),
    stats: stats ?? new MemoryStatsStore(systemClock),
    clock: systemClock,
    log: pino({ level: "silent" }),
  });
}

async function check(client: grpc.Client, service = ""): Promise<Status> {
  const { response } = await unary(
    client,
    Health.method.check,
    create(HealthCheckRequestSchema, { service }),
  );
  return response.status;
}

/** A Watch stream's answers, collected as they come. */
function watch(client: grpc.Client, service = "") {
  const seen: Status[] = [];
  const call = client.makeServerStreamRequest(
    `/${Health.typeName}/Watch`,
    (m: HealthCheckRequest) => Buffer.from(toBinary(HealthCheckRequestSchema, m)),
    (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
    create(HealthCheckRequestSchema, { service }),
  );
  call.on("data", (response: HealthCheckResponse) => seen.push(response.status));
  const ended = new Promise<void>((resolve) => {
    call.on("error", () => resolve()); // cancelled, or ended by the server
    call.on("end", () => resolve());
  });
  return { seen, ended, cancel: () => call.cancel() };
}

async function readyz(url: string, agent?: http.Agent) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    http
      .get(`${url}/readyz`, agent === undefined ? {} : { agent }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      })
      .on("error", reject);
  });
}

describe("health with the memory stores", () => {
  let muster: Muster;
  let client: grpc.Client;
  beforeAll(async () => {
    muster = await startMuster();
    client = grpcJsClient(Health, `127.0.0.1:${muster.server.port}`);
  });
  afterAll(async () => {
    client.close();
    await muster.close();
  });

  it("answers SERVING overall and per service to grpc-js, NOT_FOUND for an unknown service", async () => {
    expect(await check(client)).toBe(Status.SERVING);
    expect(await check(client, WorkersService.typeName)).toBe(Status.SERVING);
    expect(await check(client, Health.typeName)).toBe(Status.SERVING);
    await expect(check(client, "no.such.Service")).rejects.toMatchObject({ code: 5 });
  });

  it("answers grpcurl, which learns the health service through reflection", async () => {
    const address = `127.0.0.1:${muster.server.port}`;
    const binary = grpcurlBinary();
    const { stdout } = await run(binary, ["-plaintext", address, `${Health.typeName}/Check`]);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
    const listed = await run(binary, ["-plaintext", address, "list"]);
    expect(listed.stdout.split("\n")).toContain(Health.typeName);
    const one = await run(binary, [
      "-plaintext",
      "-d",
      JSON.stringify({ service: WorkersService.typeName }),
      address,
      `${Health.typeName}/Check`,
    ]);
    expect(JSON.parse(one.stdout)).toEqual({ status: "SERVING" });
  });

  it("answers /healthz and /readyz over HTTP without credentials", async () => {
    const alive = await fetch(`${muster.server.url}/healthz`);
    expect(alive.status).toBe(200);
    expect(await alive.json()).toEqual({ alive: true });
    const ready = await readyz(muster.server.url);
    expect(ready).toEqual({
      status: 200,
      body: {
        ready: true,
        draining: false,
        stores: {
          presence: { backend: "memory", ready: true },
          stats: { backend: "memory", ready: true },
        },
      },
    });
    expect((await fetch(`${muster.server.url}/readyz`, { method: "POST" })).status).toBe(405);
  });
});

/** Waits for the overall status over grpc-js (a new call each time) to become `want`. */
async function until(client: grpc.Client, want: Status, what: string): Promise<void> {
  await waitUntil(
    async () => (await check(client).catch(() => Status.UNKNOWN)) === want,
    20_000,
    `health did not become ${Status[want]} ${what}`,
  );
}

describe("health follows NATS", () => {
  it("turns NOT_SERVING while nats-server is stopped and SERVING once it is back", async () => {
    const nats = await startNatsServer();
    const log = pino({ level: "silent" });
    let muster: Muster | undefined;
    let client: grpc.Client | undefined;
    try {
      const presence = await openNatsPresenceStore({
        url: nats.url,
        bucket: "health",
        clock: systemClock,
        log,
      });
      muster = await startMuster(presence);
      client = grpcJsClient(Health, `127.0.0.1:${muster.server.port}`);
      expect(await check(client)).toBe(Status.SERVING);
      const watcher = watch(client, WorkersService.typeName);
      await waitUntil(async () => watcher.seen.length === 1, 5000, "no first Watch answer");

      await nats.stop();
      await until(client, Status.NOT_SERVING, "with NATS stopped");
      expect(await check(client, WorkersService.typeName)).toBe(Status.NOT_SERVING);
      expect(await check(client, Health.typeName)).toBe(Status.SERVING);
      const down = await readyz(muster.server.url);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        ready: false,
        stores: {
          presence: { backend: "nats", ready: false, reason: expect.stringContaining("NATS") },
          stats: { backend: "memory", ready: true },
        },
      });

      // Watch looks again every second: keep NATS down until it has told the change.
      await waitUntil(async () => watcher.seen.length === 2, 5000, "Watch missed the outage");
      await nats.start();
      await until(client, Status.SERVING, "after NATS came back");
      expect((await readyz(muster.server.url)).status).toBe(200);
      await waitUntil(async () => watcher.seen.length >= 3, 5000, "Watch missed the recovery");
      expect(watcher.seen).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
      watcher.cancel();
      await watcher.ended;
      const metrics = await (await fetch(`${muster.server.url}/metrics`)).text();
      expect(metrics).toMatch(/^muster_nats_reconnects_total 1$/m);
    } finally {
      client?.close();
      await muster?.close();
      await nats.close();
    }
  }, 60_000);
});

describe("health follows InfluxDB", () => {
  it("turns NOT_SERVING while influxd is stopped and SERVING once it is back", async () => {
    const influxd = await startInfluxd();
    let muster: Muster | undefined;
    let client: grpc.Client | undefined;
    try {
      const stats = await InfluxStatsStore.open({
        url: influxd.url,
        token: influxd.token,
        org: influxd.org,
        bucket: "health",
        query: "flux",
        retentionMs: 3_600_000,
        log: pino({ level: "silent" }),
      });
      muster = await startMuster(undefined, stats);
      client = grpcJsClient(Health, `127.0.0.1:${muster.server.port}`);
      expect(await check(client)).toBe(Status.SERVING);
      const { url } = muster.server;
      const report = async () => {
        const response = await fetch(`${url}/workers.status_report`, {
          method: "POST",
          body: JSON.stringify({
            worker: "w",
            timestamp: Date.now(),
            machine_stats: { cpu_usage: [1] },
          }),
        });
        await response.arrayBuffer();
        return response.status;
      };
      const metric = async (name: string) => {
        const match = new RegExp(`^${name} (\\S+)$`, "m").exec(
          await (await fetch(`${url}/metrics`)).text(),
        );
        return Number(match?.[1] ?? Number.NaN);
      };
      expect(await report()).toBe(200);
      expect(await metric("muster_influx_write_batches_total")).toBe(1);
      expect(await metric("muster_influx_write_errors_total")).toBe(0);

      await influxd.stop();
      await until(client, Status.NOT_SERVING, "with influxd stopped");
      expect(await report()).toBe(503);
      expect(await metric("muster_influx_write_errors_total")).toBe(1);
      const down = await readyz(muster.server.url);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        stores: { stats: { backend: "influx", ready: false, reason: expect.any(String) } },
      });

      await influxd.start();
      await until(client, Status.SERVING, "after influxd came back");
      expect((await readyz(muster.server.url)).status).toBe(200);
    } finally {
      client?.close();
      await muster?.close();
      await influxd.close();
    }
  }, 90_000);
});

describe("health while draining", () => {
  it("tells watchers and /readyz NOT_SERVING while calls in flight finish", async () => {
    const muster = await startMuster();
    const client = grpcJsClient(Health, `127.0.0.1:${muster.server.port}`);
    // A keep-alive HTTP/1.1 connection opened before the close: it stays usable while draining.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let held: http.ClientRequest | undefined;
    try {
      expect((await readyz(muster.server.url, agent)).status).toBe(200);
      const watcher = watch(client);
      await waitUntil(async () => watcher.seen.length === 1, 5000, "no first Watch answer");
      // A ClearML call whose body has not all arrived keeps the server draining.
      held = http.request(`${muster.server.url}/workers.get_count`, {
        method: "POST",
        headers: { "content-length": "100" },
      });
      held.on("error", () => undefined);
      held.write("{");
      await new Promise((resolve) => setTimeout(resolve, 100));

      const closing = muster.close();
      await waitUntil(async () => watcher.seen.length >= 2, 5000, "Watch did not hear the drain");
      expect(watcher.seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
      const draining = await readyz(muster.server.url, agent);
      expect(draining.status).toBe(503);
      expect(draining.body).toMatchObject({ ready: false, draining: true });
      held.end();
      await closing;
      await watcher.ended;
    } finally {
      held?.destroy();
      agent.destroy();
      client.close();
      await muster.close().catch(() => undefined);
    }
  }, 30_000);
});
