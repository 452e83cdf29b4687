// One call over any protocol family, as a client of that family makes it, with its answer in one
// shape (ClearML JSON data, or the error's code and subcode): for the tables of the auth tests.
import {
  type DescMethodServerStreaming,
  type DescMethodUnary,
  fromBinary,
  getOption,
  type JsonObject,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { messageFromClearml, messageToClearml } from "../../src/compat/json.js";
import { http } from "../../src/gen/google/api/annotations_pb.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { clearml } from "./clearml.js";
import { grpcJsClient } from "./grpc-js.js";

export type Protocol = "clearml" | "connect" | "grpc";
export const PROTOCOLS: readonly Protocol[] = ["clearml", "connect", "grpc"];

export type Outcome =
  | { readonly ok: true; readonly data: JsonObject }
  | { readonly ok: false; readonly code: Code; readonly subcode: number; readonly message: string };

const CODE_OF_STATUS: Readonly<Record<number, Code>> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  404: Code.NotFound,
  500: Code.Internal,
  503: Code.Unavailable,
};

/** The ClearML path of an RPC, from its google.api.http annotation. */
export function clearmlPath(method: DescMethodUnary): string {
  const rule = getOption(method, http);
  if (rule.pattern.case === undefined || rule.pattern.case === "custom") {
    throw new Error(`${method.name} has no path`);
  }
  return rule.pattern.value;
}

export async function callAs(
  protocol: Protocol,
  baseUrl: string,
  authorization: string | undefined,
  method: DescMethodUnary,
  body: JsonObject,
): Promise<Outcome> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  if (protocol === "clearml") {
    const res = await clearml(baseUrl, clearmlPath(method), body, { method: "POST", headers });
    if (res.status === 200) return { ok: true, data: res.body.data as JsonObject };
    return {
      ok: false,
      code: CODE_OF_STATUS[res.status] ?? Code.Unknown,
      subcode: res.body.meta.result_subcode,
      message: res.body.meta.result_msg,
    };
  }
  const request = messageFromClearml(method.input, body);
  if (protocol === "connect") {
    const transport = createConnectTransport({ baseUrl, httpVersion: "1.1" });
    try {
      const res = await transport.unary(method, undefined, 10_000, headers, request);
      return { ok: true, data: messageToClearml(method.output, res.message) };
    } catch (error) {
      const e = ConnectError.from(error);
      return {
        ok: false,
        code: e.code,
        subcode: Number(e.metadata.get("muster-result-subcode") ?? "0"),
        message: e.rawMessage,
      };
    }
  }
  const client = grpcJsClient(method.parent, new URL(baseUrl).host);
  try {
    const response = await new Promise<MessageShape<typeof method.output>>((resolve, reject) => {
      client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (m: MessageShape<typeof method.input>) => Buffer.from(toBinary(method.input, m)),
        (b: Buffer) => fromBinary(method.output, b),
        request,
        metadataOf(headers),
        (error, res) => (error || res === undefined ? reject(error) : resolve(res)),
      );
    });
    return { ok: true, data: messageToClearml(method.output, response) };
  } catch (error) {
    const e = error as grpc.ServiceError;
    return {
      ok: false,
      code: e.code as number,
      subcode: Number(e.metadata?.get("muster-result-subcode")[0] ?? "0"),
      message: e.details,
    };
  } finally {
    client.close();
  }
}

export type WatchProtocol = "connect" | "grpc";

/** A WatchWorkers stream: the events as ClearML JSON, and how it ended (undefined while open). */
export interface Watch {
  readonly events: JsonObject[];
  readonly ended: () => Outcome | undefined;
  close(): void;
}

export function watchAs(
  protocol: WatchProtocol,
  baseUrl: string,
  authorization: string | undefined,
): Watch {
  const method: DescMethodServerStreaming = WorkersService.method.watchWorkers;
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const events: JsonObject[] = [];
  let ended: Outcome | undefined;
  if (protocol === "connect") {
    const abort = new AbortController();
    const client = createClient(
      WorkersService,
      createConnectTransport({ baseUrl, httpVersion: "2" }),
    );
    void (async () => {
      try {
        for await (const event of client.watchWorkers({}, { headers, signal: abort.signal })) {
          events.push(messageToClearml(method.output, event));
        }
        ended = { ok: true, data: {} };
      } catch (error) {
        const e = ConnectError.from(error);
        ended = {
          ok: false,
          code: e.code,
          subcode: Number(e.metadata.get("muster-result-subcode") ?? "0"),
          message: e.rawMessage,
        };
      }
    })();
    return { events, ended: () => ended, close: () => abort.abort() };
  }
  const client = grpcJsClient(WorkersService, new URL(baseUrl).host);
  const call = client.makeServerStreamRequest(
    `/${WorkersService.typeName}/${method.name}`,
    (m: MessageShape<typeof method.input>) => Buffer.from(toBinary(method.input, m)),
    (b: Buffer) => fromBinary(method.output, b),
    messageFromClearml(method.input, {}),
    metadataOf(headers),
  );
  call.on("data", (event: MessageShape<typeof method.output>) =>
    events.push(messageToClearml(method.output, event)),
  );
  call.on("error", (error: grpc.ServiceError) => {
    ended = {
      ok: false,
      code: error.code as number,
      subcode: Number(error.metadata?.get("muster-result-subcode")[0] ?? "0"),
      message: error.details,
    };
  });
  call.on("end", () => {
    ended ??= { ok: true, data: {} };
  });
  return {
    events,
    ended: () => ended,
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

function metadataOf(headers: Record<string, string>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
  return metadata;
}
