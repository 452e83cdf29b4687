// The lean unary gRPC path (src/rpc/grpc-unary-fast.ts): plain unary calls take it, with the same
// answers, errors and limits as connect-node gives; compressed calls still go through connect-node.
import * as http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { compressionGzip, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { SUBCODE_HEADER } from "../../src/rpc/errors.js";
import { captureLog, startTestServer, type TestServer } from "../support/server.js";

const FAST = "unary gRPC call on the fast path";
const READ_MAX_BYTES = 4096;

describe("unary gRPC fast path", () => {
  let muster: TestServer;
  const captured = captureLog();
  const fastCalls = () =>
    captured
      .text()
      .split("\n")
      .filter((l) => l.includes(FAST));

  beforeAll(async () => {
    muster = await startTestServer(
      {},
      { log: captured.log, limits: { readMaxBytes: READ_MAX_BYTES } },
    );
  });
  afterAll(async () => {
    await muster.close();
  });

  it("serves plain unary gRPC calls itself", async () => {
    const client = createClient(WorkersService, createGrpcTransport({ baseUrl: muster.url }));
    const before = fastCalls().length;
    await client.register({ worker: "fast-1" });
    await client.statusReport({ worker: "fast-1", timestamp: BigInt(Date.now()) });
    const answer = await client.getAll({});
    expect(answer.workers.map((w) => w.id)).toContain("fast-1");
    const taken = fastCalls().slice(before);
    expect(taken).toHaveLength(3);
    expect(taken.join("\n")).toContain('"method":"StatusReport"');
  });

  it("leaves gzip-compressed gRPC calls to connect-node, which serves them", async () => {
    const client = createClient(
      WorkersService,
      createGrpcTransport({
        baseUrl: muster.url,
        sendCompression: compressionGzip,
        compressMinBytes: 1,
      }),
    );
    const before = fastCalls().length;
    await client.register({ worker: "fast-gzip" });
    await client.statusReport({ worker: "fast-gzip", timestamp: BigInt(Date.now()) });
    expect(fastCalls().length).toBe(before);
  });

  it("answers API errors with code, message and the subcode trailer", async () => {
    const client = createClient(WorkersService, createGrpcTransport({ baseUrl: muster.url }));
    const before = fastCalls().length;
    const error = await client.register({ worker: "" }).catch((e: unknown) => e);
    expect(fastCalls().length).toBe(before + 1);
    expect(error).toBeInstanceOf(ConnectError);
    const e = error as ConnectError;
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.rawMessage).toMatch(/worker/);
    expect(Number(e.metadata.get(SUBCODE_HEADER))).toBeGreaterThan(0);
  });

  it("refuses garbage, oversized, compressed-flagged and two-message bodies", async () => {
    const cases: [string, Buffer, Code][] = [
      ["garbage", frame(0, Buffer.from([0xff, 0xff, 0xff])), Code.InvalidArgument],
      ["too large", frame(0, Buffer.alloc(READ_MAX_BYTES + 1, 0x20)), Code.ResourceExhausted],
      ["compressed flag", frame(1, Buffer.from([0x0a, 0x01, 0x61])), Code.Internal],
      [
        "two messages",
        Buffer.concat([frame(0, Buffer.from([0x0a, 0x01, 0x61])), frame(0, Buffer.alloc(0))]),
        Code.InvalidArgument,
      ],
      ["empty", Buffer.alloc(0), Code.InvalidArgument],
    ];
    for (const [name, body, code] of cases) {
      const before = fastCalls().length;
      const status = await rawGrpc(muster.url, "/muster.workers.v1.WorkersService/Register", body);
      expect({ name, status }).toEqual({ name, status: String(code) });
      expect(fastCalls().length).toBe(before + 1);
    }
  });
});

function frame(flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** One gRPC call by hand: its grpc-status, from the trailers or a trailers-only answer. */
function rawGrpc(url: string, path: string, body: Buffer): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    let status: string | undefined;
    stream.on("response", (headers) => {
      status = headers["grpc-status"]?.toString() ?? status;
    });
    stream.on("trailers", (trailers) => {
      status = trailers["grpc-status"]?.toString() ?? status;
    });
    stream.on("data", () => {});
    stream.on("close", () => {
      session.close();
      resolve(status);
    });
    stream.on("error", reject);
    stream.end(body);
  });
}
