import { type DescMethodUnary, fromJson, getOption, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../src/gen/google/api/annotations_pb.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { SUBCODE_HEADER } from "../../src/rpc/errors.js";
import { clearml } from "../support/clearml.js";
import { grpcJsClient, unary } from "../support/grpc-js.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { BAD_INPUT_CASES, type BadInputCase } from "./bad-input-cases.js";

// One table of bad input, sent through every protocol muster speaks: each must refuse it with
// the same code (ClearML's result_code is the HTTP status of the RPC code) and the same ClearML
// subcode (RPC protocols carry it in the muster-result-subcode header or trailer), naming the field.

/** What a protocol reports for a refused call. */
interface Refusal {
  readonly code: Code;
  readonly subcode: string | undefined;
  readonly message: string;
}

/** The RPC code of each ClearML result_code the table expects (compat/envelope.ts maps back). */
const CODE_OF_RESULT = new Map<number, Code>([[400, Code.InvalidArgument]]);

/** The RPC the ClearML path is annotated with (google.api.http), as every RPC protocol calls it. */
function methodAt(path: string): DescMethodUnary {
  const unaryMethods = WorkersService.methods.filter(
    (m): m is DescMethodUnary => m.methodKind === "unary",
  );
  for (const method of unaryMethods) {
    const rule = getOption(method, http);
    if (rule.pattern.case !== "custom" && rule.pattern.value === path) return method;
  }
  throw new Error(`no RPC at ${path}`);
}

const rpcCases = BAD_INPUT_CASES.filter((c) => c.rpc === true);

describe("the same bad input on every protocol", () => {
  let muster: TestServer;
  let grpcClient: grpc.Client;
  beforeAll(async () => {
    muster = await startTestServer();
    grpcClient = grpcJsClient(WorkersService, `127.0.0.1:${muster.port}`);
  });
  afterAll(async () => {
    grpcClient?.close();
    await muster?.close();
  });

  /** Sends a case through a connect-es transport; resolves with what it refused. */
  const viaTransport =
    (transport: () => Transport) =>
    async (c: BadInputCase): Promise<Refusal | undefined> => {
      const method = methodAt(c.path);
      const input = fromJson(method.input, c.body as JsonValue);
      try {
        await transport().unary(method, undefined, 10_000, undefined, input);
        return undefined;
      } catch (error) {
        const e = ConnectError.from(error);
        return {
          code: e.code,
          subcode: e.metadata.get(SUBCODE_HEADER) ?? undefined,
          message: e.rawMessage,
        };
      }
    };

  const protocols: [string, (c: BadInputCase) => Promise<Refusal | undefined>][] = [
    [
      "ClearML JSON",
      async (c) => {
        const res = await clearml(muster.url, c.path, c.body);
        const { meta } = res.body;
        expect(res.status).toBe(meta.result_code);
        if (meta.result_code === 200) return undefined;
        const code = CODE_OF_RESULT.get(meta.result_code) ?? Code.Unknown;
        return { code, subcode: String(meta.result_subcode), message: meta.result_msg };
      },
    ],
    [
      "Connect JSON",
      viaTransport(() => createConnectTransport({ baseUrl: muster.url, httpVersion: "1.1" })),
    ],
    [
      "Connect binary",
      viaTransport(() =>
        createConnectTransport({ baseUrl: muster.url, httpVersion: "2", useBinaryFormat: true }),
      ),
    ],
    [
      "gRPC (grpc-js)",
      async (c) => {
        const method = methodAt(c.path);
        const input = fromJson(method.input, c.body as JsonValue);
        try {
          await unary(grpcClient, method, input);
          return undefined;
        } catch (error) {
          const e = error as grpc.ServiceError;
          const subcode = e.metadata.get(SUBCODE_HEADER)[0];
          return {
            code: Number(e.code),
            subcode: subcode === undefined ? undefined : String(subcode),
            message: e.details,
          };
        }
      },
    ],
    [
      "gRPC-Web",
      viaTransport(() => createGrpcWebTransport({ baseUrl: muster.url, httpVersion: "1.1" })),
    ],
  ];

  it.each(rpcCases)("$name: $status/$subcode everywhere", async (c) => {
    const expected = {
      code: CODE_OF_RESULT.get(c.status),
      subcode: String(c.subcode),
      message: expect.stringContaining(c.mentions),
    };
    for (const [protocol, send] of protocols) {
      expect(await send(c), protocol).toEqual(expected);
    }
  });

  it("covers most of the bad-input cases, and stored nothing", async () => {
    expect(rpcCases.length).toBeGreaterThanOrEqual(10);
    const count = await clearml(muster.url, "/workers.get_count", {});
    expect(count.body.data).toEqual({ count: 0 });
  });
});
