import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  type ContextValues,
  createConnectRouter,
} from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { isClientGone } from "../core/client-gone.js";
import { truncateForMessage } from "../core/truncate.js";

type NodeHandler = Parameters<typeof universalRequestFromNodeRequest>[0];
type NodeResponse = Parameters<typeof universalResponseToNodeResponse>[1];

export interface NodeAdapterOptions extends ConnectRouterOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** Requests for paths no RPC serves. */
  readonly fallback: (req: NodeHandler, res: NodeResponse) => void;
  readonly contextValues: (req: NodeHandler) => ContextValues;
  readonly log: Logger;
}

/**
 * connect-node's connectNodeAdapter, with the status codes clients are owed where connect-node's
 * own are wrong for muster: a request that is not a valid message (garbage protobuf, zero or two
 * messages for a unary call) is the client's fault, INVALID_ARGUMENT, not INTERNAL/UNIMPLEMENTED;
 * HTTP/1.1 to a bidirectional stream gets an error body, not an empty 505; unknown gRPC paths get
 * grpc-status UNIMPLEMENTED; failures are logged through muster's logger.
 */
export function musterNodeAdapter(options: NodeAdapterOptions) {
  const router = createConnectRouter({
    acceptCompression: [compressionGzip, compressionBrotli],
    ...options,
  });
  options.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  const { log } = options;

  return (req: NodeHandler, res: NodeResponse): void => {
    const handler = paths.get(req.url?.split("?", 1)[0] ?? "");
    if (handler === undefined) {
      if (isGrpcContentType(req.headers["content-type"])) unknownGrpcMethod(req, res);
      else options.fallback(req, res);
      return;
    }
    const uReq = universalRequestFromNodeRequest(req, res, undefined, options.contextValues(req));
    handler(uReq)
      .then((uRes) => correctErrors(uRes, String(req.headers["content-type"] ?? "")))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted || isClientGone(reason)) {
          log.debug({ err: reason }, "client went away");
          return;
        }
        log.error({ err: reason, method: handler.method.name }, "RPC handler failed");
      });
  };
}

/** connect-node's codes and message starts for errors the client caused, and the right code. */
const CLIENT_ERRORS: readonly { code: Code; prefix: string }[] = [
  { code: Code.Internal, prefix: "parse binary:" },
  { code: Code.Unimplemented, prefix: "protocol error: missing input message" },
  { code: Code.Unimplemented, prefix: "protocol error: received extra input message" },
];

function isClientError(code: Code, message: string): boolean {
  return CLIENT_ERRORS.some((e) => e.code === code && message.startsWith(e.prefix));
}

/** Connect's JSON names of the codes touched here. */
const CONNECT_CODE_NAMES: Partial<Record<Code, string>> = {
  [Code.Internal]: "internal",
  [Code.Unimplemented]: "unimplemented",
};

async function correctErrors(
  uRes: UniversalServerResponse,
  requestContentType: string,
): Promise<UniversalServerResponse> {
  const contentType = uRes.header?.get("content-type") ?? "";
  const body = uRes.body;
  if (uRes.status === 505) return http1ToBidiStream(requestContentType);
  if (body === undefined) return uRes;
  if (contentType.startsWith("application/grpc-web")) {
    return { ...uRes, body: mapChunks(body, rewriteGrpcWebTrailerFrame) };
  }
  if (contentType.startsWith("application/grpc")) {
    const trailer = uRes.trailer;
    return {
      ...uRes,
      body: afterLast(body, () => {
        if (trailer !== undefined) rewriteGrpcStatus(trailer);
      }),
    };
  }
  if (contentType.startsWith("application/json") && uRes.status >= 400) {
    return rewriteConnectUnaryError(uRes, body);
  }
  return uRes;
}

/** gRPC's grpc-status / grpc-message pair, rewritten in place when the client caused the error. */
function rewriteGrpcStatus(headers: Headers): void {
  const status = Number(headers.get("grpc-status"));
  const message = safeDecode(headers.get("grpc-message") ?? "");
  if (isClientError(status as Code, message))
    headers.set("grpc-status", String(Code.InvalidArgument));
}

/** gRPC-Web sends its trailers as the body's last frame (flag 0x80, then "name: value\r\n" lines). */
function rewriteGrpcWebTrailerFrame(chunk: Uint8Array): Uint8Array {
  if (chunk.length < 5 || ((chunk[0] ?? 0) & 0x80) === 0) return chunk;
  const length = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).readUInt32BE(1);
  if (chunk.length !== 5 + length) return chunk;
  const headers = new Headers();
  const text = Buffer.from(chunk.subarray(5)).toString("latin1");
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const before = headers.get("grpc-status");
  rewriteGrpcStatus(headers);
  if (headers.get("grpc-status") === before) return chunk;
  let out = "";
  headers.forEach((value, name) => {
    out += `${name}: ${value}\r\n`;
  });
  const payload = Buffer.from(out, "latin1");
  const frame = Buffer.alloc(5 + payload.length);
  frame[0] = chunk[0] ?? 0x80;
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}

/** A Connect unary error: a JSON body {code, message} with an HTTP status derived from the code. */
async function rewriteConnectUnaryError(
  uRes: UniversalServerResponse,
  body: AsyncIterable<Uint8Array>,
): Promise<UniversalServerResponse> {
  // The status is written before the body, so the (small) error body is read first.
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const rewritten = rewriteConnectErrorJson(bytes);
  if (rewritten === undefined) return { ...uRes, body: single(bytes) };
  const header = new Headers(uRes.header);
  header.set("content-length", String(rewritten.length));
  return { ...uRes, status: 400, header, body: single(rewritten) };
}

function rewriteConnectErrorJson(bytes: Buffer): Buffer | undefined {
  let error: { code?: unknown; message?: unknown };
  try {
    error = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  const entry = Object.entries(CONNECT_CODE_NAMES).find(([, name]) => name === error.code);
  if (entry === undefined || typeof error.message !== "string") return undefined;
  if (!isClientError(Number(entry[0]) as Code, error.message)) return undefined;
  return Buffer.from(JSON.stringify({ ...error, code: "invalid_argument" }));
}

/** connect-node answers HTTP/1.1 to a bidirectional stream with an empty 505. */
function http1ToBidiStream(requestContentType: string): UniversalServerResponse {
  const message = "this RPC is a bidirectional stream: call it over HTTP/2 (gRPC or Connect)";
  if (requestContentType.startsWith("application/grpc-web")) {
    const header = new Headers({
      "content-type": "application/grpc-web+proto",
      "grpc-status": String(Code.Unimplemented),
      "grpc-message": encodeURIComponent(message),
    });
    return { status: 200, header };
  }
  const header = new Headers({ "content-type": "application/json" });
  return {
    status: 505,
    header,
    body: single(Buffer.from(JSON.stringify({ code: "unimplemented", message }))),
  };
}

/** A gRPC (or gRPC-Web) call to a path no RPC serves: trailers-only UNIMPLEMENTED. */
function unknownGrpcMethod(req: NodeHandler, res: NodeResponse): void {
  const contentType = String(req.headers["content-type"]);
  const message = `unknown method ${truncateForMessage(req.url ?? "")}`;
  res.writeHead(200, {
    "content-type": contentType.startsWith("application/grpc-web")
      ? "application/grpc-web+proto"
      : "application/grpc",
    "grpc-status": String(Code.Unimplemented),
    "grpc-message": encodeURIComponent(message),
  });
  res.end();
  // Whatever the client still sends is not read.
  req.resume();
}

function isGrpcContentType(value: string | undefined): boolean {
  return value?.startsWith("application/grpc") ?? false;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function* mapChunks(
  body: AsyncIterable<Uint8Array>,
  map: (chunk: Uint8Array) => Uint8Array,
): AsyncIterable<Uint8Array> {
  for await (const chunk of body) yield map(chunk);
}

async function* afterLast(
  body: AsyncIterable<Uint8Array>,
  done: () => void,
): AsyncIterable<Uint8Array> {
  yield* body;
  done();
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
