import * as zlib from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetCountRequestSchema,
  WorkersService,
} from "../../src/gen/muster/workers/v1/workers_pb.js";
import { clearml } from "../support/clearml.js";
import { grpcFrame, h1Request, h2Request } from "../support/raw-http.js";
import { startTestServer, type TestServer } from "../support/server.js";

interface Case {
  readonly name: string;
  readonly path: string;
  readonly body: unknown;
  readonly status: number;
  readonly subcode: number;
  readonly mentions: string;
}

const now = Math.floor(Date.now() / 1000);
const range = { from_date: now - 3600, to_date: now, interval: 60 };
const longId = "y".repeat(70_000);

/** Raw JSON texts that parse but no protobuf message can hold. */
const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;

/** Each refused with a clear error naming the field, and nothing stored. */
const CASES: readonly Case[] = [
  {
    name: "a lone surrogate in worker",
    path: "/workers.register",
    body: '{"worker":"\\ud800"}',
    status: 400,
    subcode: 12,
    mentions: "worker",
  },
  {
    name: "a lone surrogate in a tag filter",
    path: "/workers.get_all",
    body: '{"tags":["ok","\\udc00"]}',
    status: 400,
    subcode: 12,
    mentions: "tags[1]",
  },
  {
    name: "to_date overflowing to Infinity",
    path: "/workers.get_stats",
    body: `{"from_date":${now - 100},"to_date":1e400,"interval":60,"items":[{"key":"cpu_usage"}]}`,
    status: 400,
    subcode: 12,
    mentions: "to_date",
  },
  {
    name: "a cpu_usage value overflowing to Infinity",
    path: "/workers.status_report",
    body: `{"worker":"w","timestamp":${Date.now()},"machine_stats":{"cpu_usage":[1e400]}}`,
    status: 400,
    subcode: 12,
    mentions: "machine_stats.cpu_usage[0]",
  },
  {
    name: "a deeply nested list as an aggregation",
    path: "/workers.get_stats",
    body: `{"from_date":${now - 100},"to_date":${now},"interval":60,"items":[{"key":"cpu_usage","aggregation":${deep}}]}`,
    status: 400,
    subcode: 12,
    mentions: "items[0].aggregation",
  },
  {
    name: "a deeply nested list as worker",
    path: "/workers.register",
    body: `{"worker":${deep}}`,
    status: 400,
    subcode: 12,
    mentions: "worker",
  },
  {
    name: "a deeply nested list as a machine stat",
    path: "/workers.status_report",
    body: `{"worker":"w","timestamp":${Date.now()},"machine_stats":{"memory_used":${deep}}}`,
    status: 400,
    subcode: 12,
    mentions: "machine_stats.memory_used",
  },
  {
    name: "1,025 cpu_usage values",
    path: "/workers.status_report",
    body: {
      worker: "w",
      timestamp: Date.now(),
      machine_stats: { cpu_usage: Array.from({ length: 1025 }, () => 1) },
    },
    status: 400,
    subcode: 12,
    mentions: "machine_stats.cpu_usage",
  },
  {
    name: "1,001 worker_ids",
    path: "/workers.get_stats",
    body: {
      ...range,
      items: [{ key: "cpu_usage" }],
      worker_ids: Array.from({ length: 1001 }, (_, i) => `w${i}`),
    },
    status: 400,
    subcode: 12,
    mentions: "worker_ids",
  },
  {
    name: "a 70,000-character worker id in get_metric_keys",
    path: "/workers.get_metric_keys",
    body: { worker_ids: [longId] },
    status: 400,
    subcode: 12,
    mentions: "worker_ids[0]",
  },
  {
    name: "a 70,000-character metric key",
    path: "/workers.get_stats",
    body: { ...range, items: [{ key: longId }] },
    status: 400,
    subcode: 12,
    mentions: "items[0].key",
  },
  {
    name: "600 tags and 600 system tags on one worker",
    path: "/workers.register",
    body: {
      worker: "w",
      tags: Array.from({ length: 600 }, (_, i) => `t${i}`),
      system_tags: Array.from({ length: 600 }, (_, i) => `s${i}`),
    },
    status: 400,
    subcode: 12,
    mentions: "tags, system_tags, queues",
  },
  {
    name: "over 64 KiB of tags on one worker",
    path: "/workers.register",
    body: { worker: "w", tags: Array.from({ length: 300 }, (_, i) => `${i}`.padEnd(256, "t")) },
    status: 400,
    subcode: 12,
    mentions: "tags, system_tags, queues",
  },
  {
    name: "a status report with 600 queues and 600 tags",
    path: "/workers.status_report",
    body: {
      worker: "w",
      timestamp: Date.now(),
      queues: Array.from({ length: 600 }, (_, i) => `q${i}`),
      tags: Array.from({ length: 600 }, (_, i) => `t${i}`),
    },
    status: 400,
    subcode: 12,
    mentions: "tags, system_tags, queues",
  },
  {
    name: "a timeout over 7 days",
    path: "/workers.register",
    body: { worker: "w", timeout: 604_801 },
    status: 400,
    subcode: 1002,
    mentions: "timeout",
  },
  {
    name: "a timeout of 2^31-1 seconds",
    path: "/workers.register",
    body: { worker: "w", timeout: 2 ** 31 - 1 },
    status: 400,
    subcode: 1002,
    mentions: "timeout",
  },
];

/** Hostile but cheap inputs: each one request or a bounded loop against a real muster. */
describe("hostile input", () => {
  let muster: TestServer;
  beforeAll(async () => {
    muster = await startTestServer();
  });
  afterAll(async () => {
    await muster.close();
  });

  it.each(CASES)("$name: $status/$subcode naming the field, nothing stored", async (c) => {
    const res = await clearml(muster.url, c.path, c.body);
    expect(res.status).toBe(c.status);
    expect(res.body.meta.result_subcode).toBe(c.subcode);
    expect(res.body.meta.result_msg).toContain(c.mentions);
    // Echoed input is cut short.
    expect(res.body.meta.result_msg.length).toBeLessThan(1000);
    const count = await clearml(muster.url, "/workers.get_count", {});
    expect(count.body.data).toEqual({ count: 0 });
  });

  it("refuses a status report that would make a registration too large, keeping it", async () => {
    const tags = Array.from({ length: 600 }, (_, i) => `t${i}`);
    expect((await clearml(muster.url, "/workers.register", { worker: "big", tags })).status).toBe(
      200,
    );
    const res = await clearml(muster.url, "/workers.status_report", {
      worker: "big",
      timestamp: Date.now(),
      queues: Array.from({ length: 600 }, (_, i) => `q${i}`),
    });
    expect(res.status).toBe(400);
    expect(res.body.meta.result_msg).toContain("600 tags, 0 system_tags, 600 queues");
    const all = await clearml(muster.url, "/workers.get_all", {});
    const [worker] = all.body.data.workers as { tags: string[]; queues: unknown[] }[];
    expect(worker?.tags).toHaveLength(600);
    expect(worker?.queues).toEqual([]);
    await clearml(muster.url, "/workers.unregister", { worker: "big" });
  });

  describe("error messages stay short over gRPC", () => {
    const call = async (workerIds: string[]): Promise<ConnectError> => {
      const client = createClient(WorkersService, createGrpcTransport({ baseUrl: muster.url }));
      return client.getMetricKeys({ workerIds }).then(
        () => {
          throw new Error("expected an error");
        },
        (error: unknown) => ConnectError.from(error),
      );
    };

    it("refuses a 70,000-character worker id with INVALID_ARGUMENT", async () => {
      const error = await call([longId]);
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain("worker_ids[0]");
      expect(error.rawMessage.length).toBeLessThan(1000);
    });

    it("cuts short the echo of 1,000 unknown 256-character ids", async () => {
      const ids = Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(256, "z"));
      const error = await call(ids);
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain("no statistics recorded for worker_ids");
      expect(error.rawMessage).toContain("…");
      expect(error.rawMessage.length).toBeLessThan(1000);
    });
  });

  describe("status codes", () => {
    const getCount = "/muster.workers.v1.WorkersService/GetCount";
    const grpc = { "content-type": "application/grpc", te: "trailers" };
    const grpcStatus = (res: { headers: object; trailers: object }) =>
      (res.trailers as Record<string, string>)["grpc-status"] ??
      (res.headers as Record<string, string>)["grpc-status"];
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff]);

    it("answers garbage protobuf over Connect with 400 invalid_argument", async () => {
      const res = await h1Request(muster.url, getCount, {
        headers: { "content-type": "application/proto" },
        body: garbage,
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body.toString()).code).toBe("invalid_argument");
    });

    it("answers garbage protobuf over gRPC with INVALID_ARGUMENT", async () => {
      const res = await h2Request(muster.url, getCount, grpc, grpcFrame(garbage));
      expect(grpcStatus(res)).toBe("3");
    });

    it.each([
      ["zero", Buffer.alloc(0)],
      ["two", Buffer.concat([grpcFrame(new Uint8Array()), grpcFrame(new Uint8Array())])],
    ])("answers a unary gRPC call with %s messages with INVALID_ARGUMENT", async (_, body) => {
      const res = await h2Request(muster.url, getCount, grpc, body);
      expect(grpcStatus(res)).toBe("3");
    });

    it("answers a unary gRPC-Web call with no message with INVALID_ARGUMENT", async () => {
      const res = await h1Request(muster.url, getCount, {
        headers: { "content-type": "application/grpc-web+proto" },
      });
      expect(res.body.toString("latin1")).toContain("grpc-status: 3");
    });

    it("answers HTTP/1.1 to the streaming reflection service with an error body", async () => {
      const path = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
      const connect = await h1Request(muster.url, path, {
        headers: { "content-type": "application/connect+proto" },
      });
      expect(connect.status).toBe(505);
      expect(JSON.parse(connect.body.toString())).toMatchObject({ code: "unimplemented" });
      const web = await h1Request(muster.url, path, {
        headers: { "content-type": "application/grpc-web+proto" },
      });
      expect(web.headers["grpc-status"]).toBe("12");
    });

    it.each(["/foo.Bar/Baz", "/muster.workers.v1.WorkersService/Nope"])(
      "answers gRPC to unknown path %s with UNIMPLEMENTED",
      async (path) => {
        const res = await h2Request(muster.url, path, grpc, grpcFrame(new Uint8Array()));
        expect(grpcStatus(res)).toBe("12");
        const web = await h1Request(muster.url, path, {
          headers: { "content-type": "application/grpc-web+proto" },
          body: grpcFrame(new Uint8Array()),
        });
        expect(web.headers["grpc-status"]).toBe("12");
      },
    );
  });

  it("accepts a timeout of exactly 7 days", async () => {
    const res = await clearml(muster.url, "/workers.register", {
      worker: "week",
      timeout: 604_800,
    });
    expect(res.status).toBe(200);
    await clearml(muster.url, "/workers.unregister", { worker: "week" });
  });

  describe("request size limits apply after decompression", () => {
    // 16 MiB unpacked from a few kilobytes: over the 4 MiB limit only once inflated.
    const message = toBinary(
      GetCountRequestSchema,
      create(GetCountRequestSchema, { workerPattern: "a".repeat(16 * 1024 * 1024) }),
    );
    const bombs = {
      gzip: zlib.gzipSync(message),
      br: zlib.brotliCompressSync(message),
    } as const;
    const path = "/muster.workers.v1.WorkersService/GetCount";

    it.each(["gzip", "br"] as const)("refuses a %s bomb over Connect", async (encoding) => {
      expect(bombs[encoding].length).toBeLessThan(100_000);
      const res = await h1Request(muster.url, path, {
        headers: { "content-type": "application/proto", "content-encoding": encoding },
        body: bombs[encoding],
      });
      expect(res.status).toBe(429);
      expect(JSON.parse(res.body.toString()).code).toBe("resource_exhausted");
    });

    it.each(["gzip", "br"] as const)("refuses a %s bomb over gRPC", async (encoding) => {
      const res = await h2Request(
        muster.url,
        path,
        { "content-type": "application/grpc", "grpc-encoding": encoding, te: "trailers" },
        grpcFrame(bombs[encoding], true),
      );
      expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("8");
    });

    it("refuses a plain Connect JSON body over the limit", async () => {
      const body = Buffer.from(JSON.stringify({ workerPattern: "a".repeat(5 * 1024 * 1024) }));
      const res = await h1Request(muster.url, path, {
        headers: { "content-type": "application/json" },
        body,
      });
      expect(res.status).toBe(429);
      expect(JSON.parse(res.body.toString()).code).toBe("resource_exhausted");
    });

    it("refuses a compressed ClearML body instead of inflating it", async () => {
      const res = await h1Request(muster.url, "/workers.get_count", {
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
        body: zlib.gzipSync(JSON.stringify({ worker_pattern: "a".repeat(16 * 1024 * 1024) })),
      });
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body.toString()).meta.result_msg).toContain("Content-Encoding");
    });

    it("refuses a ClearML body over 4 MiB with 413", async () => {
      const res = await clearml(muster.url, "/workers.get_count", {
        worker_pattern: "a".repeat(5 * 1024 * 1024),
      });
      expect(res.status).toBe(413);
    });
  });
});
