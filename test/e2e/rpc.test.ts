import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ServerReflection as ReflectionV1,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
  ServerReflectionRequestSchema as V1RequestSchema,
  ServerReflectionResponseSchema as V1ResponseSchema,
} from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Aggregation } from "../../src/gen/muster/workers/v1/types_pb.js";
import {
  GetActivityReportRequestSchema,
  GetAllRequestSchema,
  GetCountRequestSchema,
  GetMetricKeysRequestSchema,
  GetStatsRequestSchema,
  RegisterRequestSchema,
  StatusReportRequestSchema,
  UnregisterRequestSchema,
  WorkersService,
} from "../../src/gen/muster/workers/v1/workers_pb.js";
import { SUBCODE_HEADER } from "../../src/rpc/errors.js";
import { grpcJsClient, unary } from "../support/grpc-js.js";
import { startTestServer, type TestServer } from "../support/server.js";

const run = promisify(execFile);
const BUF = new URL("../../node_modules/.bin/buf", import.meta.url).pathname;
const METHODS = WorkersService.methods.map((m) => `${WorkersService.typeName}/${m.name}`);

describe("RPC protocols on the same port", () => {
  let muster: TestServer;
  beforeAll(async () => {
    muster = await startTestServer();
  });
  afterAll(async () => {
    await muster.close();
  });

  it("serves every RPC to a @grpc/grpc-js client over h2c", async () => {
    const client = grpcJsClient(WorkersService, `127.0.0.1:${muster.port}`);
    const rpc = WorkersService.method;
    try {
      const now = Date.now();
      const seconds = Math.floor(now / 1000);
      await unary(
        client,
        rpc.register,
        create(RegisterRequestSchema, { worker: "grpc-1", tags: ["x"] }),
      );
      await unary(
        client,
        rpc.statusReport,
        create(StatusReportRequestSchema, {
          worker: "grpc-1",
          timestamp: BigInt(now),
          task: "t",
          machineStats: { gpuUsage: [40, 60] },
        }),
      );
      const all = await unary(client, rpc.getAll, create(GetAllRequestSchema, {}));
      expect(all.response.workers.map((w) => [w.id, w.tags])).toEqual([["grpc-1", ["x"]]]);
      const count = await unary(
        client,
        rpc.getCount,
        create(GetCountRequestSchema, { tags: ["x"] }),
      );
      expect(count.response.count).toBe(1);
      const stats = await unary(
        client,
        rpc.getStats,
        create(GetStatsRequestSchema, {
          fromDate: seconds - 60,
          toDate: seconds + 1,
          interval: 3600,
          items: [{ key: "gpu_usage", aggregation: Aggregation.MAX }],
          splitByVariant: true,
        }),
      );
      const metrics = stats.response.workers[0]?.metrics;
      expect(metrics?.map((m) => [m.variant, m.stats[0]?.values])).toEqual([
        ["0", [40]],
        ["1", [60]],
      ]);
      const activity = await unary(
        client,
        rpc.getActivityReport,
        create(GetActivityReportRequestSchema, {
          fromDate: seconds - 1,
          toDate: seconds + 1,
          interval: 3600,
        }),
      );
      expect(activity.response.active?.counts.at(-1)).toBe(1);
      const keys = await unary(client, rpc.getMetricKeys, create(GetMetricKeysRequestSchema, {}));
      expect(keys.response.categories.map((c) => c.name)).toEqual(["gpu"]);
      await unary(client, rpc.unregister, create(UnregisterRequestSchema, { worker: "grpc-1" }));
      const after = await unary(client, rpc.getCount, create(GetCountRequestSchema, {}));
      expect(after.response.count).toBe(0);
    } finally {
      client.close();
    }
  });

  it("reports bad input to grpc-js as INVALID_ARGUMENT with the ClearML subcode", async () => {
    const client = grpcJsClient(WorkersService, `127.0.0.1:${muster.port}`);
    try {
      const register = WorkersService.method.register;
      const error = await unary(
        client,
        register,
        create(RegisterRequestSchema, { worker: "w", timeout: -1 }),
      ).then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
      expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error?.details).toContain("timeout");
      expect(error?.metadata.get(SUBCODE_HEADER)).toEqual(["1002"]);
    } finally {
      client.close();
    }
  });

  for (const [name, transport] of [
    [
      "Connect JSON over HTTP/1.1",
      () => createConnectTransport({ baseUrl: muster.url, httpVersion: "1.1" }),
    ],
    [
      "Connect binary over h2c",
      () =>
        createConnectTransport({ baseUrl: muster.url, httpVersion: "2", useBinaryFormat: true }),
    ],
    [
      "gRPC-Web over HTTP/1.1",
      () => createGrpcWebTransport({ baseUrl: muster.url, httpVersion: "1.1" }),
    ],
    ["gRPC (connect-node) over h2c", () => createGrpcTransport({ baseUrl: muster.url })],
  ] as const) {
    it(`serves ${name}`, async () => {
      const client = createClient(WorkersService, transport());
      const worker = `conn-${name}`;
      await client.register({ worker, systemTags: ["s"] });
      await client.statusReport({
        worker,
        timestamp: BigInt(Date.now()),
        machineStats: { memoryUsed: 0 },
      });
      const { workers } = await client.getAll({ workerPattern: worker });
      expect(workers.map((w) => [w.id, w.systemTags])).toEqual([[worker, ["s"]]]);
      const error = await client
        .getStats({ fromDate: 2, toDate: 1, interval: 1, items: [{ key: "memory_used" }] })
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toBe("from_date must be less than to_date");
      expect(error?.metadata.get(SUBCODE_HEADER)).toBe("16");
      await client.unregister({ worker });
    });
  }

  it("pages GetAll alike over gRPC (cached binary encodings), Connect proto and Connect JSON", async () => {
    const clients = {
      grpc: createClient(WorkersService, createGrpcTransport({ baseUrl: muster.url })),
      proto: createClient(
        WorkersService,
        createConnectTransport({ baseUrl: muster.url, httpVersion: "1.1", useBinaryFormat: true }),
      ),
      json: createClient(
        WorkersService,
        createConnectTransport({ baseUrl: muster.url, httpVersion: "1.1" }),
      ),
    };
    const names = ["page-c", "page-a", "page-d", "page-b", "page-e"];
    for (const worker of names) await clients.grpc.register({ worker, tags: ["paged"] });
    // A running worker's task is sent from its cached bytes followed by its running time.
    await clients.grpc.statusReport({ worker: "page-b", timestamp: BigInt(Date.now()), task: "t" });
    const pages: Record<string, string[][]> = {};
    for (const [name, client] of Object.entries(clients)) {
      const seen: string[][] = [];
      let pageToken = "";
      do {
        const page = await client.getAll({ tags: ["paged"], pageSize: 2, pageToken });
        seen.push(page.workers.map((w) => w.id));
        if (page.workers.some((w) => w.id === "page-b")) {
          const task = page.workers.find((w) => w.id === "page-b")?.task;
          expect([task?.id, typeof task?.runningTime]).toEqual(["t", "bigint"]);
        }
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      pages[name] = seen;
      const all = await client.getAll({ tags: ["paged"] });
      expect(all.workers.map((w) => w.id)).toEqual([...names].sort());
      expect(all.nextPageToken).toBe("");
    }
    const expected = [["page-a", "page-b"], ["page-c", "page-d"], ["page-e"]];
    expect(pages).toEqual({ grpc: expected, proto: expected, json: expected });
  });

  it("lists every method to buf curl through reflection", async () => {
    const { stdout } = await run(BUF, [
      "curl",
      "--list-methods",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      muster.url,
    ]);
    const listed = stdout.trim().split("\n");
    expect(listed).toEqual(expect.arrayContaining(METHODS));
    expect(listed).toContain("grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
  });

  it("lets buf curl call an RPC it learned through reflection, over gRPC and Connect", async () => {
    for (const protocol of [
      ["--protocol", "grpc", "--http2-prior-knowledge"],
      ["--protocol", "connect"],
    ]) {
      const { stdout } = await run(BUF, [
        "curl",
        ...protocol,
        "-d",
        '{"worker": "buf-curl", "tags": ["ops"]}',
        `${muster.url}/muster.workers.v1.WorkersService/Register`,
      ]);
      expect(JSON.parse(stdout)).toEqual({});
      const count = await run(BUF, [
        "curl",
        ...protocol,
        "-d",
        '{"tags": ["ops"]}',
        `${muster.url}/muster.workers.v1.WorkersService/GetCount`,
      ]);
      expect(JSON.parse(count.stdout)).toEqual({ count: 1 });
      await run(BUF, [
        "curl",
        ...protocol,
        "-d",
        '{"worker": "buf-curl"}',
        `${muster.url}/muster.workers.v1.WorkersService/Unregister`,
      ]);
    }
  });

  it("answers reflection v1 and v1alpha to grpc-js, with descriptors that resolve", async () => {
    for (const reflection of [ReflectionV1, ReflectionV1Alpha]) {
      const client = grpcJsClient(reflection, `127.0.0.1:${muster.port}`);
      try {
        // Both versions share one wire format, so the v1 schemas read and write either.
        const call = client.makeBidiStreamRequest(
          `/${reflection.typeName}/ServerReflectionInfo`,
          (m: ServerReflectionRequest) => Buffer.from(toBinary(V1RequestSchema, m)),
          (b: Buffer) => fromBinary(V1ResponseSchema, b),
        );
        const responses: ServerReflectionResponse[] = [];
        call.on("data", (r: ServerReflectionResponse) => responses.push(r));
        const ended = new Promise((resolve, reject) => {
          call.on("end", resolve);
          call.on("error", reject);
        });
        const ask = (messageRequest: ServerReflectionRequest["messageRequest"]) =>
          call.write(create(V1RequestSchema, { messageRequest }));
        ask({ case: "listServices", value: "" });
        ask({ case: "fileContainingSymbol", value: "muster.workers.v1.WorkersService.GetStats" });
        ask({ case: "fileByFilename", value: "nope.proto" });
        call.end();
        await ended;
        const [list, file, missing] = responses.map((r) => r.messageResponse);
        expect(
          list?.case === "listServicesResponse" && list.value.service.map((s) => s.name),
        ).toContain(WorkersService.typeName);
        const protos =
          file?.case === "fileDescriptorResponse" ? file.value.fileDescriptorProto : [];
        const names = protos.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
        expect(names).toEqual(
          expect.arrayContaining([
            "muster/workers/v1/workers.proto",
            "muster/workers/v1/types.proto",
            "google/api/annotations.proto",
            "buf/validate/validate.proto",
            "google/protobuf/timestamp.proto",
          ]),
        );
        expect(missing?.case).toBe("errorResponse");
      } finally {
        client.close();
      }
    }
  });
});
